"""How far a decision rule can carry trained models toward targets on two label sets at once.

    python -m training.frontier --checkpoint fervideo/weights/fernet.pt runs/fernet_over33.pt ... \
        --data ../shared/fer2013 --labels ../shared/fer2013/ferplus.csv [--max-members 3]

For every ensemble of up to --max-members checkpoints (mean log-probabilities), a random coordinate search finds the
per-class bias added to them that scores best on FER+ val (majority labels) while FER2013 val (folder labels) keeps
--min-accuracy and every class --min-recall; then the reverse: the best FER2013 val while FER+ val keeps
--min-ferplus. The bias is tuned on the very faces it is scored on, so each figure is an upper bound of what such a
rule (logit adjustment is one with a single parameter) gets from these models: where it falls short of a target,
no rule will reach it and only a better model can.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from fervideo.cli.common import HelpFormatter
from fervideo.data.dataset import load_split
from fervideo.data.ferplus import majority_split
from fervideo.engine.checkpoint import build_model, load_checkpoint
from training.cli import script
from training.prior import logits_of

PENALTY = 100.0  # once the floors hold, no gain is worth a step below them


class Scored(NamedTuple):
    """One decision rule's figures on the two validation label sets."""

    fer2013: float  # accuracy on FER2013 val, folder labels
    min_recall: float  # the lowest class recall there
    ferplus: float  # accuracy on FER+ val, majority labels


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities of logits (N, C)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def scored(folder: tuple[np.ndarray, np.ndarray], plus: tuple[np.ndarray, np.ndarray], bias: np.ndarray) -> Scored:
    """FER2013 val accuracy and lowest recall, FER+ val accuracy, of argmax(log p + bias); each (log p, labels)."""
    guess = (folder[0] + bias).argmax(axis=1)
    recalls = [float((guess[folder[1] == c] == c).mean()) for c in np.unique(folder[1])]
    plus_right = (plus[0] + bias).argmax(axis=1) == plus[1]
    return Scored(float((guess == folder[1]).mean()), min(recalls), float(plus_right.mean()))


def search(objective, start: np.ndarray, iters: int, seed: int) -> np.ndarray:
    """The bias a random coordinate search from start finds to maximise objective(bias)."""
    rng = np.random.default_rng(seed)
    bias, best, step = start, objective(start), 1.0
    for i in range(iters):
        trial = bias.copy()
        trial[rng.integers(len(bias))] += rng.normal() * step
        value = objective(trial)
        if value >= best:  # ties move too: plateaus of argmax rules are wide
            bias, best = trial, value
        if (i + 1) % 500 == 0:
            step *= 0.6
    return bias


def best_within(folder, plus, gain, shortfall, iters: int, seed: int, restarts: int = 3) -> Scored:
    """The most gain a bias reaches with no shortfall (else the least shortfall), best of a few restarts."""
    figures = lambda bias: scored(folder, plus, bias)  # noqa: E731
    found = []
    for run in range(seed, seed + 2 * restarts, 2):
        # The floors first, then the gain from there: from zero, a search weighing both can stall short of the floors.
        feasible = search(lambda b: -shortfall(figures(b)), np.zeros(folder[0].shape[1]), iters, run)
        found.append(
            figures(search(lambda b: gain(figures(b)) - PENALTY * shortfall(figures(b)), feasible, iters, run + 1))
        )
    return max(found, key=lambda s: (-shortfall(s), gain(s)))


def best_ferplus(folder, plus, min_accuracy: float, min_recall: float, iters: int = 1000, seed: int = 0) -> Scored:
    """The highest FER+ val accuracy a per-class bias reaches while FER2013 val keeps both floors."""

    def shortfall(s: Scored) -> float:
        return max(0.0, min_accuracy - s.fer2013) + max(0.0, min_recall - s.min_recall)

    return best_within(folder, plus, lambda s: s.ferplus, shortfall, iters, seed)


def best_fer2013(folder, plus, min_ferplus: float, iters: int = 1000, seed: int = 0) -> Scored:
    """The highest FER2013 val accuracy plus lowest recall a per-class bias reaches while FER+ val keeps its floor."""
    return best_within(
        folder, plus, lambda s: s.fer2013 + s.min_recall, lambda s: max(0.0, min_ferplus - s.ferplus), iters, seed
    )


def fraction(text: str) -> float:
    """A floor between 0 and 1, for argparse."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def ensemble_size(text: str) -> int:
    """An ensemble size of at least 1, for argparse."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.frontier", formatter_class=HelpFormatter, description=__doc__.splitlines()[0]
    )
    parser.add_argument("--checkpoint", type=Path, nargs="+", required=True, help="checkpoints to ensemble")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 (folders, csv or pack)")
    parser.add_argument("--labels", type=Path, required=True, help="the FER+ votes CSV")
    parser.add_argument("--max-members", type=ensemble_size, default=3, help="largest ensemble tried")
    parser.add_argument("--min-accuracy", type=fraction, default=0.67, help="FER2013 val accuracy floor")
    parser.add_argument("--min-recall", type=fraction, default=0.45, help="FER2013 val floor of every class's recall")
    parser.add_argument("--min-ferplus", type=fraction, default=0.87, help="FER+ val accuracy floor of the reverse")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    """Print, per ensemble, the best each way a per-class bias gets; return the rows."""
    return table(parse_args(argv))


def table(args: argparse.Namespace) -> list[dict]:
    """main() on parsed arguments."""
    val = load_split(args.data, "val")
    plus = majority_split(args.data, "val", val, args.labels)
    stems = [path.stem for path in args.checkpoint]
    members = {}
    for path in args.checkpoint:
        model, spec = build_model(load_checkpoint(path))
        name = path.stem if stems.count(path.stem) == 1 else str(path)
        members[name] = tuple(log_softmax(logits_of(model, spec, s.images)) for s in (val, plus))
    print(
        f"| ensemble | FER2013 >= {args.min_accuracy:.0%}, recalls >= {args.min_recall:.0%}: "
        "FER2013, lowest recall, FER+ "
        f"| FER+ >= {args.min_ferplus:.0%}: FER2013, lowest recall, FER+ |\n|---|---|---|"
    )
    rows = []
    for size in range(1, min(args.max_members, len(members)) + 1):
        for names in itertools.combinations(members, size):
            folder = (sum(members[n][0] for n in names) / size, val.labels)
            ferplus = (sum(members[n][1] for n in names) / size, plus.labels)
            one = best_ferplus(folder, ferplus, args.min_accuracy, args.min_recall)
            two = best_fer2013(folder, ferplus, args.min_ferplus)
            held = (
                one.fer2013 >= args.min_accuracy and one.min_recall >= args.min_recall,
                two.ferplus >= args.min_ferplus,
            )
            rows.append(
                {"members": list(names), "fer2013_floor": {**one._asdict(), "held": held[0]}}
                | {"ferplus_floor": {**two._asdict(), "held": held[1]}}
            )
            cells = [
                ", ".join(f"{v:.1%}" for v in s) + ("" if ok else " (floor missed)")
                for s, ok in ((one, held[0]), (two, held[1]))
            ]
            print(f"| {' + '.join(names)} | {cells[0]} | {cells[1]} |", flush=True)
    return rows


if __name__ == "__main__":
    script(table, parse_args)
