"""The measurements behind the decode guard's plausibility thresholds (safe_files/image_decode.py,
PLAUSIBLE_RATIO): decoded bytes per byte of file (for 8-bit grey, pixels per byte) of

- real archive photos (../shared/data/bw-archive) upscaled with Lanczos to 100, 250 and 460 MP,
  saved as JPEG q90, PNG and TIFF with LZW, Deflate and no compression: smoother, so more
  compressible, than a real scan of that size;
- the flattest legitimate file: a small print on a noiseless blank scanner bed (8% and 0.9% of a
  100 MP scan), with the JPEG encoder's optimized tables and progressive mode too;
- bombs: 400 MP of zeros, grey and 1-bit, in every format above (and TIFF Group 4 for 1-bit).

    python benchmarks/guard_ratios.py [--quick] [--out FILE]

--quick measures one photo at 100 MP and the flat cases only. Files are encoded in memory and
dropped; peak memory is ~1.5 GB (the 460 MP upscale). Prints one JSON document (and writes it to --out).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.json_report import emit  # noqa: E402
from safe_files.image_decode import PLAUSIBLE_RATIO, pillow_pixel_cap  # noqa: E402

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "bw-archive"
PHOTO_SAVES = {
    "JPEG q90": dict(format="JPEG", quality=90),
    "PNG": dict(format="PNG"),
    "TIFF LZW": dict(format="TIFF", compression="tiff_lzw"),
    "TIFF Deflate": dict(format="TIFF", compression="tiff_adobe_deflate"),
    "TIFF none": dict(format="TIFF"),
}
FLAT_SAVES = {
    "JPEG q90": dict(format="JPEG", quality=90),
    "JPEG q90 optimized": dict(format="JPEG", quality=90, optimize=True),
    "JPEG q90 progressive": dict(format="JPEG", quality=90, progressive=True),
    "PNG": dict(format="PNG"),
    "TIFF LZW": dict(format="TIFF", compression="tiff_lzw"),
    "TIFF Deflate": dict(format="TIFF", compression="tiff_adobe_deflate"),
}
BILEVEL_SAVES = {
    "PNG": dict(format="PNG"),
    "TIFF LZW": dict(format="TIFF", compression="tiff_lzw"),
    "TIFF Group 4": dict(format="TIFF", compression="group4"),
}
# (photo, megapixels, mode): grey scans, two RGB, and the smallest photo blown up 40x in each side.
UPSCALED = [
    ("dustbowl_people.jpg", 100, "L"), ("ww1_trench.jpg", 100, "L"), ("civil_war_4.jpg", 100, "L"),
    ("1929LondonOverFleetSt.jpg", 100, "L"), ("Deadwood1860s.png", 100, "L"), ("abe.jpg", 100, "L"),
    ("Greece1911.jpg", 100, "RGB"), ("dustbowl_people.jpg", 250, "L"), ("Greece1911.jpg", 250, "RGB"),
    ("dustbowl_people.jpg", 460, "L"),
]
DECODED_BYTES = {"1": 1 / 8, "L": 1, "RGB": 3}


def _measure(what: str, image: Image.Image, saves: dict[str, dict]) -> list[dict]:
    rows = []
    pixels = image.width * image.height
    for label, options in saves.items():
        buffer = io.BytesIO()
        image.save(buffer, **options)
        size = buffer.tell()
        rows.append({"what": what, "mode": image.mode, "megapixels": round(pixels / 1e6), "format": label, "bytes": size,
                     "pixels_per_byte": round(pixels / size, 2),
                     "decoded_bytes_per_byte": round(pixels * DECODED_BYTES[image.mode] / size, 2)})
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def upscaled(photo: str, megapixels: float, mode: str) -> Image.Image:
    with Image.open(ARCHIVE / photo) as original:
        small = original.convert(mode)
    scale = math.sqrt(megapixels * 1e6 / (small.width * small.height))
    return small.resize((round(small.width * scale), round(small.height * scale)), Image.Resampling.LANCZOS)


def print_on_blank_bed(share: float) -> Image.Image:
    """A 100 MP scan of a small print on a noiseless near-white bed (real beds have noise: harder to compress)."""
    bed = Image.new("L", (10000, 10000), 250)
    with Image.open(ARCHIVE / "dustbowl_people.jpg") as original:
        width = round(math.sqrt(share * 1e8 * original.width / original.height))
        print_ = original.convert("L").resize((width, round(width * original.height / original.width)))
    bed.paste(print_, ((bed.width - print_.width) // 2, (bed.height - print_.height) // 2))
    return bed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one photo at 100 MP and the flat cases")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if not ARCHIVE.is_dir():
        sys.exit(f"needs the real photos in {ARCHIVE}")
    rows: list[dict] = []
    with pillow_pixel_cap(10**10):  # the encoders never check, but keep Pillow quiet on the big images
        for photo, megapixels, mode in UPSCALED[:1] if args.quick else UPSCALED:
            rows += _measure(f"upscaled {photo}", upscaled(photo, megapixels, mode), PHOTO_SAVES)
        for share in (0.08, 0.009):
            rows += _measure(f"print on blank bed, {share:.1%}", print_on_blank_bed(share), FLAT_SAVES)
        if not args.quick:
            rows += _measure("bomb: zeros", Image.new("L", (20000, 20000), 0), FLAT_SAVES)
            rows += _measure("bomb: zeros", Image.new("1", (20000, 20000), 0), BILEVEL_SAVES)
    emit({"thresholds": PLAUSIBLE_RATIO, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
