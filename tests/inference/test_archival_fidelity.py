"""Archival fidelity on real archive photos: 16-bit masters stay 16-bit with the original's L, ICC
profiles honoured, EXIF/IPTC/XMP carried, the provenance added and recorded, multi-page TIFFs said.

Masters are made from ../shared/data/bw-archive (dustbowl_people.jpg, a grey print) as an archive's
scanner would write them: 16-bit grey and RGB, TIFF (LZW, Deflate, none) and PNG, with profiles.
"""

from __future__ import annotations

import hashlib
import io

import imagecodecs
import numpy as np
import pyexiv2
import pytest
import tifffile
from PIL import Image

from inference.archival_metadata import DIGITAL_SOURCE_TYPE
from inference.archive_members import list_members
from inference.batch_colorize import colorize_members
from inference.colorizer import Colorizer, ColorizeSettings
from inference.colour_profiles import (
    grey_lightness_table,
    is_srgb,
    lightness_of_profiled_rgb,
)
from inference.full_res_lab import L_OF_GREY16, lightness_of_rgb16
from inference.model_loading import resolve_bundle
from inference.output_target import DirectoryOutput
from inference.run_ledger import DONE, RunLedger
from tests.conftest import shared_folder

SIXTEEN_BIT_L = 0.005  # L units: a few 16-bit steps (one is at most 0.0011); the 8-bit path is off by ~0.3
TIFF_COMPRESSION = {"none": 1, "lzw": 5, "zlib": 8}


@pytest.fixture(scope="module")
def colorizer() -> Colorizer:
    return Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings(saturation=2.0))


@pytest.fixture(scope="module")
def grey16() -> np.ndarray:
    """A real print at 16 bits: its 8-bit levels spread with noise below one 8-bit step, as a scanner's."""
    grey = Image.open(shared_folder("bw-archive") / "dustbowl_people.jpg").convert("L").resize((700, 613))
    fine = np.asarray(grey).astype(np.uint32) * 257 + np.random.default_rng(3).integers(0, 257, (613, 700))
    return np.minimum(fine, 65535).astype(np.uint16)


def _sepia16(grey16: np.ndarray) -> np.ndarray:
    return np.stack([np.minimum(grey16 * k, 65535) for k in (1.0, 0.9, 0.76)], -1).astype(np.uint16)


def _tiff(array: np.ndarray, compression: str, **options) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, compression=None if compression == "none" else compression, metadata=None,
                     photometric="rgb" if array.ndim == 3 else "minisblack", **options)
    return buffer.getvalue()


def _read16(data: bytes) -> np.ndarray:
    return tifffile.imread(io.BytesIO(data)) if data[:2] in (b"II", b"MM") else imagecodecs.png_decode(data)


@pytest.mark.parametrize("kind", ["grey TIFF LZW", "grey TIFF Deflate", "grey TIFF none", "grey PNG",
                                  "sepia RGB TIFF LZW", "sepia RGB PNG"])
def test_sixteen_bit_masters_give_sixteen_bit_outputs_with_the_original_l(colorizer, grey16, kind):
    pixels = _sepia16(grey16) if "RGB" in kind else grey16
    if "TIFF" in kind:
        compression = {"LZW": "lzw", "Deflate": "zlib", "none": "none"}[kind.split()[-1]]
        data = _tiff(pixels, compression, predictor=compression != "none")
    else:
        data = imagecodecs.png_encode(pixels)
    out = colorizer.colorize_bytes(data)
    colour = _read16(out)
    assert colour.dtype == np.uint16 and colour.shape == (613, 700, 3)
    if "TIFF" in kind:
        with tifffile.TiffFile(io.BytesIO(out)) as tiff:
            assert int(tiff.pages.first.compression) == TIFF_COMPRESSION[compression]  # follows the input
    else:
        assert out[:8] == b"\x89PNG\r\n\x1a\n"
    truth = lightness_of_rgb16(pixels) if pixels.ndim == 3 else L_OF_GREY16[pixels]
    error = np.abs(lightness_of_rgb16(colour) - truth)
    assert error.max() < SIXTEEN_BIT_L, kind
    chroma = np.ptp(colour.astype(np.int32), axis=2).mean()
    assert chroma > 200  # it did add colour (in 16-bit units)


def test_eight_bit_inputs_stay_eight_bit(colorizer, grey16):
    data = _tiff((grey16 >> 8).astype(np.uint8), "lzw")
    colour = tifffile.imread(io.BytesIO(colorizer.colorize_bytes(data)))
    assert colour.dtype == np.uint8 and colour.shape == (613, 700, 3)


def _gray_profiles() -> dict[str, bytes]:
    # Dot Gain 20% as Photoshop defines it: 50% ink reads as 70%, a curve through (0.5, 0.3) in grey level.
    level = np.linspace(0.0, 1.0, 4096)
    ink = 1.0 - level
    dot_gain = 1.0 - (ink + 0.8 * ink * (1.0 - ink))  # ink 0.5 -> 0.7
    return {"gray gamma 2.2": imagecodecs.cms_profile("gray", gamma=2.2),
            "dot gain 20%": imagecodecs.cms_profile("gray", transferfunction=np.clip(dot_gain, 0, 1).astype(np.float32))}


