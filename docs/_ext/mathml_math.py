"""Render math as MathML when the HTML is built, so the pages need no script and no network.

Browsers display MathML natively; the LaTeX of each formula is converted by ``latex2mathml``.
A formula it cannot convert is shown as its LaTeX source in a ``<code>`` element, with a build warning.
"""

from __future__ import annotations

import html

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _mathml(latex: str, display: str, node) -> str:
    try:
        return convert(latex, display=display)
    except Exception as exc:  # noqa: BLE001 - any converter failure falls back to the source text
        logger.warning("math not converted to MathML (%s): %s", exc, latex, location=node)
        return f"<code class=\"math-source\">{html.escape(latex)}</code>"


def visit_inline(self, node):
    self.body.append(_mathml(node.astext(), "inline", node))
    raise nodes.SkipNode


def visit_block(self, node):
    latex = node.astext()
    number = ""
    if node.get("number"):
        number = f"<span class=\"eqno\">({node['number']})</span>"
    self.body.append(f"<div class=\"math-block\" id=\"{node.get('label') or ''}\">"
                     f"{_mathml(latex, 'block', node)}{number}</div>")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_inline, None), (visit_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
