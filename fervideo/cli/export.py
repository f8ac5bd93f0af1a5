"""fervideo export: an earlier result in the formats of annotation tools (ELAN, BORIS)."""

from __future__ import annotations

import argparse

from fervideo.cli.common import EXIT_OK, add_quiet, printable
from fervideo.cli.console import err
from fervideo.cli.values import export_formats, path_arg


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    export = commands.add_parser("export", help="write an earlier result (its CSV and JSON) for ELAN or BORIS")
    export.add_argument("csv", type=path_arg, metavar="RESULT.csv", help="a CSV written by analyze, its JSON beside it")
    export.add_argument(
        "--format",
        dest="formats",
        type=export_formats,
        required=True,
        metavar="FORMATS",
        help="eaf (ELAN), boris (a BORIS project and a time series per face), or both: eaf,boris",
    )
    export.add_argument("-o", "--out-dir", type=path_arg, help="where the files go (default: the CSV's folder)")
    add_quiet(export)
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Write the files; episodes are cut with the minimum the analysis used (the JSON's episodes.min_seconds)."""
    from fervideo.core.journal import recover
    from fervideo.outputs.exports import export_result

    recover(args.csv.parent)  # a commit that a crash cut short there: finished before its CSV and JSON are read
    written = export_result(args.csv, args.formats, args.out_dir)
    if not args.quiet:
        for path in written:
            err.print(f"  {printable(path)}")
    return EXIT_OK
