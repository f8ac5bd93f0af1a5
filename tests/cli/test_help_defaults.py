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
