"""Hypothesis strategies shared by the property-based tests of the engine and the outputs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def frame_and_boxes(draw) -> tuple[int, int, np.ndarray]:
    """A frame size and 0-4 boxes anywhere from well before to well past its edges, some degenerate."""
    height, width = draw(st.integers(1, 120)), draw(st.integers(1, 120))
    boxes = []
    for _ in range(draw(st.integers(0, 4))):
        x0 = draw(st.floats(-1.5 * width, 1.5 * width, allow_nan=False))
        y0 = draw(st.floats(-1.5 * height, 1.5 * height, allow_nan=False))
        w = draw(st.floats(0, 2.0 * width, allow_nan=False))
        h = draw(st.floats(0, 2.0 * height, allow_nan=False))
        boxes.append((x0, y0, x0 + w, y0 + h))
    return height, width, np.array(boxes, np.float32).reshape(-1, 4)
