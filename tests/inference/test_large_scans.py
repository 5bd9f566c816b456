"""Large-format scans: a 100 MP JPEG and a 250 MP TIFF master colorize at full size in bounded memory,
with the input's L; the strip path gives the whole-picture path's result (no seams) on mid-size pictures.

The large inputs are real archive pixels (bw-archive's dustbowl_people.jpg) upscaled, made once per
session. Each large colorization runs in a child process so its peak RSS (VmHWM) is its own.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image, ImageCms

from inference.colorize_run import workspace_of
from inference.colorizer import Colorizer, ColorizeSettings
from inference.full_res_lab import (
    L_OF_GREY16,
    join_lightness_ab,
    join_rows,
    lightness_of_grey,
    lightness_of_rgb,
)
from inference.lightness_strips import LightnessStrips
from inference.model_loading import resolve_bundle
from inference.output_encoding import (
    OutputTooLarge,
    SourceMetadata,
    check_output_size,
    encode_image,
)
from inference.run_ledger import DONE, RunLedger
from inference.strip_decode import decode_in_strips
from inference.strip_output import (
    assemble,
    assemble_sixteen_bit,
    needs_bigtiff,
    write_in_strips,
)
from safe_files.image_decode import pillow_pixel_cap
from tests.conftest import shared_folder

REPO = Path(__file__).resolve().parents[2]
BASE_PHOTO = "dustbowl_people.jpg"  # a 2000 x 1752 grayscale print
CHILD = """
import json, sys
from inference.colorize_run import colorize_input
from inference.colorizer import ColorizeSettings
report = colorize_input(sys.argv[1], sys.argv[2], sys.argv[3], ColorizeSettings(max_pixels=600_000_000))
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"done": report.done, "skipped": report.skipped, "failures": report.failures, "peak_rss_mb": peak // 1024}))
"""


def _base_grey() -> Image.Image:
    return Image.open(shared_folder("bw-archive") / BASE_PHOTO).convert("L")


def _upscaled(megapixels: float) -> np.ndarray:
    grey = _base_grey()
    height = int(round((megapixels * 1e6 * grey.height / grey.width) ** 0.5))
    width = int(round(megapixels * 1e6 / height))
    with _no_pillow_cap():
        return np.asarray(grey.resize((width, height), Image.Resampling.BILINEAR))


def _no_pillow_cap():
    """Making and reading the test inputs only: Pillow's own cap would refuse to resize to 250 MP."""
    return pillow_pixel_cap(600_000_000)


@pytest.fixture(scope="session")
def scan_100mp_jpeg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scan-100mp") / "plate-100mp.jpg"
    with _no_pillow_cap():
        Image.fromarray(_upscaled(100)).save(path, format="JPEG", quality=90, dpi=(2400, 2400))
    return path


