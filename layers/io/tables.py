"""Cells of CSV files that spreadsheets must not read as numbers.

A grid code (15 digits), a community code or a case number read by a spreadsheet as a number
loses what makes it a code: LibreOffice and Excel show ``3.20581107003004E+14``, and pandas turns
a column with an empty cell into floats (``320581107003004.0``). ``code_text`` writes such a cell
with a leading tab, which spreadsheets take as text (the cell is not a number) and which leaves
the code itself readable and unchanged for programs: ``pd.read_csv(path, dtype=str)`` then
``.str.strip()``. The ``="…"`` form was not chosen: it is a formula, shown as written wherever
formulas are not evaluated on import, and programs must parse it.
"""

from __future__ import annotations

from typing import Any

CODE_PREFIX = "\t"


def code_text(value: Any) -> Any:
    """A code cell as text for spreadsheets (empty stays empty)."""
    if value is None or value == "":
        return value
    return CODE_PREFIX + str(value)
