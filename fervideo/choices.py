"""The values the command line offers before any model loads, kept light so that `--help` needs no torch."""

from __future__ import annotations

DEFAULT_MODEL = "fernet_plus"  # what `fervideo analyze` uses with no --model: chosen for real faces
PRECISIONS = ("auto", "fp32", "bf16")  # classifier arithmetic; auto: bf16 where the hardware does it natively
