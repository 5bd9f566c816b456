"""The shipped model bundles: `default` (models/default, the quality model) and `fast` (models/fast, the
small CPU model). $TINTYPE_MODEL replaces the default; `--model fast` or any bundle folder picks another.
"""

from __future__ import annotations

import os
from pathlib import Path

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
