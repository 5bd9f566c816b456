"""The cleaning hot path's shortcuts compute what the plain definitions compute, on real photos."""

from __future__ import annotations

import numpy as np
import pytest

from preprocessing.cleaning.image_analysis import (
    analyse_image,
    packed_pixel_chunks,
    pixel_sha256,
    shared_reduction,
)
from preprocessing.cleaning.perceptual_hash import hamming, phash
from preprocessing.colour.chroma_statistics import chroma_statistics, small_copy
from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb


def _reference_statistics(rgb: np.ndarray) -> dict[str, float]:
    """chroma_statistics written out plainly: a loop of np.median per band and np.percentile."""
    lab = srgb_to_lab(rgb).reshape(-1, 3)
    ab = lab[:, 1:]
    band = np.minimum((lab[:, 0] * 0.16).astype(np.intp), 15)
    curve = np.zeros((16, 2), dtype=np.float32)
    for index in np.unique(band):
        curve[index] = np.median(ab[band == index], axis=0)
    residual = ab - curve[band]
    mean = ab.mean(axis=0)
    tint = float(np.hypot(*mean))
    across = np.abs(residual @ np.array([-mean[1], mean[0]]) / tint)
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    return {
        "chroma_p95": np.percentile(chroma, 95), "chroma_p99": np.percentile(chroma, 99),
        "residual_p99": np.percentile(np.hypot(residual[:, 0], residual[:, 1]), 99),
        "cross_tint_p99": np.percentile(across, 99), "tint_chroma": tint,
    }


@pytest.fixture
def photos(caltech_dir, bw_archive_dir, bsds_dir):
    files = sorted(caltech_dir.glob("*/*.jpg"))[::600] + sorted(bw_archive_dir.glob("*.jpg"))[::20]
    return [load_rgb(path) for path in files + sorted((bsds_dir / "val").glob("*.jpg"))[:5]]


def test_vectorised_statistics_equal_the_plain_definition(photos):
    for image in photos:
        small = small_copy(shared_reduction(image))
        fast, plain = chroma_statistics(small).as_dict(), _reference_statistics(small)
        for key, value in plain.items():
            assert abs(fast[key] - value) < 0.01, (key, fast[key], value)


def test_pixel_hash_of_the_image_equals_that_of_its_array(photos):
    for image in photos[:6]:
        assert pixel_sha256(image) == pixel_sha256(np.asarray(image))


def test_packed_chunks_are_exactly_tobytes(photos):
    # several chunks (a 3000 px wide image packs in 12 kB rows, 64 kB blocks), odd widths, gray and RGB
    wide = photos[0].resize((3001, 487))
    for image in (wide, wide.convert("L"), photos[1], photos[2].crop((0, 0, 33, 17))):
        chunks = list(packed_pixel_chunks(image))
        assert b"".join(chunks) == image.tobytes()
    assert len(list(packed_pixel_chunks(wide))) > 1


def test_shared_reduction_keeps_the_phash_close(photos):
    distances = []
    for image in photos:
        reduced = shared_reduction(image)
        assert min(reduced.size) >= min(64, min(image.size)) and min(reduced.size) < 128
        distances.append(hamming(phash(reduced), phash(image)))
    assert np.mean(distances) <= 2.5 and max(distances) <= 8, distances  # measured on caltech: 1.36 on average


def test_single_channel_file_is_gray_without_lab_work(bw_archive_dir):
    record = analyse_image(bw_archive_dir / "BoulevardDuTemple1838.jpg", "x")
    assert record["source_mode"] == "L" and record["reason"] == "grayscale"
    assert record["colourfulness"] == 0 and set(record["chroma"].values()) == {0.0}
