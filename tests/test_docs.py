"""Every command line in the README and docs/ parses with the current CLI: options that exist, valid choices."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest

from fervideo.cli import build_parser
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")


def command_lines(path: Path) -> list[str]:
    """fervideo and python -m training.* lines in fenced blocks and inline code, continuations joined."""
    text = path.read_text()
    blocks = [block.replace("\\\n", " ") for block in FENCE.findall(text)]
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    lines += INLINE.findall(FENCE.sub("", text))
    found = []
    for line in lines:
        line = re.sub(r"^(\$ |\.venv/bin/)", "", line.split(" #")[0].strip())
        if line.startswith("fervideo ") or re.match(r"(\.venv/bin/)?python -m training\.\w+", line):
            found.append(line)
    return found


def parse(line: str) -> None:
    """Parse one documented command line with the parser it names; SystemExit when it does not parse."""
    argv = shlex.split(line)
    if argv[0] == "fervideo":
        build_parser().parse_args(argv[1:])
        return
    module = importlib.import_module(argv[2])
    module.parse_args(argv[3:])


CASES = [(path.name, line) for path in DOCS for line in command_lines(path)]


def test_the_docs_show_commands_at_all():
    assert len([case for case in CASES if case[0] == "README.md"]) >= 10


@pytest.mark.parametrize(("doc", "line"), CASES, ids=[f"{doc}:{line[:60]}" for doc, line in CASES])
def test_a_documented_command_parses(doc, line, capsys):
    assert "..." not in line, f"{doc}: a placeholder in {line!r}"
    try:
        parse(line)
    except SystemExit as exc:
        if exc.code not in (0, None):  # --help exits 0
            pytest.fail(f"{doc}: {line!r} does not parse: {capsys.readouterr().err.strip()}")


def test_a_wrong_option_would_be_caught():
    with pytest.raises(SystemExit):
        parse("fervideo analyze clip.mp4 --no-such-option")
    with pytest.raises(SystemExit):
        parse("fervideo analyze clip.mp4 --detector best")
