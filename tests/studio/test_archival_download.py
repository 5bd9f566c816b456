"""The studio's download is the same archival output as `tintype colorize`: 16-bit kept, provenance added."""

from __future__ import annotations

import hashlib

import imagecodecs
import numpy as np
import pyexiv2
from PIL import Image

from inference.archival_metadata import DIGITAL_SOURCE_TYPE
from inference.colorizer import Colorizer, ColorizeSettings
from inference.model_loading import resolve_bundle
from studio.colorize_job import AFTER_PREVIEW, colorize_upload
from tests.conftest import shared_folder


def test_a_sixteen_bit_png_upload_downloads_as_sixteen_bit_with_provenance(tmp_path):
    grey = Image.open(shared_folder("bw-archive") / "dustbowl_people.jpg").convert("L").resize((400, 350))
    upload = imagecodecs.png_encode(np.asarray(grey).astype(np.uint16) * 257)
    colorizer = Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings())
    job = colorize_upload(colorizer, upload, tmp_path, "colorized-scan.png")
    colour = imagecodecs.png_decode(job.result.read_bytes())
    assert colour.dtype == np.uint16 and colour.shape == (350, 400, 3) and (job.width, job.height) == (400, 350)
    with pyexiv2.Image(str(job.result)) as image:
        xmp = image.read_xmp()
    assert xmp["Xmp.iptcExt.DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert xmp["Xmp.tintype.OriginalSHA256"] == hashlib.sha256(upload).hexdigest()
    assert Image.open(tmp_path / AFTER_PREVIEW).mode == "RGB"  # the slider's preview stays an 8-bit JPEG
