"""Rows of a large picture in memory that is handed back to the system as a reader finishes with them.

An anonymous memory map, not the C heap: pages given back with madvise(DONTNEED) leave the process's
RSS at once, where memory freed to the heap would stay counted. A reader that goes top to bottom
(the strip path of a large scan) releases each band of rows once it has made what it needs from them,
so a decoded picture and what it becomes never both sit whole in memory.
"""

from __future__ import annotations

import mmap

import numpy as np


class RowMemory:
    def __init__(self, height: int, row_bytes: int) -> None:
        self.height, self.row_bytes = height, row_bytes
        # Private: DONTNEED on a shared anonymous map only unmaps, its pages stay held in shared memory.
        self.buffer = mmap.mmap(-1, max(1, height * row_bytes), flags=mmap.MAP_PRIVATE)
        self._released_until = 0  # bytes [0, this) released so far, top down

    def array(self, dtype: np.dtype | str, columns: int, samples: int = 1) -> np.ndarray:
        """The whole map as (height, columns[, samples]) of `dtype` (a view)."""
        dtype = np.dtype(dtype)
        shape = (self.height, columns) + ((samples,) if samples > 1 else ())
        return np.frombuffer(self.buffer, dtype, count=int(np.prod(shape))).reshape(shape)

    def release(self, first_row: int, end_row: int) -> None:
        """Give back the pages that lie wholly within rows [first_row, end_row), and the page shared with
        the rows above when those were released already (bands released top down free every page).
        Released rows read as zeros."""
        start = first_row * self.row_bytes
        end = min(self.height, end_row) * self.row_bytes
        if start <= self._released_until:
            first = start // mmap.PAGESIZE * mmap.PAGESIZE
            self._released_until = max(self._released_until, end)
        else:
            first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
        last = end // mmap.PAGESIZE * mmap.PAGESIZE if end < len(self.buffer) else len(self.buffer)
        if last > first:
            self.buffer.madvise(mmap.MADV_DONTNEED, first, last - first)
