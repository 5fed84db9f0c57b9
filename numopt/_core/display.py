"""HTML tables for Jupyter: how results, solvers and problems show themselves in a notebook."""

from __future__ import annotations

import html

__all__ = ["html_table"]


def html_table(title: str, rows: dict) -> str:
    """A two-column HTML table (name, value) under a bold title; values are shown with ``str``.

    Examples
    --------
    >>> text = html_table("result", {"success": True})
    >>> text.startswith("<div><b>result</b><table><tr>") and "<code>success</code>" in text
    True
    """
    cells = "".join(
        f'<tr><td style="text-align:left"><code>{html.escape(str(key))}</code></td>'
        f'<td style="text-align:left">{html.escape(str(value)).replace(chr(10), "<br>")}</td></tr>'
        for key, value in rows.items()
    )
    return f"<div><b>{html.escape(title)}</b><table>{cells}</table></div>"
