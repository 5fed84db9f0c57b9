"""Markdown tables in the docs: every row has as many cells as its header (a stray '|' splits a cell)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _cells(line: str) -> int:
    return len(re.split(r"(?<!\\)\|", line.strip().strip("|")))


def _tables():
    for page in sorted(DOCS.glob("*.md")):
        rows = []
        for number, line in enumerate(page.read_text().splitlines() + [""], start=1):
            if line.startswith("|"):
                rows.append((number, line))
            elif rows:
                yield page.name, rows
                rows = []


@pytest.mark.parametrize("page, rows", list(_tables()), ids=lambda v: v if isinstance(v, str) else str(v[0][0]))
def test_rows_have_the_header_width(page, rows):
    width = _cells(rows[0][1])
    for number, line in rows:
        assert _cells(line) == width, f"{page}:{number} has {_cells(line)} cells, the header {width}: {line}"
