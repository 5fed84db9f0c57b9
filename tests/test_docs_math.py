"""Every formula in the docs converts to MathML at build time (the pages need no MathJax and no network)."""

import re
from pathlib import Path

import pytest

latex2mathml = pytest.importorskip("latex2mathml.converter")

DOCS = Path(__file__).resolve().parent.parent / "docs"
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)\$")


def _formulas():
    for page in sorted(DOCS.glob("*.md")):
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code blocks hold no math
        text = re.sub(r"`[^`\n]*`", "", text)
        for match in DISPLAY.finditer(text):
            yield page.name, match.group(1).strip()
        for match in INLINE.finditer(DISPLAY.sub("", text)):
            yield page.name, match.group(1).strip()


FORMULAS = list(_formulas())


def test_the_docs_have_math():
    assert len(FORMULAS) > 20


@pytest.mark.parametrize("page, latex", FORMULAS)
def test_formula_converts_to_mathml(page, latex):
    mathml = latex2mathml.convert(latex)
    assert mathml.startswith("<math") and "<merror" not in mathml


def test_docs_use_the_offline_renderer():
    conf = (DOCS / "conf.py").read_text()
    assert '"mathml_math"' in conf and "sphinx.ext.mathjax" not in conf
