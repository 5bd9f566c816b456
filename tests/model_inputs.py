"""Fixtures every folder may use (registered in tests/conftest.py): a tiny bundle trained in this session, real archive files, and tiny real shards."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import shared_folder

ARCHIVE_SAMPLE = 24


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """A real bundle: Lab shards from 30 caltech photos at 64 px, then a few cpu-small training steps."""
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings
    from training.train_loop import train

    caltech = shared_folder("caltech101")
    root = tmp_path_factory.mktemp("tiny-bundle")
    images = root / "images"
    images.mkdir()
    photos = sorted(caltech.rglob("*.jpg"))
    random.Random(7).shuffle(photos)
    for index, photo in enumerate(photos[:30]):
        shutil.copyfile(photo, images / f"{index:03d}.jpg")
    build_shards(images, root / "data" / "shards", ShardSettings(short_side=64, val_fraction=0.1, part_size=16), workers=1)
    result = train(
        root / "data", root / "run", preset="cpu-small", steps=2,
        overrides={"train": {"batch_size": 8, "eval_every": 10**6, "checkpoint_every": 10**6, "workers": 0,
                             "eval_images": 4, "shuffle_buffer": 32, "log_every": 1000}},
    )
    assert result.bundle_dir is not None and (result.bundle_dir / "version.txt").is_file()
    return result.bundle_dir


def archive_sample(count: int = ARCHIVE_SAMPLE) -> list[Path]:
    """A fixed, varied sample of the real archive: JPEG and PNG, grey and RGB, small and large."""
    files = sorted(p for p in shared_folder("bw-archive").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    pngs = [p for p in files if p.suffix.lower() == ".png"][:6]
    others = [p for p in files if p not in pngs]
    random.Random(3).shuffle(others)
    return sorted(pngs + others[: count - len(pngs)])


def archive_photo_in(folder: Path) -> tuple[Path, int]:
    """The sample's first photo copied into `folder` (made here), and its pixel count."""
    from PIL import Image

    photo = archive_sample()[0]
    with Image.open(photo) as image:
        pixels = image.width * image.height
    folder.mkdir()
    return Path(shutil.copyfile(photo, folder / photo.name)), pixels


@pytest.fixture(scope="session")
def archive_tree(tmp_path_factory) -> Path:
    """The sample copied into a two-level tree (the readers must mirror the layout)."""
    root = tmp_path_factory.mktemp("bw-tree") / "archive"
    for index, photo in enumerate(archive_sample()):
        folder = root / ("box-a" if index % 2 else "box-b/sleeve")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / photo.name)
    return root


# Tiny everything: a U-Net of width 8, 32 px crops, one thread (the CPU is shared; more threads stall).
TINY = {
    "model": {"width": 8, "depth": 2},
    "discriminator": {"width": 8, "layers": 2},
    "train": {
        "batch_size": 8, "crop": 32, "workers": 0, "log_every": 1, "checkpoint_every": 10, "eval_every": 1000,
        "eval_images": 4, "grid_rows": 2, "warmup_steps": 5, "shuffle_buffer": 32, "cpu_threads": 1, "lr": 3e-3,
    },
}


def tiny(**train_settings) -> dict:
    return {"model": dict(TINY["model"]), "discriminator": dict(TINY["discriminator"]),
            "train": {**TINY["train"], **train_settings}}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """DATA root with shards/ of ~40 real photos from many Caltech-101 classes (short side 48)."""
    caltech = shared_folder("caltech101")
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings

    root = tmp_path_factory.mktemp("tiny-data")
    images = root / "images"
    images.mkdir()
    for path in sorted(caltech.rglob("*.jpg"))[::200][:44]:
        (images / f"{path.parent.name}-{path.name}").symlink_to(path)
    build_shards(images, root / "shards", ShardSettings(short_side=48, val_fraction=0.15, maxcount=10), workers=1)
    return root


SCAN_PHOTO = "dustbowl_people.jpg"  # a grey archive photo, 2000 x 1752


def upscaled_scan(megapixels: float, target: Path, photo: str = SCAN_PHOTO, quality: int = 90) -> Path:
    """A real archive photo, grey, upscaled (Lanczos) to `megapixels` and saved as JPEG: a large-format
    scan's size on real pixels (at 100 MP ~5 MB, 19 pixels per byte, like a real 98 MP scan's 21)."""
    from PIL import Image

    with Image.open(shared_folder("bw-archive") / photo) as original:
        grey = original.convert("L")
    scale = (megapixels * 1e6 / (grey.width * grey.height)) ** 0.5
    grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.Resampling.LANCZOS).save(
        target, format="JPEG", quality=quality)
    return target


def near_empty_png(width: int, height: int) -> bytes:
    """A valid 8-bit grey PNG of black rows, compressed row by row (never width x height bytes in
    memory): a decompression bomb, ~390 KB for 400 MP."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def scan_100mp_jpeg(tmp_path_factory) -> Path:
    """A 100 MP grey JPEG (10,684 x 9,359) made once per session from a real archive photo."""
    return upscaled_scan(100, tmp_path_factory.mktemp("large-scan") / "scan-100mp.jpg")
