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
import tarfile
from pathlib import Path

import torch

from safe_files.atomic_output import atomic_path, write_bytes_atomic


def half_precision_tar(bundle: Path, target: Path) -> None:
    """The bundle with its weights stored as float16 (loading casts back to the model's dtype)."""
    state = torch.load(bundle / "weights.pt", map_location="cpu", weights_only=True)
    buffer = io.BytesIO()
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, buffer)
    with atomic_path(target) as temporary, tarfile.open(temporary, "w") as archive:
        for item in sorted(bundle.iterdir()):
            if item.name == "weights.pt":
                info = tarfile.TarInfo("bundle/weights.pt")
                info.size = buffer.tell()
                buffer.seek(0)
                archive.addfile(info, buffer)
            else:
                archive.add(item, arcname=f"bundle/{item.name}")


def package(bundle_tar: Path, gain: float, working_size: int, reports: dict, out: Path) -> str:
    files: dict[str, bytes] = {}
    with tarfile.open(bundle_tar) as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if not member.isfile() or name.parent != Path("bundle") or name.name.startswith("."):
                continue  # the recipe writes bundle/<file> only; anything else is not ours
            with archive.extractfile(member) as source:
                files[name.name] = source.read()
    config = json.loads(files["config.json"])
    config.update(chroma_gain=gain, working_size=working_size)
    files["config.json"] = (json.dumps(config, indent=1) + "\n").encode()
    trained = files["version.txt"].decode().strip()
    version = f"{trained}-gain{gain:g}-size{working_size}"
    files["version.txt"] = (version + "\n").encode()
    metrics = json.loads(files["metrics.json"])
    metrics.update(version=version, chroma_gain=gain, working_size=working_size, **reports)
    files["metrics.json"] = (json.dumps(metrics, indent=1) + "\n").encode()
    # The folder also holds the card and this script: replace the bundle's files one by one (each
    # write is atomic), weights last, so a reader never pairs new settings with a missing file.
    for name in sorted(name for name in files if name != "weights.pt") + ["weights.pt"]:
        write_bytes_atomic(out / name, files[name])
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
