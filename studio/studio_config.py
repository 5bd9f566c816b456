"""What a studio server is started with: the `tintype studio` options are derived from these fields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from inference.colorize_settings import ColorizeSettings
from inference.working_size import DEFAULT_WORKING_SIZE
from studio.upload_check import DEFAULT_MAX_UPLOAD_BYTES

MIN_WORKING_SIZE, MAX_WORKING_SIZE = 64, 2048
MIN_SATURATION, MAX_SATURATION = 0.0, 3.0
# The colorize memory budget itself (default, description, bounds): the studio colorizes as `tintype colorize` does.
_MAX_PIXELS = next(item for item in fields(ColorizeSettings) if item.name == "max_pixels")


@dataclass(frozen=True)
class StudioConfig:
    """The studio's folders, the bundles it offers and the limits on what it accepts."""

    work_dir: Path = field(metadata={"description": "Where jobs and samples are kept."})
    model: Path | None = field(default=None, metadata={"description": "A model bundle folder to offer first (e.g. RUN/bundle)."})
    default_model: Path | None = field(default=None, metadata={"description": "$TINTYPE_MODEL or models/default, offered when it exists."})
    models_dir: Path | None = field(default=Path("models"), metadata={"description": "Every bundle found under this folder is offered too."})
    max_upload_mb: float = field(default=DEFAULT_MAX_UPLOAD_BYTES / 2**20, metadata={"description": "Largest upload in MB."})
    max_pixels: int = field(default=_MAX_PIXELS.default, metadata=_MAX_PIXELS.metadata)
    default_working_size: int = field(default=DEFAULT_WORKING_SIZE, metadata={"description": "Working size of a job that names none."})
    device: str = field(default="cpu", metadata={"description": "cpu or cuda."})

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
