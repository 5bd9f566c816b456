"""Atomic outputs on an object store: the same helper as on disk, against a real S3 server on 127.0.0.1.
No partial object is ever visible under a final name, and a missing bucket or object is one clear error."""

from __future__ import annotations

import pytest

from safe_files import data_root_storage as storage
from safe_files.atomic_output import AtomicFile, atomic_path, read_json, write_bytes_atomic, write_json_atomic


def test_locations_tell_local_from_remote(tmp_path):
    assert not storage.is_remote(tmp_path) and not storage.is_remote(tmp_path.as_uri())
    assert storage.is_remote("s3://bucket/root") and storage.is_remote("gs://bucket/root")
    assert storage.local_path(tmp_path.as_uri()) == tmp_path
    assert storage.join("s3://bucket/root/", "a", "b.json") == "s3://bucket/root/a/b.json"
    assert storage.join(tmp_path, "a") == tmp_path / "a"


def test_bytes_json_and_paths_land_whole_under_their_final_names(s3_bucket):
    root = f"{s3_bucket}/data"
    write_bytes_atomic(f"{root}/raw/ab/one.bin", b"x" * 1000)
    write_json_atomic(f"{root}/clean/report.json", {"kept": 3})
    assert storage.read_bytes(f"{root}/raw/ab/one.bin") == b"x" * 1000
    assert read_json(f"{root}/clean/report.json") == {"kept": 3}

    with atomic_path(f"{root}/shards/big.tar") as temporary:
        temporary.write_bytes(b"half")
        assert not storage.exists(f"{root}/shards/big.tar")  # nothing under the final name while writing
        temporary.write_bytes(b"whole" * 1000)
    assert storage.read_bytes(f"{root}/shards/big.tar") == b"whole" * 1000
    assert not temporary.exists()  # the local temporary is gone once uploaded

    with pytest.raises(RuntimeError), atomic_path(f"{root}/shards/failed.tar") as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert not storage.exists(f"{root}/shards/failed.tar") and not temporary.exists()

    shard = AtomicFile(f"{root}/shards/train-000000.tar")
    shard.path.write_bytes(b"tar")
    assert not storage.exists(shard.final)
    shard.commit()
    assert storage.read_bytes(f"{root}/shards/train-000000.tar") == b"tar"
    listed = [url for url, _size, _modified in storage.list_files(f"{root}/shards")]
    assert listed == [f"{root}/shards/big.tar", f"{root}/shards/train-000000.tar"]


def test_a_missing_bucket_or_object_is_one_clear_error(s3_bucket):
    with pytest.raises(storage.StorageRefused, match=r"cannot read s3://.*/nothing-here.json: not found"):
        read_json(f"{s3_bucket}/nothing-here.json")
    with pytest.raises(storage.StorageRefused, match="cannot write s3://tintype-no-such-bucket/x.json"):
        write_json_atomic("s3://tintype-no-such-bucket/x.json", {})


def test_credentials_never_appear_in_an_error(s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    storage._filesystem.cache_clear()
    with pytest.raises(storage.StorageError) as raised:
        storage.read_bytes(f"{s3_bucket}/missing.bin")
    assert "very-secret-value" not in str(raised.value) and "tintype-test" not in str(raised.value)
