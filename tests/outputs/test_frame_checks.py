"""The video sinks refuse a frame of the wrong size, even under python -O."""

from __future__ import annotations


def test_a_frame_of_the_wrong_size_is_refused_even_under_python_O(tmp_path):
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from fervideo.outputs.sinks import VideoSink\n"
        "from fervideo.core.errors import OutputError\n"
        f"sink = VideoSink({str(tmp_path / 'v.mp4')!r}, 10.0, 64, 32)\n"
        "try:\n"
        "    sink.write(np.zeros((48, 64, 3), np.uint8))\n"
        "except OutputError as exc:\n"
        "    print('refused:', exc)\n"
        "sink.discard()\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True, timeout=60)
    assert "refused: a (48, 64, 3) uint8 frame does not fit a 64x32 BGR video" in done.stdout, done.stderr
