"""fervideo.outputs.encoder: sound longer than the picture is cut with it."""

from __future__ import annotations

from tests.conftest import SAMPLE
from tests.helpers import run


def test_sound_longer_than_the_picture_is_cut_with_it(tmp_path, capsys):
    import subprocess

    from fervideo.core.media import ffmpeg_exe, probe

    clip = tmp_path / "long_sound.mp4"
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=12"]
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(SAMPLE),
            *tone,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            str(clip),
        ],
        check=True,
        timeout=120,
    )
    assert probe(clip).duration > 11  # the container runs as long as its sound
    code, err = run(capsys, "analyze", str(clip), "-o", str(tmp_path / "out"), "--every", "10")
    assert code == 0, err
    written = probe(tmp_path / "out" / "long_sound.annotated.mp4")
    assert written.audio_codec is not None and written.duration < 6.5  # the picture's 6 s, not 12
