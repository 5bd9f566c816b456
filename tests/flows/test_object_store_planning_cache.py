"""The planning cache's fingerprint of object-store inputs, against a real S3 server on 127.0.0.1: it moves
when a listed object is added or replaced, stays put otherwise, and costs a listing per folder, not a
request per object (a list file may name 100,000 objects in a bucket)."""

from __future__ import annotations

import time

from flows.task_cache import stat_fingerprint
from safe_files import data_root_storage as storage


def test_listed_objects_are_fingerprinted_from_one_listing_per_folder(s3_bucket, monkeypatch):
    named = [f"{s3_bucket}/scans/{folder}/print-{index}.jpg" for folder in ("a", "b") for index in range(6)]
    for url in named[:-1]:  # the last one arrives later
        storage.write_whole(url, url.encode())
    storage.write_whole(f"{s3_bucket}/other/note.txt", b"a folder input beside the objects")
    sources = [f"{s3_bucket}/scans/list.txt", *named, f"{s3_bucket}/other"]
    storage.write_whole(sources[0], "\n".join(named).encode())

    listings: list[tuple[str, bool]] = []
    real_list_files = storage.list_files

    def counted(folder, recursive=False):  # the real listing, counted
        listings.append((str(folder), recursive))
        return real_list_files(folder, recursive)

    monkeypatch.setattr(storage, "list_files", counted)
    before = stat_fingerprint(sources)
    # the list's folder, the two scan folders (the missing object is looked up there too), and the
    # `other` folder: once as a possible object beside `scans`, once recursively as the folder it is
    assert sorted(listings) == sorted([(f"{s3_bucket}/scans", False), (f"{s3_bucket}/scans/a", False),
                                       (f"{s3_bucket}/scans/b", False), (s3_bucket, False),
                                       (f"{s3_bucket}/other", True), (named[-1], True)]), listings
    assert stat_fingerprint(sources) == before  # nothing changed: the same key

    keys = [before]
    storage.write_whole(named[-1], b"arrived later")
    keys.append(stat_fingerprint(sources))
    time.sleep(1.1)  # S3's LastModified has one-second resolution
    storage.write_whole(named[3], named[3].upper().encode())  # replaced under the same key, same size
    keys.append(stat_fingerprint(sources))
    storage.write_whole(f"{s3_bucket}/other/more.txt", b"a new object in the folder input")
    keys.append(stat_fingerprint(sources))
    assert len(set(keys)) == len(keys), keys