@pytest.mark.parametrize("name", ["gray gamma 2.2", "dot gain 20%"])
def test_a_gray_profile_sets_the_l_and_the_output_carries_srgb(colorizer, grey16, name):
    profile = _gray_profiles()[name]
    data = _tiff(grey16, "zlib", iccprofile=profile)
    out = colorizer.colorize_bytes(data)
    truth = grey_lightness_table(profile, 16)[grey16]  # Little CMS's L of each code through the profile
    srgb_reading = L_OF_GREY16[grey16]
    assert np.abs(truth - srgb_reading).mean() > 0.5  # the profile matters for these pixels
    colour = tifffile.imread(io.BytesIO(out))
    with tifffile.TiffFile(io.BytesIO(out)) as tiff:
        out_profile = tiff.pages.first.tags[34675].value
    assert is_srgb(out_profile)  # the profile the output carries describes its pixels
    assert np.abs(lightness_of_profiled_rgb(colour, out_profile) - truth).max() < SIXTEEN_BIT_L


def _jpeg_with_archive_metadata() -> tuple[bytes, dict, dict]:
    photo = Image.open(shared_folder("bw-archive") / "dustbowl_people.jpg").convert("L").resize((600, 525))
    sepia = Image.merge("RGB", [photo.point(lambda v, k=k: min(255, int(v * k))) for k in (1.07, 0.93, 0.76)])
    buffer = io.BytesIO()
    sepia.save(buffer, format="JPEG", quality=92, icc_profile=imagecodecs.cms_profile("adobergb"))
    iptc = {"Iptc.Application2.ObjectName": "Dust bowl family", "Iptc.Application2.Byline": ["Arthur Rothstein"],
            "Iptc.Application2.Copyright": "Public domain, Library of Congress", "Iptc.Application2.DateCreated": "1936-04-01",
            "Iptc.Application2.Caption": "Farmer and sons walking in the face of a dust storm",
            "Iptc.Application2.Keywords": ["dust bowl", "Oklahoma", "farmers"]}
    xmp = {"Xmp.dc.title": {'lang="x-default"': "Dust bowl family"}, "Xmp.dc.creator": ["Arthur Rothstein"],
           "Xmp.dc.rights": {'lang="x-default"': "Public domain"}, "Xmp.photoshop.DateCreated": "1936-04-01",
           "Xmp.dc.identifier": "LC-USF34-004052-E",  # the accession number
           "Xmp.iptcExt.DigitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/negativeFilm"}
    with pyexiv2.ImageData(buffer.getvalue()) as image:
        image.modify_exif({"Exif.Image.Orientation": "6", "Exif.Image.Make": "Archive Scanner Co", "Exif.Image.Artist": "Scan desk 3"})
        image.modify_iptc(iptc)
        image.modify_xmp(xmp)
        return image.get_bytes(), iptc, xmp


