"""The values the command line offers before any model loads, kept light so that `--help` needs no torch."""

from __future__ import annotations

DEFAULT_MODEL = "fernet_plus"  # what `fervideo analyze` uses with no --model: chosen for real faces
# classifier arithmetic; auto: the shipped int8 file on ONNX Runtime, else bf16 where torch has it natively
PRECISIONS = ("auto", "fp32", "bf16", "int8")
RUNTIMES = ("auto", "onnx", "torch")  # auto: ONNX Runtime for the shipped models, torch for other checkpoints
# what a lean install (ONNX Runtime only) is told when a command needs torch: the torch extra's packages by name,
# which works however fervideo was installed (from a wheel, a checkout or an index)
TORCH_HINT = "pip install torch torchvision einops to train, to list the whole model zoo or to run .pt checkpoints"
