"""Why an image was refused: one exception with a short machine-readable reason."""

from __future__ import annotations


class ImageRejected(Exception):
    """An input that is not a usable image. `reason` is a short code (corrupt, too-large, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
