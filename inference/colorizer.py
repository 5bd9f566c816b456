"""The Colorizer: a model bundle -> colour images at the input's full resolution.

Three steps, so a batch runner can overlap them (decode/encode in threads, the model in between):
  prepare(bytes)  decode (bomb- and corruption-checked, EXIF orientation applied), full-res L from
                  the ORIGINAL pixels, the L the model sees at the working size, the colour verdict;
  predict(batch)  the model on a batch of equal working shapes -> ab at the working size,
                  then saturation and optional Gaussian smoothing of ab;
  render(p, ab)   ab upsampled and joined to the original L -> sRGB, encoded like the input.
On a GPU, ab never leaves the device: the join runs there too (inference/gpu_join.py) and only the
finished uint8 RGB comes back, so the CPU threads only decode and encode.

A picture of STRIP_THRESHOLD_PIXELS or more (a large-format scan) takes the strip path instead, so its
memory grows with a strip, not the picture: L is kept as 1- or 2-byte codes (inference/strip_decode.py),
and the join and the encoding run strip by strip on the CPU (inference/strip_output.py); `write_output`
writes it straight to a file. Below the threshold nothing changes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from inference.archival_metadata import read_archival, read_archival_file
from inference.colorize_settings import ColorizeSettings
from inference.colour_check import THUMBNAIL_SIDE, ColourVerdict, judge_colour
from inference.content_credentials import SigningCredentials
from inference.full_res_lab import (
    join_lightness_ab,
    lightness_of_grey,
    lightness_of_rgb,
)
from inference.gpu_join import join_on_device
from inference.lightness_strips import (
    EXIF_ORIENTATION,
    LightnessStrips,
    orient,
    turns_sideways,
)
from inference.model_loading import fold_batchnorm
from inference.output_encoding import (
    Pixels,
    SourceMetadata,
    capture_metadata,
    eight_bit_view,
    encode_image,
)
from inference.previews import thumbnail
from inference.sixteen_bit_lightness import png_sixteen_bit, sixteen_bit_lightness
from inference.strip_decode import (
    declared_format_and_pixels,
    decode_in_strips,
    stored_as_grey,
)
from inference.strip_output import assemble, write_in_strips
from inference.working_size import (
    DEFAULT_WORKING_SIZE,
    bundle_working_size,
    working_shape,
)
from preprocessing.images.image_loading import to_rgb
from safe_files.identity import versioned
from safe_files.image_decode import (
    ImageSource,
    open_checked,
    open_for_working_size,
)

# At or above this many pixels the full-resolution work runs in strips (about 6,300 x 6,300: every
# camera and most flatbed scans stay on the whole-picture path, which is faster per pixel below it).
STRIP_THRESHOLD_PIXELS = 40_000_000


DEFAULT_SETTINGS = ColorizeSettings()
# The settings that change a colorized output's pixels (force and max_pixels only choose what is colorized).
OUTPUT_SETTINGS = ("working_size", "saturation", "temperature", "smoothing_sigma")


def ledger_version(model_version: str, settings: ColorizeSettings) -> str:
    """The version a ledger records an output under: the model's, plus a digest of the output settings
    that differ from the defaults. A re-run with another --working-size or --saturation into the same output
    then redoes every image, as a new model would, instead of calling the old outputs settled; a run
    on the defaults keeps the plain model version (and every ledger written before this existed).
    Ledgers cut the digest at 8 characters before safe_files.identity; readers compare with same_version."""
    tuned = {name: getattr(settings, name) for name in OUTPUT_SETTINGS
             if getattr(settings, name) != getattr(DEFAULT_SETTINGS, name)}
    if not tuned:
        return model_version
    return versioned(model_version, tuned)


@dataclass
class PreparedImage:
    lightness: np.ndarray | None  # float32 (H, W) CIE L of the original, upright; None on the strip path
    working: torch.Tensor  # float32 (1, h, w) L at the working size
    metadata: SourceMetadata
    verdict: ColourVerdict
    preview: Image.Image | None = None  # small upright original, for before/after previews
    strips: LightnessStrips | None = None  # the strip path's full-resolution L (released as it is joined)
    reduced: Image.Image | None = None  # the strip path's small upright original (verdict, after-preview)
    upright_size: tuple[int, int] | None = None  # a picture judged colour from its draft: its size, nothing else made

    @property
    def bucket(self) -> tuple[int, int]:
        return tuple(self.working.shape[-2:])

    @property
    def size(self) -> tuple[int, int]:
        if self.strips is not None:
            return self.strips.width, self.strips.height
        if self.upright_size is not None:
            return self.upright_size
        height, width = self.lightness.shape
        return width, height


def configure_torch_threads(threads: int | None = None) -> int:
    """Intra-op threads = the cores this process may use; decode/encode threads run beside them."""
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(offsets**2) / (2 * sigma * sigma))
    return kernel / kernel.sum()


def smooth_ab(ab: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, 2, h, w) ab; reflect padding keeps the borders' colour."""
    if sigma <= 0:
        return ab
    kernel = _gaussian_kernel(sigma).to(ab)
    radius = kernel.numel() // 2
    horizontal = kernel.view(1, 1, 1, -1).repeat(2, 1, 1, 1)
    vertical = kernel.view(1, 1, -1, 1).repeat(2, 1, 1, 1)
    ab = F.conv2d(F.pad(ab, (radius, radius, 0, 0), mode="replicate"), horizontal, groups=2)
    return F.conv2d(F.pad(ab, (0, 0, radius, radius), mode="replicate"), vertical, groups=2)


