"""The model bundle: the folder the inference stage loads.

    bundle/
      weights.pt     generator state_dict (tensors only: torch.load(weights_only=True) is safe)
      config.json    plain data that rebuilds the generator (model_factory.build_model), with "kind"
      dataset.json   the dataset card it was trained on
      metrics.json   its last evaluation
      version.txt    "tintype-<kind>-<first 12 hex of the weights' sha256>"

The folder is built beside `out_dir` and swapped in (safe_files.atomic_output.atomic_folder), so a
reader sees the old bundle or the new one, never a half-written folder.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from safe_files.atomic_output import (
    atomic_folder,
    read_json,
    write_bytes_atomic,
    write_json_atomic,
)
from training.model_factory import PROVENANCE_KEYS, build_model

BUNDLE_FILES = ("weights.pt", "config.json", "dataset.json", "metrics.json", "version.txt")
# Inference-time calibration, not architecture: a fine-tune may start from a bundle calibrated otherwise.
CALIBRATION_KEYS = ("temperature", "chroma_gain")


def missing_files(path: Path, names: tuple[str, ...] = BUNDLE_FILES) -> list[str]:
    """Which of the bundle files `names` the folder `path` lacks."""
    return [name for name in names if not (path / name).is_file()]


@dataclass
class LoadedBundle:
    model: nn.Module
    config: dict[str, Any]
    card: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = ""


def plain_module(model: nn.Module) -> nn.Module:
    """Unwrap DistributedDataParallel and torch.compile so the state_dict keys are the plain model's."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


def generator_state_bytes(model: nn.Module) -> bytes:
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in plain_module(model).state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def export_bundle(
    model: nn.Module, config: dict[str, Any], card: dict[str, Any], metrics: dict[str, Any], out_dir: str | Path
) -> Path:
    weights = generator_state_bytes(model)
    version = f"tintype-{config['kind']}-{hashlib.sha256(weights).hexdigest()[:12]}"  # a content address
    with atomic_folder(out_dir) as staging:
        write_bytes_atomic(staging / "weights.pt", weights)
        write_json_atomic(staging / "config.json", config)
        write_json_atomic(staging / "dataset.json", card)
        write_json_atomic(staging / "metrics.json", {**metrics, "version": version})
        write_bytes_atomic(staging / "version.txt", (version + "\n").encode())
    return Path(out_dir)


def load_bundle(path: str | Path, device: str | torch.device = "cpu") -> LoadedBundle:
    path = Path(path)
    if missing := missing_files(path):
        raise FileNotFoundError(f"not a tintype model bundle: {path} lacks {', '.join(missing)}")
    config = read_json(path / "config.json")
    model = build_model(config)
    state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.to(device).eval()
    metrics = read_json(path / "metrics.json")
    version = (path / "version.txt").read_text().strip()
    return LoadedBundle(model=model, config=config, card=read_json(path / "dataset.json"), metrics=metrics, version=version)


def starting_weights(path: str | Path, model_config: dict[str, Any]) -> tuple[dict[str, torch.Tensor], str]:
    """The generator weights and version of the bundle a fine-tune starts from. Refused, naming the
    differences, unless the bundle's architecture (and, for classification, its ab bins) is the run's."""
    path = Path(path)
    if missing := missing_files(path, ("weights.pt", "config.json", "version.txt")):
        raise FileNotFoundError(f"init_from {path} is not a tintype model bundle (it lacks {', '.join(missing)})")
    ignored = set(PROVENANCE_KEYS) | set(CALIBRATION_KEYS)
    theirs = {k: v for k, v in read_json(path / "config.json").items() if k not in ignored}
    ours = {k: v for k, v in model_config.items() if k not in ignored}
    differing = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
    if differing:
        shown = ", ".join(f"{k}: bundle {str(theirs.get(k))[:40]} vs run {str(ours.get(k))[:40]}" for k in differing)
        raise ValueError(f"cannot start from {path}: its network differs from this run's ({shown}); "
                         "train with the same encoder, width and kind, on a dataset card with the same ab bins")
    state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
    return {name: tensor.float() if tensor.is_floating_point() else tensor for name, tensor in state.items()}, \
        (path / "version.txt").read_text().strip()
