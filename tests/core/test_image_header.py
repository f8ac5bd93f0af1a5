"""fervideo.core.image_header: an image's size from its header, checked against what OpenCV decodes."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from fervideo.core.image_header import image_size
from tests.conftest import ROOT

WIDTH, HEIGHT = 37, 23  # odd and unequal, so that a swap or an off-by-one shows

CASES = {
    "baseline.jpg": [],
    "progressive.jpg": [cv2.IMWRITE_JPEG_PROGRESSIVE, 1],
    "plain.png": [],
    "sixteen.png": "16-bit",
    "plain.bmp": [],
    "lossy.webp": [cv2.IMWRITE_WEBP_QUALITY, 80],
    "lossless.webp": [cv2.IMWRITE_WEBP_QUALITY, 101],
    "plain.tiff": [],
    "packbits.tif": [cv2.IMWRITE_TIFF_COMPRESSION, 32773],
}


@pytest.mark.parametrize("name", CASES)
def test_the_header_gives_the_size_opencv_decodes(tmp_path, name):
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    options = CASES[name]
    if options == "16-bit":
        image, options = image.astype(np.uint16) * 257, []
    path = tmp_path / name
    assert cv2.imwrite(str(path), image, options)
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image_size(path) == (decoded.shape[1], decoded.shape[0]) == (WIDTH, HEIGHT)


def test_a_real_photo_with_exif(tmp_path):
    photo = ROOT / "docs" / "annotated-frame.jpg"
    decoded = cv2.imread(str(photo))
    assert image_size(photo) == (decoded.shape[1], decoded.shape[0])


def test_headers_of_sizes_too_large_to_decode(tmp_path):
    vp8x = tmp_path / "x.webp"  # extended WebP: 24-bit sides minus one
    vp8x.write_bytes(
        b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4) + b"\x3f\x9c\x00\x3f\x9c\x00"
    )
    assert image_size(vp8x) == (40000, 40000)
    bmp = tmp_path / "top-down.bmp"  # a negative height: rows stored top to bottom
    bmp.write_bytes(b"BM" + bytes(12) + struct.pack("<Iii", 40, 50000, -2000) + bytes(16))
    assert image_size(bmp) == (50000, 2000)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00\x10JFIF", b"II*\0\xff\xff\xff\x00"],
    ids=["empty", "text", "png-cut", "jpeg-cut", "tiff-bad-offset"],
)
def test_what_the_header_cannot_tell_is_none(tmp_path, data):
    path = tmp_path / "bad.img"
    path.write_bytes(data)
    assert image_size(path) is None
