"""Which bundle a run colorizes with (the shipped `default` and `fast`, or a path), and BatchNorm folded for inference.

The shipped model bundles: `default` (models/default, the quality model) and `fast` (models/fast, the
small CPU model). $TINTYPE_MODEL replaces the default; `--model fast` or any bundle folder picks another.
A bundle on an object store (`s3://bucket/runs/r1/bundle`) is downloaded whole into a local cache
(storage.local_work_folder, one folder per URL and version.txt) and loaded from there; a bundle is whole
once its version.txt is stored (training uploads it last), and a cached copy of that version is reused.

Fold inference-mode BatchNorm into the convolution before it: one fewer pass over every feature map.

In eval mode BatchNorm is a per-channel affine map, y = (x - mean) / sqrt(var + eps) * gamma + beta,
so conv-then-BN equals one conv with rescaled weights and a bias; the fold is exact up to float
rounding (outputs agree to ~1e-5). The bundle's weights on disk are untouched: this runs on the
loaded copy, and only for a model that is in eval mode (a training model needs its BN statistics).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from safe_files import data_root_storage as storage  # light: fsspec only once a URL is read
from safe_files.atomic_output import atomic_folder
from safe_files.identity import identity_of

if TYPE_CHECKING:
    from torch import nn

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
SHIPPED_BUNDLE = MODELS_DIR / "default"
SHIPPED_NAMES = ("default", "fast")
VERSION_FILE = "version.txt"  # a bundle's version, and the last file of its upload


def default_bundle_path() -> Path:
    override = os.environ.get("TINTYPE_MODEL")
    return Path(override) if override else SHIPPED_BUNDLE


def resolve_bundle(model: str | os.PathLike | None) -> Path:
    """A bundle folder from what a user typed: empty -> the default, a shipped name -> models/NAME, an
    object-store URL -> its local cached copy (`fetched_bundle`), anything else -> that folder (an
    existing folder of the same name wins over a shipped name)."""
    if not model:
        return default_bundle_path()
    if storage.is_remote(model):
        return fetched_bundle(str(model))
    path = Path(model)
    if str(model) in SHIPPED_NAMES and not path.exists():
        return default_bundle_path() if str(model) == "default" else MODELS_DIR / str(model)
    return path


def bundle_argument(model: str | os.PathLike | None) -> str:
    """What a run's tasks are given: a bundle URL stays the URL (each worker loads it through its own
    cache; fetched here once, so a missing or unfinished bundle fails before any task), anything else
    its resolved folder."""
    bundle = resolve_bundle(model)
    return str(model) if storage.is_remote(model) else str(bundle)


def fetched_bundle(url: str, attempts: int = 3) -> Path:
    """The local copy of the bundle at `url`, downloaded whole if this version is not cached yet.

    Whole means: version.txt is stored and no other file of the bundle is newer (a re-export uploads
    version.txt last), and version.txt is unchanged after the download (else it is downloaded again)."""
    url = url.rstrip("/")
    for _ in range(attempts):
        stored = {object_url[len(url) + 1:]: (object_url, modified)
                  for object_url, _size, modified in storage.list_files(url, recursive=True) if object_url.startswith(url + "/")}
        if VERSION_FILE not in stored:
            raise FileNotFoundError(f"no model bundle at {url} (no {VERSION_FILE}: a wrong URL, or its upload has "
                                    "not finished); pass --model with a bundle folder URL such as s3://bucket/runs/r1/bundle")
        version_url, version_stamp = stored[VERSION_FILE]
        version = storage.read_bytes(version_url).decode().strip()
        if any(modified > version_stamp for _url, modified in stored.values()):
            time.sleep(1.0)  # a re-export is being uploaded: its version.txt comes last
            continue
        cache = storage.local_work_folder(url, "bundle") / identity_of(version)[:16]
        if (cache / VERSION_FILE).is_file() and (cache / VERSION_FILE).read_text().strip() == version:
            return cache
        try:
            with atomic_folder(cache) as staging:
                for name, (object_url, _modified) in sorted(stored.items()):
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    storage.download_whole(object_url, staging / name)
                if (staging / VERSION_FILE).read_text().strip() != version or \
                        storage.read_bytes(version_url).decode().strip() != version:
                    raise _ChangedWhileDownloading  # discards the copy
        except _ChangedWhileDownloading:
            continue
        for older in cache.parent.iterdir():  # earlier versions of this URL: the cache holds one
            if older != cache and not older.name.startswith("."):
                shutil.rmtree(older, ignore_errors=True)
        return cache
    raise ValueError(f"the model bundle at {url} kept changing while it was read (a training run exporting it?); "
                     "run again once its upload has finished")


class _ChangedWhileDownloading(Exception):
    """The bundle's version.txt changed during the download: the copy is discarded."""


def fold_batchnorm(model: nn.Module) -> int:
    """In place: each Conv2d directly followed by a BatchNorm2d inside an nn.Sequential, and each pair a
    module names through `conv_bn_pairs()` (the pretrained encoder's blocks), becomes one Conv2d (the
    BN an Identity). Returns how many were folded."""
    # torch here, not at the top: choosing a bundle (`tintype colorize --help`) needs none.
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode (BatchNorm must use its running statistics)")
    folded = 0
    for sequential in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(sequential._modules)
        for first, second in zip(names, names[1:]):
            conv, norm = sequential._modules[first], sequential._modules[second]
            if type(conv) is nn.Conv2d and type(norm) is nn.BatchNorm2d and norm.track_running_stats:
                sequential._modules[first] = fuse_conv_bn_eval(conv, norm)
                sequential._modules[second] = nn.Identity()
                folded += 1
    for module in [m for m in model.modules() if hasattr(m, "conv_bn_pairs")]:
        for owner, conv_name, norm_name in module.conv_bn_pairs():
            conv, norm = getattr(owner, conv_name), getattr(owner, norm_name)
            if isinstance(conv, nn.Conv2d) and type(norm) is nn.BatchNorm2d and norm.track_running_stats:
                setattr(owner, conv_name, fuse_conv_bn_eval(conv, norm))
                setattr(owner, norm_name, nn.Identity())
                folded += 1
    return folded
