"""Reading the fields of a JSON summary that may have been edited by hand: any value can be anything there.

The pages built from a summary (the report, its viewer, the batch overview) take its parts through these, so a
string where a number was, NaN, or markup neither crashes them nor ends up in a page as anything but text.
"""

from __future__ import annotations

import math


def section(summary: object, key: str) -> dict:
    """summary[key] where both are dicts, else an empty dict."""
    value = summary.get(key) if isinstance(summary, dict) else None
    return value if isinstance(value, dict) else {}


def number(value: object, default: float | None = None, least: float = -math.inf) -> float | None:
    """value as a float where it is a finite number of at least least (True is no number), else default."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= least
    return float(value) if ok else default


def shown(value: object) -> str:
    """A field as a page shows it, before escaping: numbers short (6 significant digits), anything else as text."""
    return f"{value:g}" if number(value) is not None else ("" if value is None else str(value))
