"""The full-resolution L of a large picture, held as compact codes in horizontal strips.

A 460 MP scan's L as float32 would take 1.8 GB; kept as the codes it was computed from it takes 1 byte
a pixel (8-bit grey: the grey level) or 2 (16-bit grey, or the 16-bit luminance code of an RGB picture),
and a strip becomes float L (a table look-up, the same tables as the whole-picture path in
inference/full_res_lab.py, so the values are identical) only while it is joined.

The codes live in one anonymous memory map (safe_files/row_memory.py), and a joined strip's pages are
handed back to the system at once: memory returned to the C heap would stay counted in the process's
RSS, which then would not shrink while the output grows.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from safe_files.row_memory import RowMemory

EXIF_ORIENTATION = 0x0112


class LightnessStrips:
    def __init__(self, width: int, height: int, dtype: np.dtype, table: np.ndarray, rows: int) -> None:
        self.width, self.height, self.rows = width, height, rows
        self.table = table  # code -> float32 L: 256 entries for uint8 codes, 65,536 for uint16
        self.dtype = np.dtype(dtype)
        self._memory = RowMemory(height, width * self.dtype.itemsize)
        self.codes = self._memory.array(self.dtype, width)
        self.starts = list(range(0, height, rows))  # the first row of each strip
        self._released = [False] * len(self.starts)

    def strip(self, index: int) -> np.ndarray:
        """Strip `index`'s codes (a view, to fill or read)."""
        if self._released[index]:
            raise RuntimeError("this strip was already joined and released; prepare the picture again")
        start = self.starts[index]
        return self.codes[start:start + self.rows]

    def lightness(self, index: int) -> np.ndarray:
        """float32 L of strip `index` (rows, width)."""
        return self.table[self.strip(index)]

    def release(self, index: int) -> None:
        """Hand strip `index`'s memory back."""
        self._released[index] = True
        self._memory.release(self.starts[index], self.starts[index] + self.rows)

    def whole(self) -> np.ndarray:
        """float32 L of the whole picture (tests): what the strips hold, in one array."""
        return self.table[self.codes]


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """`array` (rows, columns, ...) as EXIF `orientation` says it is viewed upright: the same turn
    ImageOps.exif_transpose applies to a whole image (a view: copy it to keep it)."""
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    return turns[orientation](array) if orientation in turns else array


def rechunked(bands: Iterator[np.ndarray], rows: int) -> Iterator[np.ndarray]:
    """The same rows in pieces of exactly `rows` (the last may be shorter): a decoder's strips or tiles
    cut as the picture's strips, the joined strips cut as an output file's."""
    pending: list[np.ndarray] = []
    held = 0
    for band in bands:
        while band.shape[0]:
            take = min(rows - held, band.shape[0])
            pending.append(band[:take])
            held += take
            band = band[take:]
            if held == rows:
                yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending, held = [], 0
    if pending:
        yield np.concatenate(pending)


def turns_sideways(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)


def oriented_strips(strips: LightnessStrips, orientation: int, rows: int) -> LightnessStrips:
    """The strips of the upright picture: a turn reads the whole picture, so for a moment both the
    stored codes and the upright ones exist (twice the codes); the stored ones go when this returns."""
    if orientation not in range(2, 9):
        return strips
    upright = orient(strips.codes, orientation)
    height, width = upright.shape
    turned = LightnessStrips(width, height, strips.dtype, strips.table, rows)
    for start in range(0, height, rows):
        turned.codes[start:start + rows] = upright[start:start + rows]
    return turned
