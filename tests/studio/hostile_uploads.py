"""Uploads the studio must refuse, made on the spot."""

from __future__ import annotations

import functools
import os
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def png_bomb(side: int = 12000) -> bytes:
    """A valid grey PNG of side x side black pixels: ~0.1 MB on disk, side^2 bytes once decoded."""
    compressor = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte + pixels
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def png_header_only(side: int) -> bytes:
    """Just a PNG header claiming side x side pixels (Pillow refuses very large ones when opening)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")


def not_an_image() -> bytes:
    return b"Dear archivist,\nthis is a letter, not a photograph.\n" * 20


def oversized_jpeg_lookalike(megabytes: float) -> bytes:
    """Starts like a JPEG, then random bytes: only the size limit may refuse it first."""
    return b"\xff\xd8\xff\xe0" + os.urandom(int(megabytes * 1024 * 1024))
