"""The identity of what made an artifact, and the one way to compare it.

Every artifact a re-run could skip records the identity of what made it: its inputs, its settings,
the code or model version (a shard part's claim, a records folder's name, the dataset a training run
started on, a ledger entry's version, a cached plan). A reader that would skip work computes the
identity it would record now and compares the two with `same_identity`; it never guesses.

An identity is the first IDENTITY_LENGTH hex characters of the sha256 of the canonical JSON of a
value: keys sorted, dataclasses as dicts, paths as strings, tuples as lists (`identity_of`), or of a
stream of text or bytes (`identity_of_chunks`, for inputs too many to hold as one value).
Identities recorded before this module cut the same digest at 8, 12 or 64 characters; `same_identity`
compares on the shorter length, so they stay valid.

Content addresses (a sha256 of bytes: raw-store names, sample keys, the ledger's input sha256, a model
bundle's version from its weights) name bytes, not what made them; they keep their published formats
and do not come through here.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

IDENTITY_LENGTH = 16  # hex characters: 64 bits
RECORDED_MIN_LENGTH = 8  # the shortest cut an older artifact recorded (ledger versions)
VERSION_SEPARATOR = "~"  # "<model version>~<identity of the output settings>"


def plain(value: Any) -> Any:
    """`value` as JSON data: dataclasses as dicts, paths as strings, tuples as lists, sets sorted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=canonical_json)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def canonical_json(value: Any) -> str:
    # json.dumps's default separators and ASCII escapes: the text older identities were digested from.
    return json.dumps(plain(value), sort_keys=True)


def identity_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:IDENTITY_LENGTH]


def identity_of_chunks(chunks: Iterable[str | bytes]) -> str:
    """The identity of a stream (text is UTF-8 encoded), for inputs too many to hold as one value."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk.encode() if isinstance(chunk, str) else chunk)
    return digest.hexdigest()[:IDENTITY_LENGTH]


def identity_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:IDENTITY_LENGTH]


def same_identity(recorded: Any, current: str) -> bool:
    """Whether an artifact's recorded identity is `current`. A record of another length (an older
    cut of the same digest) is compared on the shorter of the two; a missing one never matches."""
    if not isinstance(recorded, str) or len(recorded) < RECORDED_MIN_LENGTH:
        return False
    length = min(len(recorded), len(current))
    return recorded[:length] == current[:length]


def versioned(version: str, settings: Any) -> str:
    """`version` tagged with the identity of `settings` that change what it makes: "<version>~<identity>"."""
    return f"{version}{VERSION_SEPARATOR}{identity_of(settings)}"


def same_version(recorded: Any, current: str) -> bool:
    """Whether a recorded (possibly tagged) version is `current`; tags compare as identities."""
    if not isinstance(recorded, str):
        return False
    if recorded == current:
        return True
    base, separator, tag = recorded.rpartition(VERSION_SEPARATOR)
    current_base, current_separator, current_tag = current.rpartition(VERSION_SEPARATOR)
    return bool(separator and current_separator) and base == current_base and same_identity(tag, current_tag)
