"""fervideo.engine.source: a phone video with a display rotation is read upright."""

from __future__ import annotations

from tests.conftest import SAMPLE
from tests.helpers import run


def ffmpeg(*args: str) -> None:
    import subprocess

    from fervideo.core.media import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=120)


def test_a_phone_video_with_a_display_rotation_is_analysed_upright(tmp_path, capsys):
    from tests.helpers import read_json, video_shape

    rotated = tmp_path / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(SAMPLE), "-c", "copy", str(rotated))
    code, err = run(capsys, "analyze", str(rotated), "-o", str(tmp_path / "out"), "--every", "10")
    assert code == 0, err
    summary = read_json(tmp_path / "out" / "portrait.json")
    assert (summary["input"]["width"], summary["input"]["height"]) == (360, 640)
    assert video_shape(tmp_path / "out" / "portrait.annotated.mp4")[1:] == (360, 640)
    assert summary["counts"]["frames_with_face"] > 0  # the faces are found upright
