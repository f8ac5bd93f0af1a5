"""An image's size from its file header alone, for the formats fervideo reads as photos (core.layout.IMAGE_SUFFIXES).

OpenCV has no header-only read, and decoding a 40000x40000 PNG to learn its size would take the memory that the
pixel limit is there to protect; Pillow could tell, but it would be a 15 MB dependency for these few bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

JPEG_SCAN_LIMIT = 4 << 20  # bytes of markers before the frame header; EXIF and ICC blocks take at most a few 100 kB
# start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are other tables
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG, BMP, WebP or TIFF; None when the header cannot tell."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
            if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
                return struct.unpack(">II", head[16:24])
            if head.startswith(b"\xff\xd8"):
                return _jpeg(f)
            if head.startswith(b"BM"):
                return _bmp(head)
            if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
                return _webp(head)
            if head[:4] in (b"II*\0", b"MM\0*"):
                return _tiff(f, "<" if head[:2] == b"II" else ">")
    except (OSError, struct.error):  # unreadable or cut short: OpenCV decides, and says so in one line
        return None
    return None


def _jpeg(f: BinaryIO) -> tuple[int, int] | None:
    """The frame header's size: markers are walked from the start, each segment skipped by its length."""
    f.seek(2)
    while f.tell() < JPEG_SCAN_LIMIT:
        byte = f.read(1)
        if byte != b"\xff":
            return None
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes before a marker
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # markers without a segment
            continue
        if code in (0xD9, 0xDA):  # end of image, or the pixels begin: no frame header came first
            return None
        (length,) = struct.unpack(">H", f.read(2))
        if code in JPEG_SOF:
            height, width = struct.unpack(">xHH", f.read(5))
            return width, height
        f.seek(length - 2, 1)
    return None


def _bmp(head: bytes) -> tuple[int, int]:
    """BITMAPCOREHEADER's 16-bit sides, or the later headers' 32-bit ones (a negative height: stored top-down)."""
    (header,) = struct.unpack("<I", head[14:18])
    if header == 12:
        return struct.unpack("<HH", head[18:22])
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)


def _webp(head: bytes) -> tuple[int, int] | None:
    """The size in the first chunk: lossy (VP8), lossless (VP8L) or extended (VP8X)."""
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        (bits,) = struct.unpack("<I", head[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _tiff(f: BinaryIO, order: str) -> tuple[int, int] | None:
    """ImageWidth (256) and ImageLength (257) of the first image directory."""
    f.seek(4)
    (offset,) = struct.unpack(order + "I", f.read(4))
    f.seek(offset)
    (count,) = struct.unpack(order + "H", f.read(2))
    sides: dict[int, int] = {}
    for _ in range(count):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", f.read(12))
        if tag in (256, 257):
            sides[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value[: 2 if kind == 3 else 4])[0]
    return (sides[256], sides[257]) if len(sides) == 2 else None
