"""The decode guard judges the file, not only its size (issue 24): a real 100 MP scan passes; a
near-empty 400 MP PNG is refused as implausible, a cut-short giant as truncated, and a picture over
the memory budget as too-large naming --max-pixels, then admitted by a larger one. Pillow's own cap
never decides, and is left as it was. The draft decode gives the working-size copy of a JPEG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from safe_files.image_decode import (
    PLAUSIBILITY_FLOOR,
    ImageRejected,
    open_checked,
    open_for_working_size,
    pillow_pixel_cap,
)
from tests.model_inputs import near_empty_png, upscaled_scan

SCAN_SIZE = (10684, 9359)  # the scan_100mp_jpeg fixture


def _refusal(source, **budget) -> ImageRejected:
    with pytest.raises(ImageRejected) as refused:
        open_checked(source, **budget)
    return refused.value


def test_a_100_megapixel_scan_passes_the_guard_and_the_budget_decides_its_fate(scan_100mp_jpeg):
    # issue 24: a real 98 MP grey scan was refused as a decompression bomb, with no setting
    assert 10 < SCAN_SIZE[0] * SCAN_SIZE[1] / scan_100mp_jpeg.stat().st_size < 40  # pixels per byte, as a real scan
    image = open_checked(scan_100mp_jpeg)
    assert image.size == SCAN_SIZE and image.mode == "L"
    assert np.asarray(image).std() > 20  # real pixels, decoded to the end
    image.close()

    refused = _refusal(scan_100mp_jpeg, max_pixels=50_000_000)
    assert refused.reason == "too-large" and refused.size == SCAN_SIZE
    assert "--max-pixels" in refused.detail and "10684x9359" in refused.detail
    # over twice the budget Pillow itself refuses the header: still the budget's reason and setting
    refused = _refusal(scan_100mp_jpeg.read_bytes(), max_pixels=20_000_000)
    assert refused.reason == "too-large" and "--max-pixels" in refused.detail
    assert open_checked(scan_100mp_jpeg, max_pixels=110_000_000).size == SCAN_SIZE


def test_a_near_empty_400_megapixel_png_is_refused_as_implausible_at_any_budget():
    bomb = near_empty_png(20000, 20000)
    assert len(bomb) < 500_000
    for budget in (600_000_000, 10**12):  # the default, and a budget that admits the pixels many times over
        refused = _refusal(bomb, max_pixels=budget)
        assert refused.reason == "implausible", refused
        assert "decompression bomb" in refused.detail and "--max-pixels" in refused.detail
        assert "20000x20000" in refused.detail and refused.size == (20000, 20000)


def test_a_flat_picture_under_the_floor_is_not_judged():
    side = int(PLAUSIBILITY_FLOOR**0.5) - 8  # ~32 MP of black: cheap to decode, so admitted
    image = open_checked(near_empty_png(side, side))
    assert image.size == (side, side) and image.getextrema() == (0, 0)


@pytest.fixture(scope="module")
def scan_300mp_jpeg(tmp_path_factory) -> bytes:
    return upscaled_scan(300, tmp_path_factory.mktemp("giant") / "scan-300mp.jpg").read_bytes()


@pytest.mark.parametrize("kept", [0.5, 0.01])
def test_a_truncated_giant_is_refused_as_truncated_before_decoding(scan_300mp_jpeg, kept):
    with pillow_pixel_cap(10**9), Image.open(io.BytesIO(scan_300mp_jpeg)) as header:
        assert header.width * header.height > 299_000_000
    cut = scan_300mp_jpeg[: int(len(scan_300mp_jpeg) * kept)]
    refused = _refusal(cut)  # half of it is as dense as a real scan; 1% would also be implausible
    assert refused.reason == "truncated" and "end-of-image" in refused.detail, refused


def test_a_truncated_file_the_structure_cannot_tell_is_refused_as_truncated_by_the_decode(bw_archive_dir):
    buffer = io.BytesIO()
    with Image.open(bw_archive_dir / "dustbowl_people.jpg") as photo:
        photo.convert("L").save(buffer, format="BMP")
    refused = _refusal(buffer.getvalue()[: buffer.tell() // 2])
    assert refused.reason == "truncated" and "truncated" in refused.detail


def test_pillow_own_cap_neither_decides_nor_changes(scan_100mp_jpeg, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # a process that set it low for itself
    working = open_for_working_size(scan_100mp_jpeg, 512)
    assert working.info["full_size"] == SCAN_SIZE
    assert Image.MAX_IMAGE_PIXELS == 1_000_000  # raised to the budget for the guarded open only


def test_the_working_size_copy_of_a_jpeg_is_a_draft_decode_close_to_the_full_one(scan_100mp_jpeg, tmp_path):
    working = open_for_working_size(scan_100mp_jpeg, 1024, mode="L")
    # 1/8 scale in the DCT: 1,336 x 1,170, 1/64 of the pixels, at least 1,024 on the longer side
    assert working.size == ((SCAN_SIZE[0] + 7) // 8, (SCAN_SIZE[1] + 7) // 8) and working.mode == "L"
    assert working.info["full_size"] == SCAN_SIZE
    with pillow_pixel_cap(SCAN_SIZE[0] * SCAN_SIZE[1]), Image.open(scan_100mp_jpeg) as original:
        reference = np.asarray(original.reduce(8), dtype=np.float32)  # full decode, then 8 x 8 means
    assert np.abs(np.asarray(working, dtype=np.float32) - reference).mean() < 2.0
    small = tmp_path / "small.png"
    Image.new("L", (300, 200), 90).save(small)
    assert open_for_working_size(small, 64).size == (300, 200)  # not a JPEG: decoded as stored
