"""What a studio server is started with (the `tintype studio` options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.working_size import DEFAULT_WORKING_SIZE
from safe_files.image_decode import DEFAULT_MAX_PIXELS
from studio.upload_check import DEFAULT_MAX_UPLOAD_BYTES

MIN_WORKING_SIZE, MAX_WORKING_SIZE = 64, 2048
MIN_SATURATION, MAX_SATURATION = 0.0, 3.0


@dataclass(frozen=True)
class StudioConfig:
    work_dir: Path  # jobs and samples live here
    model: Path | None = None  # --model: offered first
    default_model: Path | None = None  # $TINTYPE_MODEL or models/default, when it exists
    models_dir: Path | None = None  # every bundle found under it is offered too
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    default_working_size: int = DEFAULT_WORKING_SIZE
    device: str = "cpu"
