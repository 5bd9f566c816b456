"""Config (plain data) -> model. The config stored in a bundle rebuilds exactly the trained network.

A generator config is a dict: {"kind": "regression" | "classification" | "gan", ...the keyword
arguments of UNetGenerator...}. "gan" is a regression generator trained against a discriminator.
Classification configs carry the card's ab bin centres, so they rebuild without the card.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from training.patch_discriminator import PatchDiscriminator
from training.presets import MODEL_KINDS
from training.unet_generator import UNetGenerator

DEFAULT_GENERATOR: dict[str, Any] = {
    "kind": "regression",
    "width": 32,
    "depth": 4,
    "blocks_per_level": 1,
    "max_width_multiplier": 8,
    "upsample": "interp",
    "norm": "batch",
    "dropout": 0.0,
    "attention": False,
    "global_context": False,
    "temperature": 0.38,
    "chroma_gain": 1.0,
}

DEFAULT_DISCRIMINATOR: dict[str, Any] = {"width": 64, "layers": 3, "scales": 1}


def generator_config(kind: str, card: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete generator config for `kind`; classification takes its bins from the card."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    config = {**DEFAULT_GENERATOR, **overrides, "kind": kind}
    if kind == "classification":
        if card is None:
            raise ValueError("a classification model needs the dataset card (its ab bins)")
        config["bin_centres"] = card["ab_bins"]["centres"]
    return config


def build_model(config: dict[str, Any]) -> nn.Module:
    """Generator from its config (unknown keys are an error, so a typo never passes silently)."""
    options = {**DEFAULT_GENERATOR, **config}
    options.pop("working_size", None)  # an inference hint stored beside the architecture (inference/working_size.py)
    kind = options.pop("kind")
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    head = "classification" if kind == "classification" else "regression"
    if head == "regression":
        options.pop("bin_centres", None)
    return UNetGenerator(head=head, **options)


def build_discriminator(config: dict[str, Any] | None = None) -> PatchDiscriminator:
    return PatchDiscriminator(**{**DEFAULT_DISCRIMINATOR, **(config or {})})
