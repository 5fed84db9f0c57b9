"""Sphinx configuration of the numopt documentation (``make docs``)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import numopt  # noqa: E402

project = "numopt"
author = "numopt developers"
release = version = numopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "mathml_math",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_ext"]

# Formulas become MathML at build time (docs/_ext/mathml_math.py): the pages work offline.
html_math_renderer = "mathml"
templates_path = []

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_validation_checks = set()

# Examples in pages are executed only when asked for: the test suite runs the notebooks (nbmake).
nb_execution_mode = os.environ.get("NUMOPT_DOCS_EXECUTE", "off")
nb_execution_timeout = 120
myst_enable_extensions = ["dollarmath", "colon_fence"]

html_theme = "pydata_sphinx_theme"
html_title = f"numopt {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2, "header_links_before_dropdown": 12}
# The family pages have no sub-pages: the top bar lists every page, the right-hand bar each page's sections.
html_sidebars = {"**": []}
suppress_warnings = ["mystnb.unknown_mime_type"]
