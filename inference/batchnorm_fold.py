"""Fold inference-mode BatchNorm into the convolution before it: one fewer pass over every feature map.

In eval mode BatchNorm is a per-channel affine map, y = (x - mean) / sqrt(var + eps) * gamma + beta,
so conv-then-BN equals one conv with rescaled weights and a bias; the fold is exact up to float
rounding (outputs agree to ~1e-5). The bundle's weights on disk are untouched: this runs on the
loaded copy, and only for a model that is in eval mode (a training model needs its BN statistics).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorm(model: nn.Module) -> int:
    """In place: each Conv2d directly followed by a BatchNorm2d inside an nn.Sequential, and each pair a
    module names through `conv_bn_pairs()` (the pretrained encoder's blocks), becomes one Conv2d (the
    BN an Identity). Returns how many were folded."""
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
