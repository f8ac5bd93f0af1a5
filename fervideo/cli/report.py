"""fervideo report: the HTML report of a result that analyze wrote earlier."""

from __future__ import annotations

import argparse

from fervideo.cli.common import EXIT_OK, add_quiet, printable
from fervideo.cli.console import err
from fervideo.cli.values import path_arg


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    report = commands.add_parser("report", help="write the HTML report of an earlier result (its CSV and JSON)")
    report.add_argument("csv", type=path_arg, metavar="RESULT.csv", help="a CSV written by analyze, its JSON beside it")
    report.add_argument("-o", "--out-dir", type=path_arg, help="default: the CSV's folder")
    add_quiet(report, what="errors and warnings")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Write CLIP.report.html and CLIP.timeline.png; faces come from the source video when it is still there."""
    from fervideo.core.journal import recover
    from fervideo.core.signals import check, deferred

    # numpy turns a Ctrl-C that lands while a native extension (OpenCV) loads into an ImportError, which an
    # optional import may swallow: so they load here, with stops held back, not midway through the report
    with deferred():
        from fervideo.outputs.report import report_from_result

    recover(args.csv.parent)  # a commit that a crash cut short there: finished before its CSV and JSON are read
    paths, warnings = report_from_result(args.csv, args.out_dir)
    check()  # a stop that a library swallowed all the same: the report is in place, the exit status says stopped
    for warning in warnings:
        err.warning(warning)
    if not args.quiet:
        for kind, path in paths.items():
            err.print(f"  {kind:8s} {printable(path)}")
    return EXIT_OK
