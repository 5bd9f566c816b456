"""Input folders for the shard tests: real photos (linked in place) plus awkward files made here."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from preprocessing.shards.shard_plan import ShardSettings

REPO = Path(__file__).resolve().parents[3]
# Small shards in one part, so a kill lands between or inside shards while the part is being written.
KILLABLE_SETTINGS = ShardSettings(short_side=96, val_fraction=0.0, part_size=1000, maxcount=4)
_WRITER = (
    "import sys\n"
    "from preprocessing.shards.shard_build import build_shards\n"
    "from tests.preprocessing.shards.shard_inputs import KILLABLE_SETTINGS\n"
    "build_shards(sys.argv[1], sys.argv[2], KILLABLE_SETTINGS, workers=1)\n"
)

def start_killable_shard_writer(images: Path, shard_dir: str | Path) -> subprocess.Popen:
    """A child process building shards of `images` into `shard_dir` with KILLABLE_SETTINGS, to be killed."""
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(images), str(shard_dir)], cwd=REPO)


def link_real_photos(source: Path, target: Path, count: int) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in source.rglob("*.jpg"))[:: max(1, len(list(source.rglob("*.jpg"))) // count)][:count]
    links = []
    for index, photo in enumerate(photos):
        link = target / f"photo-{index:03d}.jpg"
        link.symlink_to(photo.resolve())
        links.append(link)
    return links


def write_awkward_inputs(target: Path, donor: Path) -> dict[str, str]:
    """Files that must be skipped (name -> expected reason) or normalised; returns the skip list."""
    target.mkdir(parents=True, exist_ok=True)
    data = donor.read_bytes()
    (target / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (target / "not-an-image.jpg").write_bytes(b"this is text, not a JPEG\n" * 20)
    # Valid but unusual modes: these must become samples.
    rgb = Image.open(donor).convert("RGB")
    rgb.convert("CMYK").save(target / "cmyk.jpg", quality=90)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette.info["transparency"] = 0
    palette.save(target / "palette-transparent.png")
    rgb.convert("LA").save(target / "gray-alpha.png")
    sixteen = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(sixteen).save(target / "sixteen-bit.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    wide = rgb.resize((300, 150))
    wide.save(target / "exif-rotated.jpg", exif=exif.tobytes(), quality=90)
    return {"truncated.jpg": "truncated", "not-an-image.jpg": "corrupt"}


def bomb_png(path: Path, side: int = 20000) -> None:
    """A tiny PNG whose header claims side x side pixels (400 megapixels)."""
    image = Image.new("1", (side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())
