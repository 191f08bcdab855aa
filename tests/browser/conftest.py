"""A headless Debian Chromium that may reach nothing but this machine, and a local static server.

``browser_page`` gives a fresh page whose every request goes through a router: http(s) to
127.0.0.1/localhost/[::1], ``file:`` and ``data:``/``blob:`` pass; anything else is aborted and its
URL recorded in ``blocked``, so a test can assert that nothing was even attempted. Page errors,
console errors, failed requests, HTTP errors and dialogs (``alert``) are recorded too.

Chromium is Debian's (/usr/bin/chromium, installed by the setup): Playwright cannot download its own
browsers here. The tests skip, saying so, only when that binary is missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

CHROMIUM = Path(os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-domain-reliability",
    "--disable-sync",
    # a second fence behind the router: no host name resolves except the loopback ones
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


def is_local(url: str) -> bool:
    """True for URLs this machine serves: loopback http(s), file:, data:, blob:, about:."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class BrowserPage:
    """A Playwright page with what it tried to load and what went wrong."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def problems(self) -> dict[str, list[str]]:
        """Every recorded failure, keyed by kind; empty lists are left out."""
        kinds = ("blocked", "failed", "http_errors", "page_errors", "console_errors", "dialogs")
        return {k: getattr(self, k) for k in kinds if getattr(self, k)}


@pytest.fixture(scope="session")
def _browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: browser tests need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser: Browser) -> Iterator[BrowserPage]:
    """A fresh page (own context) whose non-local requests are aborted and recorded."""
    context = _browser.new_context(viewport={"width": 1024, "height": 768}, service_workers="block")
    page = context.new_page()
    record = BrowserPage(page=page)

    def route(r: Route) -> None:
        url = r.request.url
        record.requests.append(url)
        if is_local(url):
            r.continue_()
        else:
            record.blocked.append(url)
            r.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            record.console_errors.append(message.text)

    def on_failed(request: Request) -> None:
        # ERR_ABORTED is the page cancelling a request itself (Leaflet drops tiles it no longer needs)
        if is_local(request.url) and "ERR_ABORTED" not in str(request.failure):
            record.failed.append(f"{request.url} {request.failure}")

    def on_response(response: Response) -> None:
        # the browser asks for a favicon by itself; our pages do not link one
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            record.http_errors.append(f"{response.status} {response.url}")

    def on_dialog(dialog: Dialog) -> None:
        record.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", route)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("dialog", on_dialog)
    page.on("websocket", lambda ws: record.blocked.append(ws.url))
    yield record
    context.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve_dir() -> Iterator[Callable[[Path], str]]:
    """Call with a folder to serve it on 127.0.0.1 (a free port); returns the base URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(root: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