@pytest.fixture(scope="session")
def scan_250mp_tiff(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scan-250mp") / "plate-250mp.tif"
    tifffile.imwrite(path, _upscaled(250), compression="zlib", rowsperstrip=64, resolution=(2400, 2400),
                     resolutionunit="INCH", metadata=None)
    return path


@pytest.fixture(scope="module")
def fast_bundle() -> Path:
    return resolve_bundle("fast")


def _colorize_in_child(source: Path, out: Path, bundle: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, str(source), str(out), str(bundle)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _output_of(out: Path, name: str) -> Path:
    entry = next(e for e in RunLedger(workspace_of(out)).entries().values() if e.source == name)
    assert entry.status == DONE, entry
    return out / entry.output


def _tiff_rows(path: Path, first: int, count: int) -> np.ndarray:
    """Rows first .. first + count of a deflate-striped TIFF, decoding only the strips they are in."""
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages.first
        rows, width = page.rowsperstrip, page.imagewidth
        samples = page.samplesperpixel
        handle = tiff.filehandle
        pieces = []
        for strip in range(first // rows, (first + count - 1) // rows + 1):
            handle.seek(page.dataoffsets[strip])
            data = zlib.decompress(handle.read(page.databytecounts[strip]))
            pieces.append(np.frombuffer(data, np.uint8).reshape(-1, width, samples) if samples > 1
                          else np.frombuffer(data, np.uint8).reshape(-1, width))
        block = np.concatenate(pieces)
        start = first - first // rows * rows
        return block[start:start + count]


def test_a_100_megapixel_jpeg_colorizes_at_full_size_in_bounded_memory(scan_100mp_jpeg, fast_bundle, tmp_path):
    result = _colorize_in_child(scan_100mp_jpeg, tmp_path / "out", fast_bundle)
    assert result["done"] == 1, result["failures"]
    # The whole-picture path held ~17 bytes a pixel (1.7 GB here); the strip path holds the codes (1 byte
    # a pixel) and the RGBX output Pillow encodes JPEG from (4), beside the ~0.4 GB of torch and the model.
    assert result["peak_rss_mb"] < 1100, result
    with _no_pillow_cap():
        source = Image.open(scan_100mp_jpeg)
        output = Image.open(_output_of(tmp_path / "out", scan_100mp_jpeg.name))
        assert output.format == "JPEG" and output.size == source.size
        assert tuple(round(v) for v in output.info["dpi"]) == (2400, 2400)
        source_grey, output_rgb = np.asarray(source), np.asarray(output.convert("RGB"))
    # The output's L is the input's, up to the JPEG quantisation of the output (as for small pictures).
    rows = np.r_[0:8, 4000:4008, source_grey.shape[0] - 8:source_grey.shape[0]]
    difference = np.abs(lightness_of_rgb(output_rgb[rows]) - lightness_of_grey(source_grey[rows]))
    assert difference.mean() < 1.0 and np.percentile(difference, 99) < 4.0
    chroma = np.abs(output_rgb[rows].astype(int) - output_rgb[rows].mean(axis=-1, keepdims=True)).mean()
    assert chroma > 1.0  # it did add colour


def test_a_large_colour_jpeg_is_skipped_from_its_draft_without_a_full_decode(fast_bundle, tmp_path):
    photo = next(iter(sorted((shared_folder("bsds500") / "test").glob("*.jpg"))))
    folder = tmp_path / "masters"
    folder.mkdir()
    with _no_pillow_cap(), Image.open(photo) as colour:
        colour.convert("RGB").resize((12_000, 8_000), Image.Resampling.BILINEAR).save(folder / "colour-96mp.jpg", quality=90)
    result = _colorize_in_child(folder, tmp_path / "out", fast_bundle)
    assert result["done"] == 0 and result["skipped"] == 1, result
    # A full decode would hold the RGB picture (4 bytes a pixel, 384 MB) and its L codes (2 bytes) beside
    # the ~0.4 GB of torch and the model; the 1/8 draft is 1.5 MP.
    assert result["peak_rss_mb"] < 700, result
    entry = next(iter(RunLedger(workspace_of(tmp_path / "out")).entries().values()))
    assert entry.status == "skipped" and entry.reason == "already-colour"
    assert (entry.width, entry.height) == (12_000, 8_000)


def test_a_250_megapixel_tiff_colorizes_at_full_size_strip_by_strip(scan_250mp_tiff, fast_bundle, tmp_path):
    result = _colorize_in_child(scan_250mp_tiff, tmp_path / "out", fast_bundle)
    assert result["done"] == 1, result["failures"]
    # tifffile decodes it strip by strip and the output is written strip by strip: the codes (1 byte a
    # pixel, 250 MB) and a few strips beside torch; the whole-picture path would need ~4 GB.
    assert result["peak_rss_mb"] < 1000, result
    output = _output_of(tmp_path / "out", scan_250mp_tiff.name)
    with tifffile.TiffFile(output) as tiff, tifffile.TiffFile(scan_250mp_tiff) as source:
        assert tiff.pages.first.shape[:2] == source.pages.first.shape[:2] and tiff.pages.first.shape[2] == 3
        assert tiff.pages.first.resolution == (2400.0, 2400.0)
        height = source.pages.first.shape[0]
    for first in (0, height // 2 - 3, height - 6):  # top, a strip seam's neighbourhood, bottom
        out_rows, in_rows = _tiff_rows(output, first, 6), _tiff_rows(scan_250mp_tiff, first, 6)
        difference = np.abs(lightness_of_rgb(out_rows) - lightness_of_grey(in_rows))
        assert difference.max() < 1.0  # 8-bit rounding only: the TIFF is lossless


# -- the strip path equals the whole-picture path ----------------------------------------------------
def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _tiff(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, metadata=None, **options)
    return buffer.getvalue()


MID_SIZE_INPUTS = (
    "grey JPEG", "sepia JPEG stored sideways", "grey JPEG with a profile", "grey PNG with alpha",
    "RGB TIFF, deflate, 7-row strips", "grey TIFF in tiles", "grey TIFF, white is zero", "RGB TIFF, LZW",
    "RGB TIFF, JPEG-compressed", "1-bit TIFF, Group 4 (Pillow decodes it)", "CMYK JPEG", "sepia PNG with alpha", "16-bit grey PNG",
    "16-bit sepia TIFF, Adobe RGB", "16-bit grey TIFF, gray gamma 2.2",
)


@pytest.fixture(scope="module")
def mid_size_inputs() -> dict[str, bytes]:
    """The same 3.5 MP print in each format and layout the strip path reads, made once per module
    (not at collection: without ../shared/data the tests skip instead of the module erroring)."""
    grey = _base_grey()
    sepia = Image.merge("RGB", [grey.point(lambda v, k=k: min(255, int(v * k))) for k in (1.07, 0.93, 0.76)])
    turned = Image.Exif()
    turned[0x0112] = 6  # stored sideways
    grey_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    grey16 = np.asarray(grey).astype(np.uint16) * 257 + np.random.default_rng(0).integers(0, 257, grey.size[::-1]).astype(np.uint16)
    sepia16 = np.minimum(grey16[..., None] * np.array([1.07, 0.93, 0.76]), 65535).astype(np.uint16)
    return {
        "grey JPEG": _encoded(grey, "JPEG", quality=90),
        "sepia JPEG stored sideways": _encoded(sepia, "JPEG", quality=90, exif=turned.tobytes()),
        "grey JPEG with a profile": _encoded(grey, "JPEG", quality=90, icc_profile=grey_icc),
        "grey PNG with alpha": _encoded(grey.convert("LA"), "PNG"),
        "RGB TIFF, deflate, 7-row strips": _tiff(np.asarray(sepia), compression="zlib", rowsperstrip=7),
        "grey TIFF in tiles": _tiff(np.asarray(grey), tile=(64, 128)),
        "grey TIFF, white is zero": _tiff(255 - np.asarray(grey), photometric="miniswhite"),
        "RGB TIFF, LZW": _encoded(sepia, "TIFF", compression="tiff_lzw"),
        "RGB TIFF, JPEG-compressed": _encoded(sepia, "TIFF", compression="jpeg"),
        "1-bit TIFF, Group 4 (Pillow decodes it)": _encoded(grey.point(lambda v: 255 * (v > 110)).convert("1"), "TIFF",
                                                          compression="group4"),
        "16-bit grey PNG": _encoded(Image.fromarray(grey16), "PNG"),
        "16-bit sepia TIFF, Adobe RGB": _tiff(sepia16, compression="zlib", iccprofile=imagecodecs.cms_profile("adobergb")),
        "16-bit grey TIFF, gray gamma 2.2": _tiff(grey16, compression="zlib", iccprofile=imagecodecs.cms_profile("gray", gamma=2.2)),
        "CMYK JPEG": _encoded(sepia.convert("CMYK"), "JPEG", quality=90),
        "sepia PNG with alpha": _encoded(sepia.convert("RGBA"), "PNG"),
    }


@pytest.fixture(scope="module")
def colorizer(fast_bundle) -> Colorizer:
    return Colorizer.from_bundle(fast_bundle, ColorizeSettings())


@pytest.mark.parametrize("name", MID_SIZE_INPUTS)
def test_strips_give_the_whole_picture_result(colorizer, mid_size_inputs, name):
    data = mid_size_inputs[name]
    whole = colorizer.prepare(data)
    assert whole.strips is None  # 3.5 MP: the whole-picture path
    decoded = decode_in_strips(data, colorizer.settings.working_size, colorizer.settings.max_pixels, strip_pixels=300_000)
    assert len(decoded.strips.starts) >= 10
    assert np.array_equal(decoded.strips.whole(), whole.lightness)  # the same L, value for value
    assert decoded.working.shape == whole.working.shape
    assert torch.allclose(decoded.working, whole.working, atol=1e-3)  # exact but for a turn's summation order
    ab = colorizer.predict([whole])[0]
    expected = np.asarray(colorizer.render_image(whole, ab)).astype(int)
    if whole.metadata.bits == 16:  # a 16-bit master: 16-bit RGB either way
        strip_rgb = assemble_sixteen_bit(decoded.strips, ab).astype(int)
    else:
        strip_rgb = np.asarray(assemble(decoded.strips, ab).convert("RGB")).astype(int)
    assert np.abs(strip_rgb - expected).max() == 0  # no seam: the same taps, the same pixels


def test_a_strip_written_tiff_decodes_to_the_whole_picture_result(colorizer, fast_bundle, tmp_path):
    data = _tiff(np.asarray(_base_grey()), compression="zlib")
    expected = np.asarray(Image.open(io.BytesIO(colorizer.colorize_bytes(data))))
    in_strips = Colorizer.from_bundle(fast_bundle, ColorizeSettings())
    in_strips.strip_threshold = 1  # every picture takes the strip path
    prepared = in_strips.prepare(data)
    assert prepared.strips is not None and prepared.lightness is None
    in_strips.write_output(prepared, in_strips.predict([prepared])[0], tmp_path / "out.tif")
    written = Image.open(tmp_path / "out.tif")
    assert written.format == "TIFF" and written.mode == "RGB"
    assert np.array_equal(np.asarray(written), expected)
    assert colorizer.version in written.tag_v2[305]  # Software names the model


def test_sixteen_bit_grey_l_comes_from_all_sixteen_bits(colorizer, tmp_path):
    grey = np.asarray(_base_grey()).astype(np.uint16) * 257
    noise = np.random.default_rng(0).integers(0, 257, grey.shape).astype(np.uint16)  # below one 8-bit level
    sixteen = np.minimum(grey.astype(np.uint32) + noise, 65535).astype(np.uint16)
    data = _tiff(sixteen, compression="zlib")
    truth = L_OF_GREY16[sixteen]
    decoded = decode_in_strips(data, colorizer.settings.working_size, colorizer.settings.max_pixels, strip_pixels=300_000)
    assert np.array_equal(decoded.strips.whole(), truth)
    ab = colorizer.predict([colorizer.prepare(data)])[0]
    out = tmp_path / "out.tif"
    write_in_strips(decoded.strips, ab, SourceMetadata("TIFF"), "test", out)
    strip_error = np.abs(lightness_of_rgb(tifffile.imread(out)) - truth)
    whole_output = np.asarray(Image.open(io.BytesIO(colorizer.colorize_bytes(data))))
    whole_error = np.abs(lightness_of_rgb(whole_output) - truth)
    assert strip_error.max() < 1.0
    assert strip_error.mean() < 0.75 * whole_error.mean()  # the 8-bit path rounds L first


def test_join_rows_cut_anywhere_equals_the_whole_join():
    rng = np.random.default_rng(1)
    lightness = rng.uniform(0, 100, (997, 613)).astype(np.float32)
    ab = torch.from_numpy(rng.uniform(-60, 60, (2, 41, 27)).astype(np.float32))
    whole = join_lightness_ab(lightness, ab)
    for cuts in ([0, 1, 500, 997], [0, 333, 334, 700, 997], list(range(0, 997, 97)) + [997]):
        pieces = [join_rows(lightness[a:b], ab, a, 997) for a, b in zip(cuts[:-1], cuts[1:])]
        assert np.array_equal(np.concatenate(pieces), whole), cuts


def test_joined_strips_release_their_codes():
    strips = LightnessStrips(3000, 900, np.uint8, lightness_of_grey(np.arange(256, dtype=np.uint8)), rows=100)
    strips.codes[:] = 128
    image = assemble(strips, torch.zeros(2, 9, 30))
    assert image.size == (3000, 900)
    with pytest.raises(RuntimeError, match="already joined"):
        strips.lightness(0)


def test_outputs_past_a_format_side_limit_are_refused_clearly():
    with pytest.raises(OutputTooLarge, match="65,500"):
        check_output_size("JPEG", 70_000, 1_000)
    with pytest.raises(OutputTooLarge, match="JPEG"):
        encode_image(Image.new("RGB", (70_000, 2)), SourceMetadata("JPEG"), "test")
    check_output_size("TIFF", 70_000, 70_000)  # TIFF and PNG have no such limit
    assert needs_bigtiff(40_000, 40_000) and not needs_bigtiff(24_000, 19_200)  # 4.8 GB vs 1.4 GB of RGB
