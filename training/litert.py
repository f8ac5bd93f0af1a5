"""A TFLite file on LiteRT behind ONNX Runtime's session interface: what the converted models are compared with.

training/tflite_onnx.py, tests/engine/test_tflite_onnx.py and benchmarks/litert_onnx.py put it where fervideo's
face models expect an onnxruntime.InferenceSession (fervideo.engine.onnx_model.session), so that the detector and
the mesh run on either runtime with the same pre- and post-processing. Needs ai-edge-litert (the dev extra).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np


class LiteRTSession:
    """A TFLite file on LiteRT behind the part of ONNX Runtime's InferenceSession fervideo uses, for comparisons.

    get_inputs(), get_outputs() (name, shape) and run(None, feed), the outputs in the model's order, which the
    converted file keeps. A batch runs at once where the model keeps the batch axis (the detectors, the mesh),
    else one item at a time (the iris model flattens its batch into one row).
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._batch, self._batches = 1, True

    def get_inputs(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=self._input["name"], shape=["batch", *self._input["shape"][1:]])]

    def get_outputs(self) -> list[SimpleNamespace]:
        details = self.interpreter.get_output_details()
        return [SimpleNamespace(name=d["name"], shape=["batch", *d["shape"][1:]]) for d in details]

    def run(self, names: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The outputs for one input batch, as InferenceSession.run(None, feed) gives them."""
        (x,) = feed.values()
        if len(x) != self._batch and self._batches:
            self._resize(len(x))
        if len(x) == self._batch:
            return self._invoke(x)
        parts = [self._invoke(item[None]) for item in x]
        return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]

    def _resize(self, batch: int) -> None:
        """Batch size batch, where the model keeps the batch axis in its outputs; else one item at a time."""
        shape = [batch, *self._input["shape"][1:]]
        self.interpreter.resize_tensor_input(self._input["index"], shape)
        self.interpreter.allocate_tensors()
        self._batch = batch
        if any(d["shape"][0] != batch for d in self.interpreter.get_output_details()):
            self._resize(1)
            self._batches = False

    def _invoke(self, x: np.ndarray) -> list[np.ndarray]:
        self.interpreter.set_tensor(self._input["index"], np.ascontiguousarray(x, np.float32))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]) for d in self.interpreter.get_output_details()]
