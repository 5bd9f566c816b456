"""A JPEG stored sideways (EXIF orientation 6) with no ICC profile comes out upright.

Reading the metadata used to reset the image's own EXIF orientation before the picture was turned, so
only pictures with an ICC profile (converted to a fresh image first) were turned upright."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from inference.colorizer import Colorizer, ColorizeSettings
from inference.model_loading import resolve_bundle
from inference.output_encoding import EXIF_ORIENTATION
from tests.conftest import shared_folder


def test_a_sideways_jpeg_without_a_profile_is_turned_upright():
    grey = Image.open(shared_folder("bw-archive") / "dustbowl_people.jpg").convert("L").reduce(4)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # the viewer turns it 90 degrees clockwise
    buffer = io.BytesIO()
    grey.save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    colorizer = Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings())
    out = Image.open(io.BytesIO(colorizer.colorize_bytes(buffer.getvalue())))
    assert out.size == (grey.height, grey.width)
    assert out.getexif()[EXIF_ORIENTATION] == 1
    upright = np.asarray(grey.transpose(Image.Transpose.ROTATE_270), dtype=float)
    assert np.abs(np.asarray(out.convert("L"), dtype=float) - upright).mean() < 3.0  # the same picture, turned
