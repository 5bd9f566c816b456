"""The colorize-archive flow (inbox mode, as its deployment runs) under a real Prefect server keeps a 16-bit
master 16-bit, adds the provenance to the output and the ledger, and signs C2PA credentials when asked."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pyexiv2
import tifffile
from PIL import Image

from inference.archival_metadata import DIGITAL_SOURCE_TYPE
from inference.colorize_run import workspace_of
from inference.colorizer import ColorizeSettings
from inference.content_credentials import read_manifest
from inference.run_ledger import DONE, RunLedger
from tests.conftest import shared_folder
from tests.inference.test_archival_fidelity import _throwaway_signing_files


def test_the_inbox_flow_keeps_sixteen_bits_and_signs_provenance(prefect_server, tmp_path):
    from flows.colorize_archive import colorize_archive

    grey = Image.open(shared_folder("bw-archive") / "dustbowl_people.jpg").convert("L").resize((480, 420))
    master = np.asarray(grey).astype(np.uint16) * 257 + 128
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, master, compression="zlib", metadata=None)
    (inbox / "master.tif").write_bytes(buffer.getvalue())
    certificate, private_key = _throwaway_signing_files(tmp_path)
    settings = ColorizeSettings(working_size=64, c2pa_certificate=certificate, c2pa_private_key=private_key)
    out = tmp_path / "colour"

    totals = colorize_archive(input=str(inbox), output=str(out), model="fast", settings=settings, inbox=True)
    assert totals["done"] == 1 and totals["failed"] == 0
    result = out / "master.tif"
    assert tifffile.imread(result).dtype == np.uint16
    with pyexiv2.Image(str(result)) as image:
        assert image.read_xmp()["Xmp.iptcExt.DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    store = read_manifest(result, "TIFF")
    assert store["active_manifest"] and {e["code"] for e in store.get("validation_status", [])} <= {"signingCredential.untrusted"}
    (entry,) = [e for e in RunLedger(workspace_of(out)).entries().values() if e.status == DONE]
    assert entry.provenance["original_sha256"] == hashlib.sha256(buffer.getvalue()).hexdigest()
    assert entry.provenance["content_credentials"] is True
