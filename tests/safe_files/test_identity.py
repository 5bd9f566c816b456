"""The identity of what made an artifact: canonical, and older artifacts' recorded cuts stay valid."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from safe_files.identity import (
    IDENTITY_LENGTH,
    canonical_json,
    identity_of,
    identity_of_chunks,
    same_identity,
    same_version,
    versioned,
)


@dataclass
class Limits:
    min_side: int = 64
    max_pixels: int = 10_000


@dataclass
class Settings:
    size: int = 256
    source: Path = Path("data/raw")
    limits: Limits = field(default_factory=Limits)
    codecs: tuple[str, ...] = ("lab8", "png")


def test_stable_across_dict_order_dataclass_or_dict_and_path_or_str():
    assert identity_of({"a": 1, "b": [1, 2]}) == identity_of({"b": [1, 2], "a": 1})
    as_dict = {"codecs": ["lab8", "png"], "limits": {"max_pixels": 10_000, "min_side": 64}, "size": 256, "source": "data/raw"}
    assert identity_of(Settings()) == identity_of(as_dict) == identity_of(dict(reversed(as_dict.items())))
    assert identity_of(Path("a/b.jpg")) == identity_of("a/b.jpg")
    assert identity_of(Settings(size=128)) != identity_of(Settings())
    assert len(identity_of(Settings())) == IDENTITY_LENGTH == 16


def test_the_digest_is_of_the_text_older_artifacts_recorded():
    # Shard claims, records folders, dataset identities and ledger versions were all
    # sha256(json.dumps(value, sort_keys=True)) cut at 64, 12, 16 or 8: the canonical text is that text.
    value = {"items": [["a.jpg", "ab" * 32]], "settings": asdict(Settings(source="x"))}
    legacy = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
    assert canonical_json(value) == json.dumps(value, sort_keys=True)
    assert identity_of(value) == legacy[:16]
    for cut in (8, 12, 16, 64):
        assert same_identity(legacy[:cut], identity_of(value))
    assert identity_of_chunks(["ab", b"cd"]) == hashlib.sha256(b"abcd").hexdigest()[:16]


def test_a_recorded_identity_matches_only_the_same_digest():
    current = identity_of({"size": 256})
    assert not same_identity(identity_of({"size": 128}), current)
    assert not same_identity(None, current) and not same_identity("", current)
    assert not same_identity(current[:4], current)  # too short a cut says nothing
    assert not same_identity(hashlib.sha256(b"other").hexdigest(), current)


def test_tagged_versions():
    tuned = {"saturation": 0.5}
    current = versioned("tintype-fast", tuned)
    legacy = "tintype-fast~" + hashlib.sha256(json.dumps(tuned, sort_keys=True).encode()).hexdigest()[:8]
    assert current == "tintype-fast~" + identity_of(tuned)
    assert same_version(current, current) and same_version(legacy, current)
    assert same_version("tintype-fast", "tintype-fast")
    assert not same_version("tintype-fast", current) and not same_version(current, "tintype-fast")
    assert not same_version("tintype-other~" + identity_of(tuned)[:8], current)
    assert not same_version(versioned("tintype-fast", {"saturation": 0.7}), current)
