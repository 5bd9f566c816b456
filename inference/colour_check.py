"""Is this picture already in colour? A small chroma-statistics check on a thumbnail.

A toned or faded monochrome print (sepia, cyanotype, yellowed paper) has colour, but one hue that
follows lightness. So the tint is modelled as the mean ab per lightness band, and what is left over
(chroma that differs between pixels of equal lightness) is what a real colour photograph has and a
toned print does not. The full cleaning filter lives in preprocessing/; this is only the skip gate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from preprocessing.colour.lab_numpy import srgb_to_lab

THUMBNAIL_SIDE = 96
LIGHTNESS_BANDS = 10
RESIDUAL_CHROMA = 10.0  # Lab units off the band's tint that count as "a different colour"
COLOURFUL_SHARE = 0.10  # above this share of such pixels a picture is a colour photograph (tuned on bw-archive vs caltech101)


@dataclass(frozen=True)
class ColourVerdict:
    is_colour: bool
    colourful_share: float  # share of pixels whose chroma departs from the tint of their band
    mean_chroma: float  # overall chroma, for the report (sepia is high here and still monochrome)


def judge_colour(image: Image.Image) -> ColourVerdict:
    """Judge an RGB image; cost is one 96 px thumbnail."""
    if image.mode != "RGB":
        return ColourVerdict(False, 0.0, 0.0)
    factor = max(1, min(image.size) // (2 * THUMBNAIL_SIDE))
    thumbnail = image.reduce(factor) if factor > 1 else image.copy()  # box reduction, no full-size copy
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BOX)
    lab = srgb_to_lab(np.asarray(thumbnail)).reshape(-1, 3)
    bands = np.minimum((lab[:, 0] / (100.0 / LIGHTNESS_BANDS)).astype(np.int64), LIGHTNESS_BANDS - 1)
    counts = np.bincount(bands, minlength=LIGHTNESS_BANDS).astype(np.float64)
    tint = np.stack(
        [np.bincount(bands, weights=lab[:, channel], minlength=LIGHTNESS_BANDS) for channel in (1, 2)], axis=1
    ) / np.maximum(counts, 1.0)[:, None]
    residual = np.hypot(*(lab[:, 1:] - tint[bands]).T)
    share = float(np.mean(residual > RESIDUAL_CHROMA))
    return ColourVerdict(share > COLOURFUL_SHARE, share, float(np.hypot(lab[:, 1], lab[:, 2]).mean()))
