"""Turn a recipe run's bundle.tar into a shipped bundle: calibration and working size written in.

    python models/package.py --bundle-tar OUT/bundle.tar --gain 0.75 --working-size 192 \
        --calibration calibration.json --evaluation bsds.json --out models/fast

The chroma gain and the working size go into config.json (the model applies the gain; the Colorizer
takes the working size unless the user passes one), the version names both, and metrics.json keeps
the calibration and evaluation reports that chose them. Other files in the folder are left alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import torch


def half_precision_tar(bundle: Path, target: Path) -> None:
    """The bundle with its weights stored as float16 (loading casts back to the model's dtype)."""
    state = torch.load(bundle / "weights.pt", map_location="cpu", weights_only=True)
    buffer = io.BytesIO()
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, buffer)
    with tarfile.open(target, "w") as archive:
        for item in sorted(bundle.iterdir()):
            if item.name == "weights.pt":
                info = tarfile.TarInfo("bundle/weights.pt")
                info.size = buffer.tell()
                buffer.seek(0)
                archive.addfile(info, buffer)
            else:
                archive.add(item, arcname=f"bundle/{item.name}")


def package(bundle_tar: Path, gain: float, working_size: int, reports: dict, out: Path) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    with tarfile.open(bundle_tar) as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if not member.isfile() or name.parent != Path("bundle") or name.name.startswith("."):
                continue  # the recipe writes bundle/<file> only; anything else is not ours
            with archive.extractfile(member) as source, open(staging / name.name, "wb") as target:
                shutil.copyfileobj(source, target)
    config = json.loads((staging / "config.json").read_text())
    config.update(chroma_gain=gain, working_size=working_size)
    (staging / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    trained = (staging / "version.txt").read_text().strip()
    version = f"{trained}-gain{gain:g}-size{working_size}"
    (staging / "version.txt").write_text(version + "\n")
    metrics = json.loads((staging / "metrics.json").read_text())
    metrics.update(version=version, chroma_gain=gain, working_size=working_size, **reports)
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    # The folder also holds the card and this script: replace the bundle's files one by one (each
    # rename is atomic), weights last, so a reader never pairs new settings with a missing file.
    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(item.name for item in staging.iterdir() if item.name != "weights.pt") + ["weights.pt"]:
        os.replace(staging / name, out / name)
    staging.rmdir()
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle-tar", type=Path, required=True)
    parser.add_argument("--gain", type=float, required=True)
    parser.add_argument("--working-size", type=int, required=True)
    parser.add_argument("--calibration", type=Path, help="evaluate.py report on the held-out split that chose the gain")
    parser.add_argument("--evaluation", type=Path, help="evaluate.py report on bsds500/val at the shipped settings")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    reports = {key: json.loads(path.read_text()) for key, path in (("calibration", args.calibration),
                                                                   ("bsds500_val", args.evaluation)) if path}
    for report in reports.values():
        report.pop("shards", None)  # a path on the machine that made it
    print(package(args.bundle_tar, args.gain, args.working_size, reports, args.out))


if __name__ == "__main__":
    main()
