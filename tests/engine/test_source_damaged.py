"""fervideo.engine.source on damaged photos: truncated JPEGs read with a warning, decoders that stay quiet."""

import cv2
import numpy as np
import pytest

from fervideo.core.errors import InputError
from fervideo.engine.source import VideoSource


def jpeg_bytes(image: np.ndarray, **params: int) -> bytes:
    flags = [x for item in params.items() for x in (getattr(cv2, item[0]), item[1])]
    return cv2.imencode(".jpg", image, flags)[1].tobytes()


def with_thumbnail(jpeg: bytes, thumbnail: bytes) -> bytes:
    """An APP1 segment holding a whole JPEG, end marker included, as EXIF thumbnails do."""
    body = b"Exif\x00\x00" + thumbnail
    return jpeg[:2] + b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body + jpeg[2:]


@pytest.mark.parametrize("progressive", [0, 1])
def test_truncated_jpeg_is_read_with_a_warning(tmp_path, progressive):
    image = np.random.default_rng(1).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    whole = jpeg_bytes(image, IMWRITE_JPEG_PROGRESSIVE=progressive)
    thumbnail = jpeg_bytes(image[::8, ::8])
    cases = {
        "whole.jpg": (whole, False),
        "trailer.jpg": (whole + b"bytes some cameras append" * 10, False),
        "thumbnail.jpg": (with_thumbnail(whole, thumbnail), False),
        "cut.jpg": (whole[: len(whole) * 2 // 3], True),
        "cut_thumbnail.jpg": (with_thumbnail(whole, thumbnail)[: len(whole) * 2 // 3 + len(thumbnail)], True),
    }
    for name, (data, truncated) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with VideoSource(path) as source:
            (frame,) = source.frames()
            assert frame.image.shape == (64, 80, 3)
            assert [("truncated" in w) for w in source.info.warnings] == ([True] if truncated else []), name


def test_image_decoders_stay_quiet(tmp_path, capfd):
    data = jpeg_bytes(np.random.default_rng(2).integers(0, 256, (64, 80, 3), dtype=np.uint8))
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / "cut.png").write_bytes(cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes()[:60])
    VideoSource(tmp_path / "cut.jpg").close()
    with pytest.raises(InputError, match="not a readable image"):
        VideoSource(tmp_path / "cut.png")
    assert capfd.readouterr().err == ""  # libjpeg and libpng write to fd 2 themselves
