"""Config (plain data) -> model. The config stored in a bundle rebuilds exactly the trained network.

A generator config is a dict: {"kind": "regression" | "classification" | "gan", "encoder": ..., ...the
keyword arguments of the generator...}. "gan" is a regression generator trained against a discriminator.
Classification configs carry the card's ab bin centres, so they rebuild without the card.

`encoder` "scratch" (the default, and what configs without the key mean) is the U-Net learnt from
nothing (UNetGenerator); an EfficientNet-Lite name is the pretrained-encoder colorizer (EncoderUNet),
whose decoder has its own, smaller set of knobs (ENCODER_GENERATOR). Its config also records
`encoder_weights` (package and sha256 of the ImageNet weights it started from): provenance only, the
bundle's own weights.pt holds the trained encoder. A run fine-tuned from another bundle records that
bundle's version as `started_from`.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from training.encoder_unet import EncoderUNet
from training.patch_discriminator import PatchDiscriminator
from training.presets import MODEL_KINDS
from training.pretrained_encoder import ENCODERS
from training.unet_generator import UNetGenerator

DEFAULT_GENERATOR: dict[str, Any] = {
    "kind": "regression",
    "encoder": "scratch",
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

ENCODER_GENERATOR: dict[str, Any] = {
    "kind": "classification",
    "encoder": "efficientnet-lite0",
    "width": 48,
    "norm": "batch",
    "dropout": 0.0,
    "upsample": "interp",
    "temperature": 0.38,
    "chroma_gain": 1.0,
}
PROVENANCE_KEYS = ("working_size", "encoder_weights", "started_from")  # stored beside the architecture, not part of it

DEFAULT_DISCRIMINATOR: dict[str, Any] = {"width": 64, "layers": 3, "scales": 1}


def _defaults_for(encoder: str) -> dict[str, Any]:
    """The architecture defaults of the generator an `encoder` value selects."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; known: {', '.join(ENCODERS)}")
    return DEFAULT_GENERATOR if encoder == "scratch" else ENCODER_GENERATOR


def generator_config(kind: str, card: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete generator config for `kind`; classification takes its bins from the card."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    config = {**_defaults_for(overrides.get("encoder", "scratch")), **overrides, "kind": kind}
    if kind == "classification":
        if card is None:
            raise ValueError("a classification model needs the dataset card (its ab bins)")
        config["bin_centres"] = card["ab_bins"]["centres"]
    return config


def build_model(config: dict[str, Any]) -> nn.Module:
    """Generator from its config (unknown keys are an error, so a typo never passes silently)."""
    options = {**_defaults_for(config.get("encoder", "scratch")), **config}
    for key in PROVENANCE_KEYS:  # e.g. working_size: an inference hint (inference/working_size.py)
        options.pop(key, None)
    kind = options.pop("kind")
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    head = "classification" if kind == "classification" else "regression"
    if head == "regression":
        options.pop("bin_centres", None)
    encoder = options.pop("encoder")
    if encoder == "scratch":
        return UNetGenerator(head=head, **options)
    return EncoderUNet(encoder=encoder, head=head, **options)


def build_discriminator(config: dict[str, Any] | None = None) -> PatchDiscriminator:
    return PatchDiscriminator(**{**DEFAULT_DISCRIMINATOR, **(config or {})})
