"""The studio's parts without a server: upload checks and the bundle catalog."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image

from studio.app import result_name
from studio.model_catalog import list_bundles
from studio.upload_check import UploadRefused, check_upload, sniff_format
from tests.studio.hostile_uploads import png_header_only


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF"])
def test_every_accepted_format_is_recognised_and_decoded(fmt):
    buffer = io.BytesIO()
    Image.new("L", (40, 30), 128).save(buffer, format=fmt)
    checked = check_upload(buffer.getvalue())
    assert sniff_format(buffer.getvalue()[:16]) == fmt and checked.format == fmt and (checked.width, checked.height) == (40, 30)


def test_limits_are_the_callers():
    buffer = io.BytesIO()
    Image.new("L", (200, 100)).save(buffer, format="PNG")
    with pytest.raises(UploadRefused) as refused:
        check_upload(buffer.getvalue(), max_pixels=10_000)
    assert refused.value.reason == "too-many-pixels" and "200x100" in str(refused.value)
    with pytest.raises(UploadRefused) as refused:
        check_upload(buffer.getvalue(), max_bytes=10)
    assert refused.value.reason == "too-big" and refused.value.status == 413
    with pytest.raises(UploadRefused, match="400 megapixels"):  # beyond what Pillow even opens
        check_upload(png_header_only(20000))


def test_result_names_follow_the_output_format():
    assert result_name("photo.jpeg", "JPEG") == "colorized-photo.jpeg"
    assert result_name("upload", "PNG") == "colorized-upload.png"
    assert result_name("anim.gif", "GIF") == "colorized-anim.png"  # GIF is written as PNG
    assert result_name("mislabelled.png", "JPEG") == "colorized-mislabelled.jpg"


def test_catalog_finds_explicit_default_and_folder_bundles_once(tiny_bundle, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(tiny_bundle, models / "default")
    shutil.copytree(tiny_bundle, models / "runs" / "night" / "bundle")
    shutil.copytree(tiny_bundle, models / ".bundle.x.tmp")  # being written: not offered
    (models / "half").mkdir()
    (models / "half" / "version.txt").write_text("tintype-x\n")  # not a whole bundle
    entries = list_bundles(tiny_bundle, models / "default", models)
    assert [e.path for e in entries] == [tiny_bundle.resolve(), (models / "default").resolve(),
                                         (models / "runs" / "night" / "bundle").resolve()]
    assert len({e.id for e in entries}) == 3 and all(e.version.startswith("tintype-") for e in entries)
    assert list_bundles(None, tmp_path / "absent", tmp_path / "nowhere") == []
    shutil.copytree(tiny_bundle, models / "later")  # a bundle that appears later is found on the next call
    assert len(list_bundles(None, None, models)) == 3
