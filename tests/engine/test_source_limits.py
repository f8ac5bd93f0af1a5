"""fervideo.engine.source refuses an image over the pixel limit from its header alone."""

from __future__ import annotations

import shutil

from tests.conftest import SAMPLE
from tests.helpers import run


def png_header_only(path, width: int, height: int) -> None:
    """A PNG whose header claims width x height; its pixel data is a stub (only the header is ever read)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path, capsys):
    huge, ok = tmp_path / "huge.png", tmp_path / "ok.jpg"
    png_header_only(huge, 40000, 40000)
    shutil.copy(SAMPLE.parent.parent / "docs" / "annotated-frame.jpg", ok)
    code, err = run(capsys, "analyze", str(huge), str(ok), "-o", str(tmp_path / "out"), "--no-video")
    assert code == 1 and "40000x40000 is over fervideo's limit of 50 megapixels" in err
    assert "internal error" not in err and (tmp_path / "out" / "ok.json").is_file()  # the next input still runs