def test_a_jpeg_keeps_iptc_xmp_exif_gains_provenance_and_an_srgb_profile(colorizer):
    data, iptc, xmp = _jpeg_with_archive_metadata()
    out = colorizer.colorize_bytes(data)
    with pyexiv2.ImageData(out) as image:
        out_exif, out_iptc, out_xmp = image.read_exif(), image.read_iptc(), image.read_xmp()
    for key, value in iptc.items():
        assert out_iptc[key] == value, key
    for key, value in xmp.items():
        if key != "Xmp.iptcExt.DigitalSourceType":
            assert out_xmp[key] == value, key
    assert out_xmp["Xmp.iptcExt.DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert out_xmp["Xmp.tintype.SourceDigitalSourceType"] == xmp["Xmp.iptcExt.DigitalSourceType"]  # kept, not lost
    assert out_xmp["Xmp.tintype.OriginalSHA256"] == hashlib.sha256(data).hexdigest()
    assert out_xmp["Xmp.tintype.ModelVersion"] == colorizer.version
    assert out_exif["Exif.Image.Orientation"] == "1" and out_exif["Exif.Image.Make"] == "Archive Scanner Co"
    assert colorizer.version in out_exif["Exif.Image.Software"]
    decoded = Image.open(io.BytesIO(out))
    assert decoded.size == (525, 600)  # turned upright
    assert is_srgb(decoded.info["icc_profile"])
    # L honours the Adobe RGB profile: the output read through its sRGB profile has the input's L
    # read through Adobe RGB (to JPEG's quantisation), not the L of the same numbers taken as sRGB.
    source = Image.open(io.BytesIO(data)).transpose(Image.Transpose.ROTATE_270)
    truth = lightness_of_profiled_rgb(np.asarray(source), source.info["icc_profile"])
    naive = lightness_of_profiled_rgb(np.asarray(source), None)
    got = lightness_of_profiled_rgb(np.asarray(decoded), decoded.info["icc_profile"])
    assert np.abs(got - truth).mean() < 0.6 < np.abs(got - naive).mean()


def test_the_ledger_records_provenance_and_a_multi_page_tiff_is_said(colorizer, grey16, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pages = io.BytesIO()
    with tifffile.TiffWriter(pages) as tiff:
        tiff.write(grey16, compression="zlib", metadata=None)
        tiff.write(grey16[::-1], compression="zlib", metadata=None)
    (folder / "album.tif").write_bytes(pages.getvalue())
    data, _, _ = _jpeg_with_archive_metadata()
    (folder / "family.jpg").write_bytes(data)
    out = DirectoryOutput(tmp_path / "out")
    report = colorize_members(list_members(folder), out, colorizer, RunLedger(out.workspace))
    assert report.done == 2
    entries = {e.source: e for e in RunLedger(out.workspace).entries().values()}
    album = entries["album.tif"]
    assert album.status == DONE
    assert any("page 1 of 2" in note for note in album.notes)
    assert tifffile.imread(tmp_path / "out" / "album.tif").dtype == np.uint16
    for name, entry in entries.items():
        assert entry.provenance["original_sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert entry.provenance["digital_source_type"] == DIGITAL_SOURCE_TYPE
        assert entry.provenance["model_version"] == colorizer.version


def test_a_sixteen_bit_master_on_the_strip_path_gives_the_whole_picture_output(grey16, tmp_path):
    data = _tiff(grey16, "zlib")
    whole = Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings())
    expected = tifffile.imread(io.BytesIO(whole.colorize_bytes(data)))
    in_strips = Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings())
    in_strips.strip_threshold = 1  # every picture takes the strip path
    prepared = in_strips.prepare(data)
    assert prepared.strips is not None
    in_strips.write_output(prepared, in_strips.predict([prepared])[0], tmp_path / "out.tif")
    assert np.array_equal(tifffile.imread(tmp_path / "out.tif"), expected)
    with pyexiv2.Image(str(tmp_path / "out.tif")) as image:
        assert image.read_xmp()["Xmp.iptcExt.DigitalSourceType"] == DIGITAL_SOURCE_TYPE


def _throwaway_signing_files(folder) -> tuple[str, str]:
    """A test CA and a signing certificate it issued (ES256, C2PA's certificate profile), made here."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tintype tests")])

    def usage(signing: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=signing, content_commitment=False, key_encipherment=False, data_encipherment=False,
                             key_agreement=False, key_cert_sign=not signing, crl_sign=not signing, encipher_only=False, decipher_only=False)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("tintype test CA")).issuer_name(name("tintype test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(name("tintype test signer")).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(usage(True), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    certificate, private_key = folder / "chain.pem", folder / "key.pem"
    certificate.write_bytes(signer.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    private_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    return str(certificate), str(private_key)


def test_a_c2pa_signed_output_verifies_and_names_the_original(grey16, tmp_path):
    from inference.content_credentials import read_manifest

    certificate, private_key = _throwaway_signing_files(tmp_path)
    signing = Colorizer.from_bundle(resolve_bundle("fast"), ColorizeSettings(c2pa_certificate=certificate, c2pa_private_key=private_key))
    data = _tiff(grey16, "lzw")
    out = tmp_path / "signed.tif"
    out.write_bytes(signing.colorize_bytes(data))
    assert tifffile.imread(out).dtype == np.uint16  # still a 16-bit master after signing
    store = read_manifest(out, "TIFF")
    manifest = store["manifests"][store["active_manifest"]]
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    colorized = next(a for a in actions if a["action"] == "c2pa.color_adjustments")
    assert colorized["digitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert colorized["parameters"]["original_sha256"] == hashlib.sha256(data).hexdigest()
    assert colorized["softwareAgent"]["version"] == signing.version
    assert manifest["ingredients"][0]["relationship"] == "parentOf"
    passed = {entry["code"] for entry in store["validation_results"]["activeManifest"]["success"]}
    assert {"claimSignature.validated", "assertion.dataHash.match"} & passed
    failures = {entry["code"] for entry in store.get("validation_status", [])}
    assert failures <= {"signingCredential.untrusted"}  # only that the test CA is in no trust list
    with pyexiv2.Image(str(out)) as image:  # the XMP provenance is still there under the signature
        assert image.read_xmp()["Xmp.iptcExt.DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    tampered = bytearray(out.read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    out.write_bytes(bytes(tampered))
    failures = {entry["code"] for entry in read_manifest(out, "TIFF").get("validation_status", [])}
    assert failures - {"signingCredential.untrusted"}  # a changed pixel byte breaks the signature's hash


def test_signing_is_off_by_default(colorizer, grey16):
    import c2pa

    assert colorizer.signing is None
    with pytest.raises(c2pa.C2paError):
        with c2pa.Reader("image/tiff", io.BytesIO(colorizer.colorize_bytes(_tiff(grey16, "lzw")))) as reader:
            reader.json()
