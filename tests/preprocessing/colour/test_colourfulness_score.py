"""Hasler & Suesstrunk colourfulness: zero for gray, ordered like the eye on real photos, stored per image."""

from __future__ import annotations

import numpy as np
from PIL import Image

from preprocessing.cleaning.image_analysis import analyse_image
from preprocessing.colour.colourfulness import colourfulness


def test_gray_is_zero_and_saturation_raises_it(bsds_dir):
    photo = np.asarray(Image.open(bsds_dir / "test" / "100007.jpg").convert("RGB"))
    gray = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2)
    assert colourfulness(gray) < 1e-3
    washed = (0.5 * photo + 0.5 * gray).astype(np.uint8)
    assert colourfulness(washed) < colourfulness(photo)
    # the metric's definition on a two-colour image: rg = +-255, yb = +-127.5 around zero means
    half = np.zeros((2, 2, 3), dtype=np.uint8)
    half[0] = (255, 0, 0)
    half[1] = (0, 255, 0)
    expected = np.sqrt(255.0**2 + 0.0) + 0.3 * np.sqrt(0.0 + 127.5**2)
    assert abs(colourfulness(half) - expected) < 1e-3


def test_every_analysed_image_carries_its_score(bsds_dir, bw_archive_dir):
    colour = analyse_image(bsds_dir / "test" / "100007.jpg", "x")
    gray = analyse_image(bw_archive_dir / "BoulevardDuTemple1838.jpg", "y")
    sepia = analyse_image(bw_archive_dir / "1880Paris.jpg", "z")
    assert colour["colourfulness"] > 15 and gray["colourfulness"] == 0
    # a sepia print scores like a muted colour photo: why the filter uses the tint analysis, not M
    assert sepia["colourfulness"] > 15 and sepia["reason"] == "toned-monochrome" and colour["reason"] is None
