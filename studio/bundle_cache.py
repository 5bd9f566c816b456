"""Model bundles loaded once and kept: the studio colorizes many pictures with the same few models."""

from __future__ import annotations

import threading
from pathlib import Path

from inference.colorizer import ColorizeSettings, Colorizer, configure_torch_threads
from training.bundle import LoadedBundle, load_bundle


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
