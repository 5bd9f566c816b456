"""Which bundle and which working size a run uses: shipped names, a bundle's own working size, the
explicit size winning; and the channels_last annealed mean giving the NCHW numbers."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from inference.colorizer import Colorizer, ColorizeSettings
from inference.model_loading import MODELS_DIR, default_bundle_path, resolve_bundle
from inference.working_size import DEFAULT_WORKING_SIZE
from training.heads import annealed_mean


def _bundle_with_working_size(tiny_bundle: Path, folder: Path, size: int | None) -> Path:
    shutil.copytree(tiny_bundle, folder)
    config = json.loads((folder / "config.json").read_text())
    if size is not None:
        config["working_size"] = size
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_bundle_names_its_working_size_and_an_explicit_size_wins(tiny_bundle, tmp_path):
    sized = _bundle_with_working_size(tiny_bundle, tmp_path / "sized", 96)
    assert Colorizer.from_bundle(sized).settings.working_size == 96
    assert Colorizer.from_bundle(sized, ColorizeSettings(working_size=160)).settings.working_size == 160
    plain = _bundle_with_working_size(tiny_bundle, tmp_path / "plain", None)
    assert Colorizer.from_bundle(plain).settings.working_size == DEFAULT_WORKING_SIZE
    # the bundle's size reaches the model: a 600x400 picture runs at 96 px on its long side
    prepared = Colorizer.from_bundle(sized).prepare(_grey_png(600, 400))
    assert prepared.bucket == (64, 96)


def _grey_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_shipped_names_resolve_to_the_models_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TINTYPE_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_bundle(None) == default_bundle_path() == MODELS_DIR / "default"
    assert resolve_bundle("default") == MODELS_DIR / "default"
    assert resolve_bundle("fast") == MODELS_DIR / "fast"
    (tmp_path / "fast").mkdir()  # a folder the user made, of the same name, is theirs
    assert resolve_bundle("fast") == Path("fast")
    assert resolve_bundle(str(tmp_path / "run" / "bundle")) == tmp_path / "run" / "bundle"
    monkeypatch.setenv("TINTYPE_MODEL", str(tmp_path / "mine"))
    assert resolve_bundle(None) == resolve_bundle("") == tmp_path / "mine"


@pytest.mark.parametrize("temperature", [0.38, 1.0])
def test_channels_last_annealed_mean_matches_nchw(temperature):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 261, 12, 16, generator=generator) * 3
    centres = torch.randn(261, 2, generator=generator) * 50
    expected = annealed_mean(logits, centres, temperature)
    fast = annealed_mean(logits.contiguous(memory_format=torch.channels_last), centres, temperature)
    assert fast.shape == expected.shape == (2, 2, 12, 16)
    assert torch.allclose(fast, expected, atol=1e-3)


def test_a_bundle_re_exported_at_the_same_path_is_loaded_again(tmp_path):
    # one long-lived process (--inbox --every, a notebook): the loaded model is cached per process,
    # but a new training exported into the same RUN/bundle must be what the next run uses
    import shutil

    from inference.colorize_run import cached_colorizer
    from inference.colorizer import ColorizeSettings
    from inference.model_loading import resolve_bundle

    bundle = tmp_path / "bundle"
    shutil.copytree(resolve_bundle("fast"), bundle)
    settings = ColorizeSettings(working_size=64)
    first = cached_colorizer(str(bundle), settings, "cpu")
    assert cached_colorizer(str(bundle), settings, "cpu") is first  # unchanged: served from memory
    shutil.rmtree(bundle)
    shutil.copytree(resolve_bundle("default"), bundle)
    second = cached_colorizer(str(bundle), settings, "cpu")
    assert second is not first
    assert second.version == (bundle / "version.txt").read_text().strip() != first.version