class Colorizer:
    def __init__(
        self, model: nn.Module, version: str, settings: ColorizeSettings | None = None, device: str = "cpu",
        working_size: int = DEFAULT_WORKING_SIZE,
    ) -> None:
        # The Colorizer takes the model over for inference: eval mode, BatchNorm folded into the
        # convolutions (~8% of the CPU time, exact to ~1e-5), and channels_last, on which oneDNN / cuDNN
        # convolutions run ~1.5x faster (measured on CPU, same outputs).
        model = model.to(device).eval()
        fold_batchnorm(model)
        self.model = model.to(memory_format=torch.channels_last)
        self.version = version
        settings = settings or ColorizeSettings()
        self.ledger_version = ledger_version(version, settings)  # as given: a left-open size stays "default"
        if settings.working_size is None:  # left open: the bundle's own (`from_bundle` passes it)
            settings = replace(settings, working_size=working_size)
        self.settings = settings
        self.device = torch.device(device)
        self.strip_threshold = STRIP_THRESHOLD_PIXELS  # pictures this large take the strip path
        self.signing = signing_credentials(settings)  # C2PA content credentials, or None (the default)

    @classmethod
    def from_bundle(
        cls, bundle: str | Path, settings: ColorizeSettings | None = None, device: str = "cpu"
    ) -> "Colorizer":
        from training.bundle import load_bundle

        if torch.device(device).type == "cpu":
            configure_torch_threads()
        loaded = load_bundle(bundle, device=device)
        return cls(loaded.model, loaded.version, settings, device, bundle_working_size(loaded.config))

    def prepare(self, source: ImageSource, preview: bool = False, skip_colour: bool = False) -> PreparedImage:
        """Decode and measure one input (thread-safe; raises ImageRejected for bombs and corrupt data).
        `skip_colour`: the caller skips a picture already in colour, so a large colour JPEG is judged from
        a 1/8-scale draft first and, if colour, comes back with its verdict only (nothing full-size made)."""
        fmt, pixels = declared_format_and_pixels(source, self.settings.max_pixels)
        if (pixels or 0) >= self.strip_threshold:
            if skip_colour and fmt == "JPEG":
                judged = self._judge_colour_from_draft(source)
                if judged is not None:
                    return judged
            return self._with_archival(self._prepare_in_strips(source, preview), source)
        data = _source_bytes(source)
        image = open_checked(data, max_pixels=self.settings.max_pixels)
        metadata = capture_metadata(image)
        grey = stored_as_grey(image)
        orientation = int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)
        deep = sixteen_bit_lightness(image, data, metadata.notes)  # a 16-bit master's L from its 16 bits
        if deep is not None or png_sixteen_bit(data):
            metadata.bits = 16
        upright = to_rgb(image, in_place=True)  # `image` is not used again: no full-size copy
        if grey:
            lightness = lightness_of_grey(np.asarray(upright.getchannel(0))) if deep is None else None
            verdict = ColourVerdict(False, 0.0, 0.0)
        else:
            lightness = lightness_of_rgb(np.asarray(upright)) if deep is None else None
            verdict = judge_colour(upright)
        if lightness is None:
            lightness = np.ascontiguousarray(orient(deep, orientation))
        metadata.archival, metadata.signing = read_archival(data), self.signing
        height, width = lightness.shape
        shape = working_shape(width, height, self.settings.working_size)
        full = torch.from_numpy(lightness)[None, None]
        working = F.interpolate(full, size=shape, mode="bilinear", align_corners=False, antialias=True)[0]
        return PreparedImage(lightness, working, metadata, verdict, thumbnail(upright) if preview else None)

    def _judge_colour_from_draft(self, source: ImageSource) -> PreparedImage | None:
        """A JPEG's verdict from its DCT draft (a 460 MP master: ~7 MP decoded, ~1 s instead of ~15): the
        verdict's thumbnail is a block average either way. The unprepared picture if it is stored and
        judged in colour, else None (then decoded in strips as usual)."""
        draft = open_for_working_size(source, 4 * THUMBNAIL_SIDE, self.settings.max_pixels)
        if stored_as_grey(draft):
            return None
        metadata = capture_metadata(draft)
        sideways = turns_sideways(int(draft.getexif().get(EXIF_ORIENTATION, 1) or 1))
        verdict = judge_colour(to_rgb(draft, in_place=True))
        if not verdict.is_colour:
            return None
        full_width, full_height = draft.info["full_size"]
        size = (full_height, full_width) if sideways else (full_width, full_height)
        return PreparedImage(None, torch.empty(1, 0, 0), metadata, verdict, upright_size=size)

    def _with_archival(self, prepared: PreparedImage, source: ImageSource) -> PreparedImage:
        """The strip path's input metadata and sha256 (exiv2 reads a file on disk in place)."""
        prepared.metadata.signing = self.signing
        if isinstance(source, (str, os.PathLike)):
            prepared.metadata.archival = read_archival_file(Path(source))
        else:
            prepared.metadata.archival = read_archival(_source_bytes(source))
        return prepared

    def _prepare_in_strips(self, source: ImageSource, preview: bool) -> PreparedImage:
        decoded = decode_in_strips(source, self.settings.working_size, self.settings.max_pixels)
        verdict = ColourVerdict(False, 0.0, 0.0) if decoded.grey else judge_colour(decoded.reduced)
        return PreparedImage(None, decoded.working, decoded.metadata, verdict,
                             thumbnail(decoded.reduced) if preview else None, decoded.strips, decoded.reduced)

    @torch.inference_mode()
    def predict(self, batch: list[PreparedImage]) -> list[torch.Tensor]:
        """Model on images of one working shape -> ab (2, h, w) each, on the model's device."""
        lightness = torch.stack([item.working for item in batch]).to(self.device).contiguous(memory_format=torch.channels_last)
        ab = self.model.predict_ab(lightness, temperature=self.settings.temperature).float()
        ab = smooth_ab(ab, self.settings.smoothing_sigma) * self.settings.saturation
        return list(ab.unbind(0))

    def render_image(self, prepared: PreparedImage, ab: torch.Tensor) -> Pixels:
        """ab at the working size + the original L -> RGB at full resolution (on the strip path once: its
        L is released as it is joined). A Pillow image, or for a 16-bit input uint16 (H, W, 3), which
        is joined on the CPU (the device join writes 8 bits)."""
        if prepared.strips is not None:
            return assemble(prepared.strips, ab)
        if prepared.metadata.bits == 16:
            return join_lightness_ab(prepared.lightness, ab.cpu() if isinstance(ab, torch.Tensor) else ab, bits=16)
        if ab.device.type != "cpu":
            return Image.fromarray(join_on_device(prepared.lightness, ab))
        return Image.fromarray(join_lightness_ab(prepared.lightness, ab))

    def encode(self, prepared: PreparedImage, image: Pixels) -> bytes:
        """Encode in the input's format, with its metadata and the model tag."""
        return encode_image(image, prepared.metadata, self.version)

    def render(self, prepared: PreparedImage, ab: torch.Tensor) -> bytes:
        return self.encode(prepared, self.render_image(prepared, ab))

    def write_output(self, prepared: PreparedImage, ab: torch.Tensor, path: Path) -> Image.Image:
        """Render and encode into the file `path`; returns the result for previews, 8-bit (the strip path's
        is its reduced copy colorized: the full picture never exists as one image there)."""
        if prepared.strips is None:
            image = self.render_image(prepared, ab)
            Path(path).write_bytes(self.encode(prepared, image))
            return eight_bit_view(image)
        write_in_strips(prepared.strips, ab, prepared.metadata, self.version, Path(path))
        return Image.fromarray(join_lightness_ab(_reduced_lightness(prepared.reduced), ab))

    def colorize_bytes(self, source: ImageSource) -> bytes:
        """One image, start to end (no already-colour skip: the caller asked for this picture)."""
        prepared = self.prepare(source)
        return self.render(prepared, self.predict([prepared])[0])


def signing_credentials(settings: ColorizeSettings) -> SigningCredentials | None:
    """The C2PA signing credentials the settings name (both files, or neither), read once."""
    if not settings.c2pa_certificate and not settings.c2pa_private_key:
        return None
    if not (settings.c2pa_certificate and settings.c2pa_private_key):
        raise ValueError("C2PA signing needs both --c2pa-certificate and --c2pa-private-key")
    return SigningCredentials.from_files(settings.c2pa_certificate, settings.c2pa_private_key)


def _source_bytes(source: ImageSource) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return source.read()


def _reduced_lightness(reduced: Image.Image) -> np.ndarray:
    if reduced.mode == "L":
        return lightness_of_grey(np.asarray(reduced))
    return lightness_of_rgb(np.asarray(reduced.convert("RGB")))
