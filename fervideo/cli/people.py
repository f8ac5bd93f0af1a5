"""Who is who: re-identification and the participant, the same for analyze, batch and live."""

from __future__ import annotations

import argparse


def add_people_options(parser: argparse.ArgumentParser) -> None:
    """--max-people, --no-reid and --participant."""
    parser.add_argument(
        "--max-people",
        type=int,
        metavar="N",
        help="there are at most N people: a face that appears when N have been seen is the nearest one out of view "
        "(default: any number; a face that comes back keeps its id either way)",
    )
    parser.add_argument(
        "--no-reid",
        action="store_true",
        help="no re-identification: a face that comes back after the tracker lost it gets a new id",
    )
    parser.add_argument(
        "--participant",
        default="everyone",
        metavar="WHO",
        help="keep one person in the outputs: largest or center (chosen where faces first appear, then followed), "
        "or a face id; everyone: all faces",
    )
