"""Random 64-bit hash codes with known near pairs: the ground truth for measuring a Hamming index."""

from __future__ import annotations

import numpy as np


def synthetic_codes(count: int, planted: int, radius: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random codes with `planted` disjoint pairs at distances 0..radius; pairs sorted per row."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)
    rows = rng.permutation(count)[: 2 * planted].reshape(planted, 2)
    for k, (a, b) in enumerate(rows.tolist()):
        flips = rng.choice(64, size=k % (radius + 1), replace=False)
        codes[b] = codes[a] ^ np.uint64(sum(1 << int(bit) for bit in flips))
    return codes, np.sort(rows, axis=1)
