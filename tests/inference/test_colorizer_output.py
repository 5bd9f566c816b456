"""The Colorizer on real photos: size, luminance, format and metadata kept; colour inputs detected."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageCms

from inference.colorizer import Colorizer, ColorizeSettings
from inference.output_encoding import EXIF_ORIENTATION, EXIF_SOFTWARE, PNG_MODEL_KEY
from inference.working_size import working_shape
from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from tests.conftest import shared_folder
from tests.model_inputs import archive_sample


@pytest.fixture(scope="module")
def colorizer(tiny_bundle) -> Colorizer:
    # Saturation well above 1 pushes many colours out of gamut: the luminance must survive that too.
    return Colorizer.from_bundle(tiny_bundle, ColorizeSettings(saturation=3.0))


def _lightness(image: Image.Image) -> np.ndarray:
    return srgb_to_lab(np.asarray(image.convert("RGB")))[..., 0]


def test_png_outputs_keep_size_and_luminance(colorizer):
    pngs = [p for p in archive_sample() if p.suffix.lower() == ".png"][:2]
    for path in pngs:
        original = load_rgb(path)
        out = Image.open(io.BytesIO(colorizer.colorize_bytes(path.read_bytes())))
        assert out.format == "PNG" and out.mode == "RGB" and out.size == original.size
        assert out.text[PNG_MODEL_KEY] == colorizer.version
        difference = np.abs(_lightness(out) - _lightness(original))
        assert difference.max() < 1.0, path.name  # 8-bit rounding only, even with out-of-gamut colour
        chroma = np.hypot(*srgb_to_lab(np.asarray(out))[..., 1:].reshape(-1, 2).T)
        assert chroma.mean() > 1.0  # it did add colour


def test_jpeg_outputs_keep_luminance_within_jpeg_quantisation(colorizer):
    jpeg = [p for p in archive_sample() if p.suffix.lower() == ".jpg"][0]
    original = load_rgb(jpeg)
    out = Image.open(io.BytesIO(colorizer.colorize_bytes(jpeg.read_bytes())))
    assert out.format == "JPEG" and out.size == original.size
    difference = np.abs(_lightness(out) - _lightness(original))
    assert difference.mean() < 1.0 and np.percentile(difference, 99) < 4.0


def test_exif_icc_dpi_kept_orientation_applied_and_reset(colorizer):
    source = load_rgb(archive_sample()[0])
    sepia = Image.merge("RGB", [c.point(lambda v, k=k: min(255, int(v * k))) for c, k in zip(source.convert("L").convert("RGB").split(), (1.08, 0.94, 0.78))])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored sideways: the viewer rotates 90 degrees clockwise
    exif[0x010F] = "Archive Scanner Co"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    sepia.save(buffer, format="JPEG", quality=95, exif=exif.tobytes(), icc_profile=icc, dpi=(600, 600))
    out = Image.open(io.BytesIO(colorizer.colorize_bytes(buffer.getvalue())))
    assert out.size == (sepia.height, sepia.width)  # upright
    out_exif = out.getexif()
    assert out_exif[EXIF_ORIENTATION] == 1
    assert out_exif[0x010F] == "Archive Scanner Co"
    assert colorizer.version in out_exif[EXIF_SOFTWARE]
    assert out.info["icc_profile"] == icc
    assert tuple(round(v) for v in out.info["dpi"]) == (600, 600)


@pytest.mark.parametrize("fmt,suffix,expected", [("TIFF", ".tif", "TIFF"), ("WEBP", ".webp", "WEBP"), ("BMP", ".bmp", "BMP"), ("GIF", ".gif", "PNG")])
def test_output_format_follows_input(colorizer, fmt, suffix, expected):
    grey = load_rgb(archive_sample()[1]).convert("L")
    grey.thumbnail((300, 300))
    buffer = io.BytesIO()
    if fmt == "TIFF":
        Image.fromarray(np.asarray(grey).astype(np.uint16) * 257).save(buffer, format="TIFF")  # a 16-bit scan
    else:
        grey.save(buffer, format=fmt)
    out = Image.open(io.BytesIO(colorizer.colorize_bytes(buffer.getvalue())))
    assert out.format == expected and out.size == grey.size and out.mode == "RGB"
    difference = np.abs(_lightness(out) - _lightness(grey))
    assert np.percentile(difference, 99) < (4.0 if fmt == "WEBP" else 1.0)


def test_working_size_is_the_longer_side_in_multiples_of_16():
    assert working_shape(4000, 3000, 256) == (192, 256)
    assert working_shape(300, 1000, 256) == (256, 80)  # (height, width)
    assert working_shape(100, 60, 256) == (64, 96)  # small pictures are not blown up


def test_colour_photographs_are_told_from_toned_monochrome(colorizer):
    monochrome = [colorizer.prepare(p.read_bytes()).verdict.is_colour for p in archive_sample() if "Faded" not in p.name]
    assert sum(monochrome) <= 1  # sepia and faded prints are monochrome
    photos = sorted(shared_folder("caltech101").rglob("*.jpg"))
    random.Random(5).shuffle(photos)
    colour = [p for p in photos[:80] if Image.open(p).mode == "RGB"][:30]
    flagged = sum(colorizer.prepare(p.read_bytes()).verdict.is_colour for p in colour)
    assert flagged >= 0.5 * len(colour)  # caltech holds many near-grey RGB files, so not all
