"""Decoded rows handed back as a reader finishes with them: the memory really leaves the process, and a
picture decoded into rows has the pixels of an ordinary decode, in every mode the strip path reads."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from safe_files.image_decode import DecodedRows, open_checked, open_checked_in_rows
from safe_files.row_memory import RowMemory


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_rows_released_top_down_leave_the_process():
    memory = RowMemory(height=3001, row_bytes=70_001)  # ~200 MB; rows that do not fill whole pages
    rows = memory.array(np.uint8, 70_001)
    rows[:] = 7  # every page touched
    filled = _resident_mb()
    for start in range(0, 3001, 97):
        memory.release(start, start + 97)
    assert filled - _resident_mb() > 195  # every page back, the ones shared by two bands too
    assert not rows.any()  # released rows read as zeros


def test_a_band_released_out_of_order_keeps_its_neighbours_pages():
    memory = RowMemory(height=10, row_bytes=3000)  # rows share pages
    rows = memory.array(np.uint8, 3000)
    rows[:] = 9
    memory.release(4, 6)
    assert (rows[3] == 9).all() and (rows[6] == 9).all()  # the pages they share with rows 4-5 stay


@pytest.mark.parametrize("mode, fmt", [("L", "JPEG"), ("RGB", "JPEG"), ("CMYK", "JPEG"), ("L", "PNG"), ("RGBA", "PNG"),
                                       ("I;16", "PNG"), ("RGB", "TIFF"), ("L", "BMP")])
def test_rows_hold_the_pixels_of_an_ordinary_decode(mode, fmt, tmp_path):
    ramp = np.add.outer(np.arange(300), np.arange(400)) * 100 % 65536
    image = Image.fromarray(ramp.astype(np.uint16)) if mode == "I;16" else Image.fromarray((ramp % 256).astype(np.uint8)).convert(mode)
    path = tmp_path / f"picture.{fmt.lower()}"
    image.save(path, fmt)
    for source in (path, path.read_bytes()):  # a path (Pillow may map the file itself) and bytes
        expected = np.asarray(open_checked(source))
        decoded = open_checked_in_rows(source)
        if isinstance(decoded, DecodedRows):
            pixels = decoded.pixels[..., :3] if mode == "RGB" else decoded.pixels
            assert decoded.image.mode == mode and decoded.image.size == (400, 300)
        else:  # an uncompressed file Pillow maps itself: an ordinary image
            assert fmt == "BMP" and isinstance(source, type(path))
            pixels = np.asarray(decoded)
        assert np.array_equal(pixels, expected)


def test_a_damaged_picture_is_refused_as_before():
    buffer = io.BytesIO()
    Image.new("L", (400, 300), 90).save(buffer, "PNG")
    damaged = bytearray(buffer.getvalue())
    damaged[60:80] = b"\x00" * 20
    with pytest.raises(Exception) as refused:
        open_checked_in_rows(bytes(damaged))
    with pytest.raises(Exception) as expected:
        open_checked(bytes(damaged))
    assert type(refused.value) is type(expected.value) and refused.value.reason == expected.value.reason
