"""The studio page end to end in headless Chromium: bad uploads refused on the page, a real photo colorized."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import requests
from PIL import Image

from inference.model_loading import MODELS_DIR
from inference.working_size import bundle_working_size
from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from safe_files.atomic_output import read_json
from tests.studio.conftest import REPO, UPLOAD_LIMIT_MB, StudioProcess, drive_page
from tests.studio.hostile_uploads import (
    not_an_image,
    oversized_jpeg_lookalike,
    png_bomb,
)

# Tests never rewrite tracked files; TINTYPE_UPDATE_SCREENSHOT=1 refreshes the one in docs/.
DOCS_SCREENSHOT = REPO / "docs" / "studio-screenshot.png"
SCREENSHOT_LIMIT = 500_000


def _photos(bw_archive_dir):
    """Two real black-and-white JPEGs of the archive, small enough to be quick."""
    photos = sorted(p for p in bw_archive_dir.iterdir() if p.suffix.lower() == ".jpg" and 60_000 < p.stat().st_size < 200_000)
    assert len(photos) >= 2, "no suitable photos in the archive"
    return [photos[len(photos) // 2], photos[len(photos) // 3]]


def _save_small_png(raw: bytes, path) -> None:
    """The screenshot as a 128-colour PNG (the docs want it small), written atomically."""
    from safe_files.atomic_output import write_bytes_atomic

    image = Image.open(io.BytesIO(raw)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, format="PNG", optimize=True)
    write_bytes_atomic(path, buffer.getvalue())


def test_page_colorizes_a_real_photo_and_refuses_bad_input(studio, e2e_driver, bw_archive_dir, tmp_path):
    photos = _photos(bw_archive_dir)
    # Refreshing the docs' screenshot (the studio then serves the shipped default): the user's view, saturation 1.
    refreshing = bool(os.environ.get("TINTYPE_UPDATE_SCREENSHOT"))
    saturation = "1" if refreshing else "2.5"
    expected_size = bundle_working_size(read_json(MODELS_DIR / "default" / "config.json")) if refreshing else 256
    (tmp_path / "letter.jpg").write_bytes(not_an_image())  # named like a picture: the bytes decide
    (tmp_path / "bomb.png").write_bytes(png_bomb())
    (tmp_path / "huge-scan.jpg").write_bytes(oversized_jpeg_lookalike(UPLOAD_LIMIT_MB + 1))
    findings = drive_page(
        e2e_driver, studio.url, MODE="full", PHOTOS="|".join(map(str, photos)), NOT_IMAGE=str(tmp_path / "letter.jpg"),
        BOMB=str(tmp_path / "bomb.png"), BIG_FILE=str(tmp_path / "huge-scan.jpg"), OUT_DIR=str(tmp_path),
        SCREENSHOT=str(tmp_path / "screenshot.png"), SATURATION=saturation,
    )
    assert findings["banner_hidden"] and len(findings["models"]) == 1
    errors = findings["errors"]
    assert errors["not_image"].startswith("letter.jpg: not an image"), errors
    assert "decompression bomb: 12000x12000 is 144 megapixels" in errors["bomb"], errors
    assert "too large" in errors["too_big"] and f"{UPLOAD_LIMIT_MB * 1.048576:.1f} MB upload limit" in errors["too_big"], errors
    assert studio.alive()
    # Progress was on the page: the queue position first, then done.
    assert any("in the queue" in stage or "%" in stage for stage in findings["stages"]), findings["stages"]
    assert any(stage.startswith("done in") for stage in findings["stages"]), findings["stages"]
    assert findings["clip"] == "inset(0px 60% 0px 0px)"  # the slider moved the before image's edge
    assert findings["jobs_done"] == 3  # and a sample after everything else
    assert not findings["external_requests"], findings["external_requests"]  # nothing from the internet
    unexpected = [e for e in findings["console_errors"] if "status of 413" not in e and "status of 415" not in e]
    assert not unexpected, findings["console_errors"]  # only the refusals above

    # The download (of the job that finished last): a colour picture at its input's full size.
    photo = next(p for p in photos if findings["download_name"] == f"colorized-{p.name}")
    result = Image.open(findings["download_path"])
    result.load()
    original = load_rgb(photo)
    assert result.format == "JPEG" and result.mode == "RGB" and result.size == original.size
    chroma = np.hypot(*srgb_to_lab(np.asarray(result))[..., 1:].reshape(-1, 2).T)
    original_chroma = np.hypot(*srgb_to_lab(np.asarray(original))[..., 1:].reshape(-1, 2).T)
    # The tiny test model at saturation 2.5 adds colour to any print; the shipped default at the user's
    # saturation 1 may paint a sepia-toned print no more chromatic than its tone, but never gray.
    wanted = 3.0 if refreshing else original_chroma.mean() + 1.0
    assert chroma.mean() > wanted, (chroma.mean(), original_chroma.mean())
    record = requests.get(f"{studio.url}api/jobs/{findings['job_id']}", timeout=10).json()
    assert record["state"] == "done" and record["saturation"] == float(saturation) and record["working_size"] == expected_size

    SCREENSHOT = DOCS_SCREENSHOT if os.environ.get("TINTYPE_UPDATE_SCREENSHOT") else tmp_path / "studio-screenshot.png"
    _save_small_png((tmp_path / "screenshot.png").read_bytes(), SCREENSHOT)
    assert 0 < SCREENSHOT.stat().st_size < SCREENSHOT_LIMIT
    with Image.open(SCREENSHOT) as shot:
        assert shot.width == 1180 and shot.height >= 900  # the whole page


def test_page_says_when_there_is_no_model(empty_studio, e2e_driver):
    findings = drive_page(e2e_driver, empty_studio.url, MODE="no-model")
    assert "No model bundle found" in findings["banner"] and "--model" in findings["banner"]
    assert "No model bundle found" in findings["sample_error"]
    assert not findings["external_requests"]
    assert empty_studio.alive()


def test_working_size_knob_follows_the_chosen_bundle(e2e_driver, tmp_path):
    """The shipped models folder offered: picking a bundle moves the knob to that bundle's size."""
    if not all((MODELS_DIR / name / "version.txt").is_file() for name in ("default", "fast")):
        pytest.skip("the shipped models are not in this checkout")
    server = StudioProcess(tmp_path, "--models-dir", str(MODELS_DIR), "--work-dir", str(tmp_path / "work"))
    try:
        findings = drive_page(e2e_driver, server.url, MODE="models")
    finally:
        server.stop()
    assert findings["sizes"] == {"default": ["320", "320"], "fast": ["160", "160"]}, findings
    assert findings["first_size"] == findings["sizes"][next(iter(findings["sizes"]))][0]
    assert not findings["console_errors"] and not findings["external_requests"]
