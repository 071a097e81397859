"""A JPEG's pixel dimensions read from its frame header, without decoding it.

A decoder allocates what the header claims, so a 633-byte file that says
30000×30000 costs gigabytes; reading the SOF marker first lets a caller refuse
it. The walk follows libjpeg's marker reader (fill bytes, stray bytes between
segments, parameterless markers), so both see the same first frame header.
"""
from __future__ import annotations

import re

_SOI = b"\xff\xd8"
_SOS = 0xDA
_EOI = 0xD9
# SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_NO_LENGTH = frozenset(range(0xD0, 0xD8)) | {0x01}  # RST0..RST7 and TEM stand alone
_NOT_FILL = re.compile(rb"[^\xff]")
MAX_SEGMENTS = 1000  # a camera frame has a dozen before its frame header; this bounds the walk


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first frame header; ValueError when the bytes are not a JPEG with one."""
    if not data.startswith(_SOI):
        raise ValueError(f"not a JPEG (starts with {data[:4].hex() or 'nothing'}, not ffd8)")
    pos = 2
    for _ in range(MAX_SEGMENTS):
        pos = data.find(b"\xff", pos)  # bytes before a marker are skipped, as libjpeg does (with a warning)
        code = _NOT_FILL.search(data, pos) if pos >= 0 else None  # after any number of fill bytes
        if code is None:
            raise ValueError("JPEG has no frame header (SOF marker)")
        marker, pos = data[code.start()], code.start() + 1
        if marker == 0x00 or marker in _NO_LENGTH:
            continue
        if marker in (_SOS, _EOI):
            raise ValueError("JPEG has no frame header (SOF marker) before its image data")
        if pos + 2 > len(data):
            raise ValueError("JPEG ends inside a segment header")
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2:
            raise ValueError(f"JPEG segment 0x{marker:02x} has a bad length {length}")
        if marker in _SOF:
            if length < 8 or pos + 7 > len(data):
                raise ValueError("JPEG frame header is truncated")
            height = int.from_bytes(data[pos + 3:pos + 5], "big")
            width = int.from_bytes(data[pos + 5:pos + 7], "big")
            if width == 0 or height == 0:
                raise ValueError(f"JPEG frame header says {width}x{height}")
            return width, height
        pos += length
    raise ValueError(f"JPEG has over {MAX_SEGMENTS} segments before its frame header")
