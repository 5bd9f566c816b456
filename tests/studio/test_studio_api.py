"""The studio's HTTP API against a real server: refusals with reasons, the queue, progress, downloads."""

from __future__ import annotations

import io
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from inference.model_loading import MODELS_DIR
from preprocessing.images.image_loading import load_rgb
from tests.studio.conftest import TINTYPE, UPLOAD_LIMIT_MB, StudioProcess
from tests.studio.hostile_uploads import (
    not_an_image,
    oversized_jpeg_lookalike,
    png_bomb,
)


def _post(studio, data, name="picture.jpg", **knobs) -> requests.Response:
    return requests.post(f"{studio.url}api/jobs", params={"name": name, **knobs}, data=data, timeout=60,
                         headers={"Content-Type": "application/octet-stream"})


def _wait(studio, job_id: str, timeout: float = 120) -> list[dict]:
    """Poll a job until it ends; every record seen, in order."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = requests.get(f"{studio.url}api/jobs/{job_id}", timeout=10).json()
        seen.append(record)
        if record["state"] in ("done", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {seen[-1]}")


def _archive_photos(bw_archive_dir, suffix: str, count: int) -> list:
    photos = sorted(p for p in bw_archive_dir.iterdir() if p.suffix.lower() == suffix and p.stat().st_size < 1_500_000)
    return photos[:count]


@pytest.mark.parametrize("make,status,reason,words", [
    (lambda: not_an_image(), 415, "not-an-image", "not an image"),
    (lambda: b"", 400, "empty", "empty"),
    (lambda: png_bomb(), 413, "implausible", "decompression bomb: 12000x12000"),  # 144 MP in 0.14 MB
    (lambda: oversized_jpeg_lookalike(UPLOAD_LIMIT_MB + 0.5), 413, "too-big", "upload limit"),
])
def test_refusals_say_why_and_the_server_stays_up(studio, make, status, reason, words):
    answer = _post(studio, make())
    assert answer.status_code == status and answer.json()["reason"] == reason and words in answer.json()["error"]
    assert requests.get(f"{studio.url}api/health", timeout=10).ok and studio.alive()


def test_oversized_stream_without_length_is_cut_off(studio):
    def chunks():  # chunked transfer: the server learns the size only by reading
        for _ in range(UPLOAD_LIMIT_MB * 4 + 8):
            yield b"\xff" * 262_144

    answer = requests.post(f"{studio.url}api/jobs", params={"name": "endless.jpg"}, data=chunks(), timeout=60)
    assert answer.status_code == 413 and answer.json()["reason"] == "too-big"
    assert studio.alive()


def test_truncated_photo_is_refused_as_corrupt(studio, bw_archive_dir):
    photo = _archive_photos(bw_archive_dir, ".jpg", 1)[0].read_bytes()
    answer = _post(studio, photo[: len(photo) // 3])
    assert answer.status_code == 422 and answer.json()["reason"] == "corrupt"
    assert "JPEG file cannot be decoded" in answer.json()["error"]


@pytest.mark.parametrize("knobs,words", [
    ({"model": "0123456789ab"}, "no longer available"),
    ({"working_size": "16"}, "working size must be between 64 and 2048"),
    ({"working_size": "big"}, "whole number"),
    ({"saturation": "nan"}, "saturation must be between 0 and 3"),
    ({"saturation": "7"}, "saturation must be between 0 and 3"),
])
def test_bad_knobs_are_refused(studio, bw_archive_dir, knobs, words):
    photo = _archive_photos(bw_archive_dir, ".jpg", 1)[0].read_bytes()
    answer = _post(studio, photo, **knobs)
    assert answer.status_code in (400, 404) and words in answer.json()["error"], answer.text


def test_queue_shows_progress_and_every_job_finishes(studio, bw_archive_dir):
    photos = _archive_photos(bw_archive_dir, ".jpg", 2) + _archive_photos(bw_archive_dir, ".png", 1)
    jobs = []
    for photo in photos:  # all queued at once: one worker, so the later ones wait their turn
        answer = _post(studio, photo.read_bytes(), name=f"../../{photo.name}", working_size=384)
        assert answer.status_code == 202, answer.text
        jobs.append(answer.json())
    assert jobs[-1]["state"] == "queued" and jobs[-1]["queue_position"] >= 2
    for photo, job in zip(photos, jobs):
        seen = _wait(studio, job["id"])
        progress = [record["progress"] for record in seen]
        assert progress == sorted(progress) and seen[-1]["state"] == "done", seen[-1]
        assert job["name"] == photo.name  # no path from the browser survives
        original = load_rgb(photo)
        answer = requests.get(f"{studio.url}api/jobs/{job['id']}/result", timeout=30)
        assert answer.ok and f'filename="colorized-{photo.name}"' in answer.headers["content-disposition"]
        result = Image.open(io.BytesIO(answer.content))
        assert result.size == original.size and result.format == ("PNG" if photo.suffix == ".png" else "JPEG")
        previews = [Image.open(io.BytesIO(requests.get(f"{studio.url}api/jobs/{job['id']}/{side}", timeout=30).content))
                    for side in ("before", "after")]
        assert previews[0].size == previews[1].size and max(previews[0].size) <= 1600
    assert studio.alive()


def test_tiff_upload_comes_back_as_tiff_with_its_name(studio, bw_archive_dir):
    grey = load_rgb(_archive_photos(bw_archive_dir, ".jpg", 1)[0]).convert("L")
    buffer = io.BytesIO()
    grey.save(buffer, format="TIFF")
    job = _post(studio, buffer.getvalue(), name="scan 07.tiff").json()
    assert _wait(studio, job["id"])[-1]["state"] == "done"
    answer = requests.get(f"{studio.url}api/jobs/{job['id']}/result", timeout=30)
    result = Image.open(io.BytesIO(answer.content))
    assert result.format == "TIFF" and result.size == grey.size and 'filename="colorized-scan 07.tiff"' in answer.headers["content-disposition"]
    assert np.asarray(result.convert("RGB")).std(axis=2).mean() > 0.5  # no longer grey


def test_samples_are_grey_and_colorize(studio):
    config = requests.get(f"{studio.url}api/config", timeout=10).json()
    assert len(config["samples"]) >= 3
    sample = config["samples"][0]
    picture = Image.open(io.BytesIO(requests.get(studio.url + sample["url"].lstrip("/"), timeout=10).content))
    assert picture.mode == "L"
    job = requests.post(f"{studio.url}api/samples/{sample['name']}/jobs", timeout=30).json()
    assert _wait(studio, job["id"])[-1]["state"] == "done"
    assert requests.post(f"{studio.url}api/samples/nope.jpg/jobs", timeout=30).status_code == 404


def test_studio_without_a_model_says_so(empty_studio):
    config = requests.get(f"{empty_studio.url}api/config", timeout=10).json()
    assert config["models"] == [] and "No model bundle found" in config["no_model_message"]
    answer = requests.post(f"{empty_studio.url}api/samples/{config['samples'][0]['name']}/jobs", timeout=30)
    assert answer.status_code == 409 and answer.json()["reason"] == "no-model"


def test_cli_refuses_a_missing_bundle(tmp_path):
    done = subprocess.run([str(TINTYPE), "studio", "--model", str(tmp_path / "nothing")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no model bundle at" in done.stderr


def test_each_shipped_bundle_runs_at_its_own_working_size(tmp_path, bw_archive_dir):
    """The shipped models folder offered: the page learns each bundle's working size, and a job that
    names no size runs at the chosen bundle's (160 for fast, 320 for default)."""
    if not all((MODELS_DIR / name / "version.txt").is_file() for name in ("default", "fast")):
        pytest.skip("the shipped models are not in this checkout")
    server = StudioProcess(tmp_path, "--models-dir", str(MODELS_DIR), "--work-dir", str(tmp_path / "work"))
    try:
        models = requests.get(f"{server.url}api/config", timeout=10).json()["models"]
        sizes = {Path(m["label"].split(" ")[0]).name: m["working_size"] for m in models}
        assert sizes["fast"] == 160 and sizes["default"] == 320, models
        fast = next(m for m in models if m["label"].startswith("fast"))
        photo = _archive_photos(bw_archive_dir, ".jpg", 1)[0].read_bytes()
        answer = _post(server, photo, model=fast["id"])
        assert answer.status_code == 202, answer.text
        seen = _wait(server, answer.json()["id"])
        assert seen[-1]["state"] == "done" and seen[-1]["working_size"] == 160, seen[-1]
    finally:
        server.stop()
