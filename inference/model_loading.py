"""Which bundle a run colorizes with (the shipped `default` and `fast`, or a path), and BatchNorm folded for inference.

The shipped model bundles: `default` (models/default, the quality model) and `fast` (models/fast, the
small CPU model). $TINTYPE_MODEL replaces the default; `--model fast` or any bundle folder picks another.

Fold inference-mode BatchNorm into the convolution before it: one fewer pass over every feature map.

In eval mode BatchNorm is a per-channel affine map, y = (x - mean) / sqrt(var + eps) * gamma + beta,
so conv-then-BN equals one conv with rescaled weights and a bias; the fold is exact up to float
rounding (outputs agree to ~1e-5). The bundle's weights on disk are untouched: this runs on the
loaded copy, and only for a model that is in eval mode (a training model needs its BN statistics).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
SHIPPED_BUNDLE = MODELS_DIR / "default"
SHIPPED_NAMES = ("default", "fast")


def default_bundle_path() -> Path:
    override = os.environ.get("TINTYPE_MODEL")
    return Path(override) if override else SHIPPED_BUNDLE


def resolve_bundle(model: str | os.PathLike | None) -> Path:
    """A bundle folder from what a user typed: empty -> the default, a shipped name -> models/NAME,
    anything else -> that folder (an existing folder of the same name wins over a shipped name)."""
    if not model:
        return default_bundle_path()
    path = Path(model)
    if str(model) in SHIPPED_NAMES and not path.exists():
        return default_bundle_path() if str(model) == "default" else MODELS_DIR / str(model)
    return path


def fold_batchnorm(model: nn.Module) -> int:
    """In place: each Conv2d directly followed by a BatchNorm2d inside an nn.Sequential, and each pair a
    module names through `conv_bn_pairs()` (the pretrained encoder's blocks), becomes one Conv2d (the
    BN an Identity). Returns how many were folded."""
    # torch here, not at the top: choosing a bundle (`tintype colorize --help`) needs none.
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode (BatchNorm must use its running statistics)")
    folded = 0
    for sequential in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(sequential._modules)
        for first, second in zip(names, names[1:]):
            conv, norm = sequential._modules[first], sequential._modules[second]
            if type(conv) is nn.Conv2d and type(norm) is nn.BatchNorm2d and norm.track_running_stats:
                sequential._modules[first] = fuse_conv_bn_eval(conv, norm)
                sequential._modules[second] = nn.Identity()
                folded += 1
    for module in [m for m in model.modules() if hasattr(m, "conv_bn_pairs")]:
        for owner, conv_name, norm_name in module.conv_bn_pairs():
            conv, norm = getattr(owner, conv_name), getattr(owner, norm_name)
            if isinstance(conv, nn.Conv2d) and type(norm) is nn.BatchNorm2d and norm.track_running_stats:
                setattr(owner, conv_name, fuse_conv_bn_eval(conv, norm))
                setattr(owner, norm_name, nn.Identity())
                folded += 1
    return folded
