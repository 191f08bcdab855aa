"""Screenshots of every page for docs/screenshots/, taken on the demo town with the network cut.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--db data/screenshots.sqlite3]

Creates (once) a SpatiaLite database with the demo town, serves it with Django on a free local
port, and drives Debian's Chromium (Playwright) through each role's pages. Every request that is
not to this machine is aborted; a page that tries one, or raises a script error, stops the run.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "gridmap-demo"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
READY = "() => window.gridmap && window.gridmap.ready === true"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "DATABASE_URL": f"spatialite:///{db}", "DEBUG": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not db.exists():
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
        subprocess.run([*manage, "load_demo"], env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start")


def _local(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:")) or bool(re.match(r"https?://127\.0\.0\.1[:/]", url))


def _router(name: str, errors: list[str]):  # type: ignore[no-untyped-def]
    def route(r) -> None:  # type: ignore[no-untyped-def]
        if _local(r.request.url):
            r.continue_()
        else:
            errors.append(f"{name}: external request {r.request.url}")
            r.abort()

    return route


def _wait_maps(page: Page) -> None:
    """Wait until every map on the page (itself or its frames) says it is ready."""
    for frame in page.frames:
        if frame.evaluate("() => typeof window.gridmap === 'object' && 'ready' in window.gridmap"):
            frame.wait_for_function(READY, timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "screenshots.sqlite3")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    server, base = _serve(args.db.resolve())
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            for user, path, name, viewport in SHOTS:
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                context.route("**/*", _router(name, errors))
                page = context.new_page()
                page.on("pageerror", lambda e, name=name: errors.append(f"{name}: {e}"))
                if user:
                    page.goto(f"{base}/login/")
                    page.fill("input[name=username]", user)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state("networkidle")
                target = path(page, base) if callable(path) else path
                page.goto(f"{base}{target}")
                page.wait_for_load_state("networkidle")
                _wait_maps(page)
                page.screenshot(path=str(args.out / f"{name}.png"))
                print(f"{name}.png  {user or 'anonymous'}  {target}")
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    if errors:
        raise SystemExit("\n".join(errors))


def _first_link(pattern: str, on: str) -> object:
    """A path found on page ``on``: the first link whose path matches the regular expression."""

    def find(page: Page, base: str) -> str:
        page.goto(f"{base}{on}")
        paths = page.eval_on_selector_all("a[href]", "links => links.map(a => new URL(a.href).pathname)")
        for path in paths:
            if re.fullmatch(pattern, path):
                return path
        raise SystemExit(f"no link like {pattern} on {on}")

    return find


# (user, path or finder, file name, viewport)
SHOTS = [
    (None, "/login/", "login", DESKTOP),
    ("leader_01", "/dashboard/", "dashboard-leader", DESKTOP),
    ("leader_01", _first_link(r"/grids/\d+/", "/grids/"), "grid-map", DESKTOP),
    ("head_1", _first_link(r"/communities/\d+/", "/dashboard/"), "community-map", DESKTOP),
    ("leader_01", _first_link(r"/grids/\d+/", "/grids/"), "grid-map-phone", PHONE),
    ("demo_planner", "/planner/", "planner-map", DESKTOP),
    ("inspector_1", "/route/", "route-phone", PHONE),
    ("dept_cg", "/problems/", "problem-list", DESKTOP),
    ("leader_01", _first_link(r"/problems/\d+/", "/problems/"), "problem-detail", DESKTOP),
    ("reporter_1", "/problems/report/", "report-form", PHONE),
    ("head_1", "/evaluation/figures/", "figures", DESKTOP),
    ("demo_admin", "/grids/", "grid-list", DESKTOP),
    ("leader_01", "/inbox/", "inbox-phone", PHONE),
    ("head_1", _first_link(r"/steps/\d+/", "/steps/"), "ten-steps-phone", PHONE),
    ("demo_planner", "/steps/", "ten-steps-progress", DESKTOP),
    ("inspector_1", "/patrols/", "patrol-phone", PHONE),
    ("inspector_1", "/patrols/not-walked/", "patrol-not-walked", DESKTOP),
    ("demo_admin", _first_link(r"/campaign/rounds/\d+/", "/campaign/"), "campaign-round", DESKTOP),
    ("demo_admin", "/campaign/readiness/ranking/", "readiness-ranking", DESKTOP),
    ("demo_planner", _first_link(r"/surveys/\d+/", "/surveys/"), "survey-results", DESKTOP),
]

if __name__ == "__main__":
    main()
