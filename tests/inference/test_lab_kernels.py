"""The numba Lab kernels against the NumPy implementation they replaced, on real archive photos with
real (and over-saturated) colour, and on random Lab colours far outside the sRGB gamut; plus their
on-disk compile cache, including a read-only install."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.full_res_lab import (
    RGB_FROM_XYZN,
    join_lightness_ab,
    lightness_of_grey,
    lightness_of_rgb,
)
from inference.working_size import working_shape
from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from tests.conftest import shared_folder
from tests.inference import full_res_lab_reference as reference
from tests.model_inputs import archive_sample

REPO = Path(__file__).resolve().parents[2]


def _real_colour_ab(index: int, shape: tuple[int, int]) -> np.ndarray:
    """ab (2, h, w) of a real colour photograph resized to `shape` (h, w)."""
    photos = sorted(shared_folder("caltech101").rglob("*.jpg"))
    random.Random(11).shuffle(photos)
    colour = [p for p in photos[:60] if Image.open(p).mode == "RGB"]
    small = load_rgb(colour[index % len(colour)]).resize(shape[::-1], Image.Resampling.BILINEAR)
    return np.ascontiguousarray(srgb_to_lab(np.asarray(small))[..., 1:].transpose(2, 0, 1))


def _assert_within_one_level(new: np.ndarray, old: np.ndarray) -> None:
    difference = np.abs(new.astype(np.int16) - old.astype(np.int16))
    assert new.shape == old.shape and new.dtype == np.uint8
    assert difference.max() <= 1
    assert np.mean(difference > 0) < 1e-3  # float rounding at a level's edge, not a systematic shift


def test_lightness_matches_the_numpy_tables_and_the_exact_conversion():
    for path in archive_sample()[:12]:
        rgb = np.asarray(load_rgb(path))
        lightness = lightness_of_rgb(rgb)
        assert lightness.dtype == np.float32 and lightness.shape == rgb.shape[:2]
        np.testing.assert_array_equal(lightness, reference.lightness_of_rgb(rgb))
        assert np.abs(lightness - srgb_to_lab(rgb)[..., 0]).max() < 0.02, path.name
    every_colour = np.arange(1 << 24, dtype=np.uint32)[::97]
    rgb = np.stack([(every_colour >> shift) & 255 for shift in (16, 8, 0)], axis=-1).astype(np.uint8)[None]
    assert np.abs(lightness_of_rgb(rgb) - srgb_to_lab(rgb)[..., 0]).max() < 0.02
    non_contiguous = np.asarray(load_rgb(archive_sample()[0]))[::2, ::3]
    np.testing.assert_array_equal(lightness_of_rgb(non_contiguous), reference.lightness_of_rgb(non_contiguous))


@pytest.mark.parametrize("saturation", [1.0, 3.0])
def test_join_matches_the_numpy_join_on_archive_photos(saturation):
    gamut_pixels = 0
    for index, path in enumerate(archive_sample()[:8]):
        image = load_rgb(path)
        lightness = lightness_of_rgb(np.asarray(image))
        ab = _real_colour_ab(index, working_shape(image.width, image.height)) * np.float32(saturation)
        new = join_lightness_ab(lightness, ab)
        _assert_within_one_level(new, reference.join_lightness_ab(lightness, ab))
        # The gamut handling keeps L: the output's L is the input's up to 8-bit rounding.
        assert np.abs(srgb_to_lab(new)[..., 0] - lightness).max() < 1.0, path.name
        gamut_pixels += int(np.count_nonzero((new == 0) | (new == 255)))
    if saturation > 1:
        assert gamut_pixels > 10_000  # the over-saturated case really leaves the gamut


def test_join_matches_the_numpy_join_on_random_colours_out_of_gamut():
    rng = np.random.default_rng(4)
    lightness = rng.uniform(0.0, 100.0, (211, 300)).astype(np.float32)
    lightness[0, :4] = (0.0, 100.0, 0.0, 100.0)  # the ends of the L range
    for ab in (rng.uniform(-160, 160, (2, 211, 300)), rng.uniform(-160, 160, (2, 37, 53)), rng.uniform(-30, 30, (2, 5, 400))):
        ab = ab.astype(np.float32)
        same_size = ab.shape[1:] == lightness.shape
        if same_size:
            fy = (lightness + 16) / 116
            linear = np.tensordot(RGB_FROM_XYZN, reference._f_inverse(np.stack([fy + ab[0] / 500, fy, np.maximum(fy - ab[1] / 200, 0)])), 1)
            assert np.mean((linear < 0).any(0) | (linear > 1).any(0)) > 0.5  # mostly out of gamut
        _assert_within_one_level(join_lightness_ab(lightness, ab), reference.join_lightness_ab(lightness, ab))
    broken = np.full((2, 6, 8), np.nan, dtype=np.float32)
    broken[:, :3] = 20.0
    broken[1, 4] = np.inf
    joined = join_lightness_ab(lightness, broken)  # a broken model output must not read outside the table
    assert joined.shape == (211, 300, 3) and not np.array_equal(joined[:40], joined[-40:])
    grey = np.arange(256, dtype=np.uint8)[None].repeat(3, 0)
    neutral = join_lightness_ab(lightness_of_grey(grey), np.zeros((2, 1, 1), np.float32))
    assert np.abs(neutral.astype(int) - grey[..., None]).max() <= 1  # zero ab gives back the grey


def _first_call_report(env: dict[str, str], cwd: Path) -> dict:
    """In a fresh process: import, run both kernels once, report timing and cache use."""
    script = (
        "import json, time, numpy as np\n"
        "started = time.perf_counter()\n"
        "from inference.full_res_lab import join_lightness_ab, lightness_of_rgb\n"
        "from inference import lab_kernels\n"
        "imported = time.perf_counter()\n"
        "light = lightness_of_rgb(np.zeros((8, 8, 3), np.uint8))\n"
        "join_lightness_ab(light, np.ones((2, 4, 4), np.float32))\n"
        "kernels = (lab_kernels.lightness_kernel, lab_kernels.join_kernel)\n"
        "print(json.dumps({'first_call_s': time.perf_counter() - imported,\n"
        "    'hits': sum(sum(k.stats.cache_hits.values()) for k in kernels),\n"
        "    'cache': [type(k._cache).__name__ for k in kernels]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_compiled_kernels_are_cached_in_numba_cache_dir(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"), "PYTHONPATH": str(REPO)}
    first = _first_call_report(env, REPO)
    assert first["hits"] == 0 and list((tmp_path / "numba-cache").rglob("*.nbi"))
    second = _first_call_report(env, REPO)
    assert second["hits"] == 2 and second["first_call_s"] < first["first_call_s"]


def test_kernels_work_from_a_read_only_install(tmp_path):
    """A read-only package folder: numba caches in the user's cache folder, or (nowhere writable) compiles per process."""
    package = tmp_path / "ro"
    for name in ("inference", "preprocessing", "training"):
        shutil.copytree(REPO / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs a private mount namespace (unshare --mount) to make a read-only bind mount")
    home = tmp_path / "home"
    script = (
        f"mount --bind {package} {package} && mount -o remount,ro,bind {package} && "
        f"! touch {package}/probe 2>/dev/null && "
        f"HOME={home} XDG_CACHE_HOME={home}/.cache {sys.executable} -c \"$0\" && "
        f"HOME=/proc/nowhere XDG_CACHE_HOME=/proc/nowhere {sys.executable} -c \"$0\""
    )
    check = (
        "import numpy as np\n"
        "from inference.full_res_lab import join_lightness_ab, lightness_of_rgb\n"
        "from inference import lab_kernels\n"
        "light = lightness_of_rgb(np.full((8, 8, 3), 128, np.uint8))\n"
        "assert join_lightness_ab(light, np.zeros((2, 4, 4), np.float32))[0, 0].tolist() == [128, 128, 128]\n"
        "print(type(lab_kernels.join_kernel._cache).__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script, check], cwd=package, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["FunctionCache", "NullCache"]
    assert list((home / ".cache" / "numba").rglob("*.nbi"))  # the user-wide cache took the compiled code
    assert not list(package.rglob("*.nbi"))
