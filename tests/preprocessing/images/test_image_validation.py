"""Validation of hostile and unusual files made from real photos: each is handled with a clear reason."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from preprocessing.cleaning.image_analysis import analyse_image
from preprocessing.images.image_loading import ValidationLimits, validate_image
from safe_files.image_decode import ImageRejected


@pytest.fixture
def photo(bsds_dir) -> Image.Image:
    return Image.open(bsds_dir / "test" / "100007.jpg").convert("RGB")


def _rejected(path: Path, limits: ValidationLimits = ValidationLimits()) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        validate_image(path, limits)
    return caught.value


def test_corrupt_and_truncated_files_are_rejected_with_their_reasons(tmp_path, bsds_dir):
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 20)
    truncated = tmp_path / "truncated.jpg"
    original = (bsds_dir / "test" / "100007.jpg").read_bytes()
    truncated.write_bytes(original[: len(original) // 2])  # verify() passes on this; a full decode does not
    assert _rejected(garbage).reason == "corrupt"
    assert _rejected(truncated).reason == "truncated"  # its own reason since issue 24
    record = analyse_image(truncated, "x")
    assert record["reason"] == "truncated" and "pixel_sha256" not in record


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb, optimize=True)  # 400 Mpx in a few kB
    assert bomb.stat().st_size < 200_000
    error = _rejected(bomb)
    assert error.reason == "too-large"


def test_too_small_and_bad_aspect(tmp_path, photo):
    small, wide = tmp_path / "small.png", tmp_path / "wide.jpg"
    photo.resize((60, 40)).save(small)
    photo.crop((0, 0, photo.width, 80)).save(wide)
    assert _rejected(small).reason == "too-small"
    assert _rejected(wide).reason == "bad-aspect"
    assert validate_image(wide, ValidationLimits(max_aspect=10.0)).image.size == (photo.width, 80)


def test_cmyk_jpeg_becomes_rgb_close_to_the_original(tmp_path, photo):
    path = tmp_path / "cmyk.jpg"
    photo.convert("CMYK").save(path, quality=95)
    valid = validate_image(path)
    assert valid.source_mode == "CMYK" and valid.image.mode == "RGB"
    difference = np.abs(np.asarray(valid.image, dtype=np.int16) - np.asarray(photo, dtype=np.int16))
    assert difference.mean() < 8


def test_sixteen_bit_png_is_scaled_to_eight_bits_and_seen_as_grayscale(tmp_path, photo):
    gray = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    path = tmp_path / "scan16.png"
    Image.fromarray(gray).save(path)
    assert Image.open(path).mode.startswith("I")
    valid = validate_image(path)
    assert valid.image.mode == "RGB"
    assert np.abs(np.asarray(valid.image)[..., 0].astype(int) - gray // 257).max() <= 1
    assert analyse_image(path, "x")["reason"] == "grayscale"


def test_palette_with_transparency_is_flattened_on_white(tmp_path, photo):
    palette = photo.quantize(64)
    palette.info["transparency"] = 0
    path = tmp_path / "palette.png"
    palette.save(path, transparency=0)
    valid = validate_image(path)
    assert valid.source_mode == "P" and valid.image.mode == "RGB"
    transparent = np.asarray(palette) == 0
    assert transparent.any()
    assert np.all(np.asarray(valid.image)[transparent] == 255)


def test_exif_orientation_is_applied(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    photo.save(path, exif=exif, quality=95)
    valid = validate_image(path)
    assert valid.image.size == (photo.height, photo.width)
    upright = np.asarray(photo.transpose(Image.Transpose.ROTATE_270), dtype=np.int16)
    assert np.abs(np.asarray(valid.image, dtype=np.int16) - upright).mean() < 4


def test_animated_gif_is_rejected_single_frame_gif_is_not(tmp_path, photo):
    animated, still = tmp_path / "animated.gif", tmp_path / "still.gif"
    frames = [photo.resize((160, 120)), photo.resize((160, 120)).rotate(10)]
    frames[0].save(animated, save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(still)
    assert _rejected(animated).reason == "animated"
    assert validate_image(still).image.size == (160, 120)


def test_embedded_display_p3_profile_is_converted_to_srgb(tmp_path, bw_archive_dir, photo):
    donor = Image.open(bw_archive_dir / "1af1852e-4eea-4277-845d-8b02a5e3acfc.jpg")
    p3 = donor.info["icc_profile"]
    assert "P3" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(p3)))
    path = tmp_path / "p3.jpg"
    photo.save(path, icc_profile=p3, quality=95)
    valid = validate_image(path)
    expected = ImageCms.profileToProfile(
        Image.open(path), ImageCms.ImageCmsProfile(io.BytesIO(p3)), ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    converted = np.asarray(valid.image, dtype=np.int16)
    assert np.array_equal(converted, np.asarray(expected, dtype=np.int16))
    raw = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert np.abs(converted - raw).max() > 10  # P3 numbers are not sRGB numbers
    assert "icc_profile" not in valid.image.info


def test_gray_profile_keeps_a_gray_scan_gray(bw_archive_dir):
    valid = validate_image(bw_archive_dir / "BoulevardDuTemple1838.jpg")  # L with an EPSON Gamma 1.8 profile
    assert valid.source_mode == "L"
    pixels = np.asarray(valid.image, dtype=np.int16)
    assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2])
