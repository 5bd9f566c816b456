"""Optional C2PA content credentials on a colorized output (c2pa-python, the C2PA reference library).

Off unless the user names a signing certificate chain and its private key (PEM files; the settings
`c2pa_certificate` and `c2pa_private_key`). The manifest states the actions (the original opened, then
`c2pa.color_adjustments`, C2PA having no "colorized" action, described as such, with DigitalSourceType
compositeWithTrainedAlgorithmicMedia and the model as the software agent) and the original as the
parent ingredient (the library hashes it), its sha256 in the action's parameters. The output is signed after its metadata is written (the
signature covers the final bytes), into a temporary beside it that then replaces it.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from inference.archival_metadata import DIGITAL_SOURCE_TYPE, Provenance

PARENT_LABEL = "original"
MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "WEBP": "image/webp"}


@dataclass(frozen=True)
class SigningCredentials:
    certificate_chain: bytes  # PEM: the signing certificate, then its issuers
    private_key: bytes  # PEM
    algorithm: str = "es256"

    @classmethod
    def from_files(cls, certificate: str | Path, private_key: str | Path) -> "SigningCredentials":
        return cls(Path(certificate).read_bytes(), Path(private_key).read_bytes())


def manifest_definition(provenance: Provenance, title: str) -> dict:
    return {
        "claim_generator_info": [{"name": "tintype", "version": provenance.tool.split(" ", 1)[-1]}],
        "title": title,
        "assertions": [{
            "label": "c2pa.actions.v2",
            "data": {"actions": [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}}, {  # the original, then what was done to it
                "action": "c2pa.color_adjustments",
                "description": "colorized by a trained model; the lightness is the original's",
                "digitalSourceType": DIGITAL_SOURCE_TYPE,
                "softwareAgent": {"name": "tintype", "version": provenance.model_version},
                "parameters": {"model_version": provenance.model_version,
                               "original_sha256": provenance.original_sha256},
            }]},
        }],
    }


def _builder_and_signer(provenance: Provenance, title: str, original_format: str, credentials: SigningCredentials):
    import c2pa  # loaded only where signing is configured (a native library)

    definition = manifest_definition(provenance, title)
    # The original as the parent ingredient by its description and sha256: its bytes are not needed
    # again (a large master is not held in memory for this).
    definition["ingredients"] = [{"title": "original", "relationship": "parentOf", "label": PARENT_LABEL,
                                  "format": MIME_TYPES.get(original_format, "application/octet-stream"),
                                  "metadata": {"sha256": provenance.original_sha256}}]
    info = c2pa.C2paSignerInfo(credentials.algorithm.encode(), credentials.certificate_chain,
                               credentials.private_key, None)
    return c2pa.Builder(json.dumps(definition)), c2pa.Signer.from_info(info)


def _mime(out_format: str) -> str:
    if out_format not in MIME_TYPES:
        raise ValueError(f"C2PA signing supports JPEG, PNG, TIFF and WebP outputs, not {out_format}")
    return MIME_TYPES[out_format]


def sign_bytes(data: bytes, out_format: str, original_format: str, provenance: Provenance,
               credentials: SigningCredentials, title: str = "colorized") -> bytes:
    """An encoded output with a C2PA manifest signed in."""
    mime = _mime(out_format)
    builder, signer = _builder_and_signer(provenance, title, original_format, credentials)
    signed = io.BytesIO()
    with signer, builder:
        builder.sign(signer, mime, io.BytesIO(data), signed)
    return signed.getvalue()


def sign_file(path: Path, out_format: str, original_format: str, provenance: Provenance,
              credentials: SigningCredentials) -> None:
    """`sign_bytes` on a file, streamed into a temporary beside it that then replaces it."""
    mime = _mime(out_format)
    builder, signer = _builder_and_signer(provenance, path.name, original_format, credentials)
    temporary = path.with_name(f".{path.name}.c2pa.tmp")
    try:
        with signer, builder, open(path, "rb") as source, open(temporary, "wb") as dest:
            builder.sign(signer, mime, source, dest)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_manifest(path: Path, out_format: str) -> dict:
    """The output's manifest store as c2pa-python reads and validates it (tests, `tintype` users)."""
    import c2pa

    with open(path, "rb") as stream, c2pa.Reader(MIME_TYPES[out_format], stream) as reader:
        return json.loads(reader.json())
