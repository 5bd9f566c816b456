"""How a picture is colorized (the settings of `tintype colorize`, the colorize-archive form and the studio).

Apart from the Colorizer (inference/colorizer.py) so that reading the settings, as `tintype --help`
does, imports neither torch nor numba.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from safe_files.image_decode import DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class ColorizeSettings:
    """How a picture is colorized: the model's working size and what is done to its colour."""

    working_size: int | None = field(default=None, metadata={"description": (
        "Longer side the model sees, in pixels: colour detail and speed, never sharpness (empty: the model's own, "
        "320 for the default model, 160 for fast; inference/working_size.py)."), "ge": 32, "le": 4096})
    saturation: float = field(default=1.0, metadata={"description": "Multiplies the predicted colour.", "ge": 0})
    temperature: float | None = field(default=None, metadata={"description": (
        "Classification models: annealed-mean temperature (empty: the model's own, 0.38)."), "gt": 0})
    smoothing_sigma: float = field(default=0.0, metadata={"description": "Gaussian sigma of the colour, in working-size pixels (0: off).", "ge": 0})
    force: bool = field(default=False, metadata={"description": (
        "Also colorize inputs that already look like colour photographs (they are skipped and reported otherwise).")})
    max_pixels: int = field(default=DEFAULT_MAX_PIXELS, metadata={"description": (
        "Memory budget, in pixels: a larger input is refused (too-large). The default, 600 million, admits a "
        "500 MP master and needs about 4 GB of memory at its limit with the strip-wise colorizer; a file whose "
        "bytes cannot hold the pixels it declares is refused as a decompression bomb at any value "
        "(safe_files/image_decode.py)."), "ge": 1})
    c2pa_certificate: str | None = field(default=None, metadata={"description": (
        "PEM file: the signing certificate and its issuers. With --c2pa-private-key, every output carries a "
        "signed C2PA manifest (colorized, the model, the original's sha256); empty: off.")})
    c2pa_private_key: str | None = field(default=None, metadata={"description": (
        "PEM file: the private key of --c2pa-certificate.")})

