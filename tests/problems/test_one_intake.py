"""A problem is inserted in one place: the intake package (``gridmap/problems/intake/``). No other
module of the project creates one, so every door shares its decisions, its report event and its
idempotency."""

from __future__ import annotations

import re
from pathlib import Path

import gridmap

ROOT = Path(gridmap.__file__).parent
INTAKE = ROOT / "problems" / "intake"
INSERT = re.compile(r"\bProblem\.objects\.(create|bulk_create|get_or_create|update_or_create)\b|\bProblem\(")


def test_no_problem_is_inserted_outside_the_intake_package():
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in ROOT.rglob("*.py")
        if INTAKE not in path.parents and "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INSERT.search(line) and not line.lstrip().startswith("class ")
    ]
    assert found == []


def test_problem_intake_is_defined_once():
    defined = [
        p
        for p in ROOT.rglob("*.py")
        if re.search(r"^def problem_intake\(", p.read_text(encoding="utf-8"), re.M)
    ]
    assert defined == [INTAKE / "service.py"]
