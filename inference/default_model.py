"""Where the shipped default model bundle lives: $TINTYPE_MODEL, else models/default in the source tree."""

from __future__ import annotations

import os
from pathlib import Path

SHIPPED_BUNDLE = Path(__file__).resolve().parents[1] / "models" / "default"


def default_bundle_path() -> Path:
    override = os.environ.get("TINTYPE_MODEL")
    return Path(override) if override else SHIPPED_BUNDLE
