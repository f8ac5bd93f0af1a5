"""--help shows each default as a user would type it, never as Python's repr of it (issue 33)."""

from __future__ import annotations

import re

from fervideo.cli import main


def test_no_option_shows_an_empty_tuple_or_list_as_its_default(capsys):
    for command in ("analyze", "batch"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help at any space
        assert not re.search(r"\(default: (\(\)|\[\])\)", text), command
        assert re.search(r"--export FORMATS .*?\(default: none\)", text), command


def test_the_docs_say_how_the_python_api_and_the_cli_smooth_by_default():
    """analyze_video is raw by default and the CLI smooths: README's "In Python" and the docs' Python say so."""
    from fervideo.cli.common import DEFAULT_SMOOTH
    from fervideo.engine.pipeline import AnalyzeOptions
    from tests.conftest import ROOT

    assert AnalyzeOptions().smooth == 0 and DEFAULT_SMOOTH == 0.2
    readme = " ".join((ROOT / "README.md").read_text().split("**In Python.**")[1].split("## ")[0].split())
    python = " ".join(
        (ROOT / "docs" / "how-it-works.md").read_text().split("\n## Python\n")[1].split("\n## ")[0].split()
    )
    for text in (readme, python):
        assert "raw, frame by frame" in text and f"smooth={DEFAULT_SMOOTH}" in text, text[:300]
