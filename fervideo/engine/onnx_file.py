"""An ONNX file's metadata and weights, read without the onnx package (the torch extra does not install it).

ONNX files are protocol buffers; this reads the few fields that a model's weights need (onnx.proto: ModelProto
graph 7 and metadata_props 14, GraphProto initializer 5, TensorProto dims 1, data_type 2, float_data 4,
int32_data 5, int64_data 7, name 8, raw_data 9, data_location 14) and skips everything else unparsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fervideo.core.errors import ModelError

# TensorProto.DataType -> the little-endian dtype of its raw_data
DTYPES = {1: "<f4", 2: "u1", 3: "i1", 6: "<i4", 7: "<i8", 9: "?", 10: "<f2", 11: "<f8"}
EXTERNAL = 1  # TensorProto.DataLocation: the bytes live in another file


def read_onnx(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The file's metadata (key -> value) and its graph's initializers (name -> array)."""
    try:
        data = memoryview(Path(path).read_bytes())
    except OSError as exc:
        raise ModelError(f"{path}: cannot read it ({exc.strerror}); pass a readable .onnx file") from exc
    try:
        metadata, tensors = {}, {}
        for field, value in _fields(data):
            if field == 14:
                entry = dict(_fields(value))
                metadata[_text(entry.get(1, b""))] = _text(entry.get(2, b""))
            elif field == 7:
                for part, tensor in _fields(value):
                    if part == 5:
                        name, array = _tensor(tensor)
                        tensors[name] = array
    except (ValueError, TypeError, UnicodeDecodeError) as exc:  # a truncated or foreign file fails somewhere inside
        raise ModelError(f"{path}: not an ONNX file fervideo can read ({exc}); export it with training.export") from exc
    return metadata, tensors


def _tensor(data: memoryview) -> tuple[str, np.ndarray]:
    """One TensorProto as (name, array), from raw_data or the typed fields."""
    dims, dtype, name, raw, typed = [], 1, "", None, []
    for field, value in _fields(data):
        if field == 1:
            dims += _varints(value) if isinstance(value, memoryview) else [value]
        elif field == 2:
            dtype = value
        elif field == 8:
            name = _text(value)
        elif field == 9:
            raw = value
        elif field == 14 and value == EXTERNAL:
            raise ValueError(f"tensor {name or '?'} keeps its weights in an external file")
        elif field in (4, 5, 7):
            typed.append((field, value))
    if dtype not in DTYPES:
        raise ValueError(f"tensor {name!r} has ONNX data type {dtype}, which this reader does not take")
    array = np.frombuffer(raw, DTYPES[dtype]) if raw is not None else _typed(typed, dtype)
    return name, array.astype(np.dtype(DTYPES[dtype]).newbyteorder("=")).reshape(dims)  # a writable, native copy


def _typed(values: list[tuple[int, int | memoryview]], dtype: int) -> np.ndarray:
    """A tensor kept in float_data (4, packed floats) or int32_data/int64_data (5/7, varints)."""
    if dtype == 1:
        parts = [np.frombuffer(v, "<f4") if isinstance(v, memoryview) else _float(v) for f, v in values if f == 4]
        return np.concatenate(parts) if parts else np.zeros(0, "<f4")
    ints = [n for _, v in values for n in (_varints(v) if isinstance(v, memoryview) else [v])]
    signed = [n - (1 << 64) if n >= 1 << 63 else n for n in ints]  # negative ints are 10-byte two's complement
    if dtype == 10:  # float16 bits in int32_data
        return np.array(signed, np.uint16).view("<f2")
    return np.array(signed, DTYPES[dtype])


def _float(bits: int) -> np.ndarray:
    return np.array([bits], "<u4").view("<f4")


def _fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of each field in a message: an int for varints and fixed32, bytes for the rest."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire in (1, 5):  # fixed64 / fixed32: only float_data uses one here, as 32 bits
            width = 8 if wire == 1 else 4
            value, pos = int.from_bytes(data[pos : pos + width], "little"), pos + width
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {pos}")
        if pos > end:
            raise ValueError("the file ends inside a field")
        yield field, value


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a malformed varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos


def _varints(data: memoryview) -> list[int]:
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(value)
    return values


def _text(value: int | memoryview) -> str:
    if not isinstance(value, memoryview):
        raise TypeError("a string field holds a number")
    return bytes(value).decode("utf-8")
