"""Which model bundles the studio offers: an explicit --model, the default path, and a models folder.

A bundle is any folder holding training.bundle.BUNDLE_FILES. The catalog is re-read on every call,
so a bundle that appears while the studio runs (a training run finishing) shows up without a
restart. The page picks a bundle by its id; paths never come from the browser.

Model bundles loaded once and kept: the studio colorizes many pictures with the same few models.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from inference.colorizer import Colorizer, ColorizeSettings, configure_torch_threads
from inference.working_size import bundle_working_size
from safe_files.atomic_output import read_json
from safe_files.identity import identity_of
from training.bundle import LoadedBundle, load_bundle, missing_files

SEARCH_DEPTH = 3  # models/<name>/bundle, models/<run>/<name>/bundle ...


@dataclass(frozen=True)
class BundleEntry:
    id: str
    path: Path
    version: str
    label: str
    working_size: int  # the bundle's own (config.json), the knob's starting value when it is picked


def is_bundle(folder: Path) -> bool:
    return not missing_files(folder)


def _entry(folder: Path, root: Path | None) -> BundleEntry:
    resolved = folder.resolve()
    version = (resolved / "version.txt").read_text().strip()
    try:
        label = str(resolved.relative_to(root.resolve())) if root else str(folder)
    except ValueError:
        label = str(folder)
    working_size = bundle_working_size(read_json(resolved / "config.json"))
    return BundleEntry(identity_of(resolved), resolved, version, f"{label} ({version})", working_size)


def _bundles_under(root: Path, depth: int) -> list[Path]:
    if not root.is_dir() or depth < 0:
        return []
    if is_bundle(root):
        return [root]
    found: list[Path] = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.name.startswith("."):  # .name.tmp: a bundle being written
            found.extend(_bundles_under(child, depth - 1))
    return found


def list_bundles(explicit: str | Path | None, default: str | Path | None, models_dir: str | Path | None) -> list[BundleEntry]:
    """Explicit bundle first, then the default, then the rest of the models folder; no duplicates."""
    entries: list[BundleEntry] = []
    seen: set[Path] = set()
    candidates = [(Path(p), None) for p in (explicit, default) if p]
    if models_dir:
        candidates += [(p, Path(models_dir)) for p in _bundles_under(Path(models_dir), SEARCH_DEPTH)]
    for folder, root in candidates:
        if not is_bundle(folder) or folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        entries.append(_entry(folder, root))
    return entries


class BundleCache:
    def __init__(self, device: str = "cpu", keep: int = 2) -> None:
        self.device = device
        self.keep = keep  # bundles held in memory at once (least recently used goes first)
        self._loaded: dict[tuple[Path, str], LoadedBundle] = {}
        self._lock = threading.Lock()
        if device == "cpu":
            configure_torch_threads()

    def colorizer(self, bundle: Path, version: str, settings: ColorizeSettings) -> Colorizer:
        """A Colorizer with these knobs on the (cached) model; the version in the key catches a re-export."""
        key = (Path(bundle).resolve(), version)
        with self._lock:
            loaded = self._loaded.pop(key, None) or load_bundle(key[0], device=self.device)
            self._loaded[key] = loaded  # re-inserted: most recently used last
            while len(self._loaded) > self.keep:
                self._loaded.pop(next(iter(self._loaded)))
        return Colorizer(loaded.model, loaded.version, settings, self.device)
