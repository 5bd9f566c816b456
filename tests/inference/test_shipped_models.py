"""The shipped bundles (models/default, models/fast) on real photos: they load, run at their own
working size, keep the picture's size and lightness, and really add colour to black-and-white prints
and to bsds500 photos turned gray, without losing to the gray baseline."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inference.colorizer import Colorizer
from inference.model_loading import MODELS_DIR
from preprocessing.colour.colourfulness import colourfulness
from preprocessing.colour.lab_numpy import srgb_to_lab
from tests.conftest import shared_folder

WORKING_SIZES = {"default": 320, "fast": 160}


def _shipped(name: str) -> Colorizer:
    bundle = MODELS_DIR / name
    if not (bundle / "version.txt").is_file():
        pytest.skip(f"models/{name} is not in this checkout")
    return Colorizer.from_bundle(bundle)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(WORKING_SIZES))
def test_shipped_model_colours_archive_prints_at_its_working_size(name):
    colorizer = _shipped(name)
    assert colorizer.settings.working_size == WORKING_SIZES[name]
    prints = sorted(shared_folder("bw-archive").glob("*.jpg"))[:4]
    for path in prints:
        original = Image.open(path).convert("L")
        out = Image.open(io.BytesIO(colorizer.colorize_bytes(path.read_bytes())))
        assert out.size == original.size and out.mode == "RGB"
        lab = srgb_to_lab(np.asarray(out, dtype=np.float32) / 255.0)
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        assert float(np.percentile(chroma, 90)) > 4.0, (path.name, float(np.percentile(chroma, 90)))
        grey_l = srgb_to_lab(np.repeat(np.asarray(original, dtype=np.float32)[..., None] / 255.0, 3, axis=-1))[..., 0]
        assert float(np.abs(lab[..., 0] - grey_l).mean()) < 1.5  # the original's lightness, within quantisation


@pytest.mark.parametrize("name", sorted(WORKING_SIZES))
def test_shipped_model_beats_nothing_on_bsds500_photos(name):
    """The 100 bsds500/val photos made gray and colorized: colourful, and PSNR against the truth no worse
    than the gray picture's by more than 0.5 dB on average (the cards give the figures)."""
    colorizer = _shipped(name)
    photos = sorted(shared_folder("bsds500").joinpath("val").glob("*.jpg"))
    gains, colours = [], []
    for path in photos:
        truth = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
        gray = Image.open(path).convert("L")
        out = np.asarray(Image.open(io.BytesIO(colorizer.colorize_bytes(_jpeg(gray)))).convert("RGB"), dtype=np.float64)
        baseline = np.asarray(gray.convert("RGB"), dtype=np.float64)
        gains.append(_psnr(out, truth) - _psnr(baseline, truth))
        colours.append(colourfulness(out.astype(np.uint8)))
    assert float(np.mean(colours)) > 12.0, float(np.mean(colours))
    assert float(np.mean(gains)) > -0.5, float(np.mean(gains))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


@pytest.mark.parametrize("name", ["fast", None])
def test_colorize_command_takes_the_shipped_models(prefect_server, tmp_path, monkeypatch, name):
    """`tintype colorize IN OUT --model fast` runs models/fast; with no --model (and no $TINTYPE_MODEL)
    the flow runs the shipped default, the pretrained-encoder model."""
    from cli.main import main
    from inference.colorize_run import workspace_of
    from inference.run_ledger import RunLedger

    monkeypatch.delenv("TINTYPE_MODEL", raising=False)
    expected = _shipped(name or "default")
    if name is None:
        assert expected.model.encoder.name == "efficientnet-lite0"
    source = tmp_path / "prints"
    source.mkdir()
    for path in sorted(shared_folder("bw-archive").glob("*.jpg"))[:2]:
        (source / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "colour"
    assert main(["colorize", str(source), str(out), *(["--model", name] if name else [])]) == 0
    entries = list(RunLedger(workspace_of(out)).entries().values())
    assert len(entries) == 2 and {entry.status for entry in entries} == {"done"}
    assert {entry.model_version for entry in entries} == {expected.version}
    assert all((out / entry.output).is_file() for entry in entries)
