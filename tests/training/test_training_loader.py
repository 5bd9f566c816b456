"""The WebDataset pipeline over real shards: shapes, ranges, seeding, workers, the val pass."""

from __future__ import annotations

import gc

import pytest
import torch

from preprocessing.shards.dataset_card import read_card
from training.shard_loader import train_loader, val_samples


def first_batches(data, seed, count=3, workers=0):
    card = read_card(data / "shards")
    loader = train_loader(data / "shards", card, crop=32, batch_size=6, seed=seed, workers=workers,
                          shuffle_buffer=20, epoch_batches=count)
    batches = list(loader)  # with_epoch(count): exactly `count` batches
    del loader
    gc.collect()  # shut the (persistent) workers down now, not during some later test
    return batches


def test_batches_are_cropped_lab(tiny_data):
    batches = first_batches(tiny_data, seed=1)
    assert len(batches) == 3
    for lightness, ab in batches:
        assert lightness.shape == (6, 1, 32, 32) and ab.shape == (6, 2, 32, 32)
        assert lightness.dtype == torch.float32
        assert 0 <= lightness.min() and lightness.max() <= 100
        assert -128 <= ab.min() and ab.max() <= 127
        assert ab.abs().max() > 5  # real colour photos, not gray


def test_same_seed_same_stream_other_seed_other_stream(tiny_data):
    a, b, c = first_batches(tiny_data, 7), first_batches(tiny_data, 7), first_batches(tiny_data, 8)
    assert all(torch.equal(x[0], y[0]) for x, y in zip(a, b))
    assert not all(torch.equal(x[0], z[0]) for x, z in zip(a, c))


def test_worker_processes_feed_the_loader(tiny_data):
    batches = first_batches(tiny_data, seed=2, count=4, workers=2)
    assert len(batches) == 4 and all(b[0].shape == (6, 1, 32, 32) for b in batches)


def test_val_pass_reads_every_val_sample_once(tiny_data):
    card = read_card(tiny_data / "shards")
    keys = [key for key, _, _ in val_samples(tiny_data / "shards", card)]
    assert len(keys) == card["totals"]["val"]["samples"] == len(set(keys)) > 0
    _, lightness, ab = next(val_samples(tiny_data / "shards", card))
    assert min(lightness.shape) == 48 and ab.shape == (2, *lightness.shape)


def test_source_weights_repeat_and_thin_samples_by_their_source(tiny_data):
    import json

    from training.augmentation import RepeatBySource

    samples = [{"__key__": str(i), "json": json.dumps({"sha256": f"s{i}", "source": f"/photos/{'faces' if i % 2 else 'parks'}/{i}.jpg"}).encode()}
               for i in range(2000)]
    stage = RepeatBySource(tiny_data / "shards", {"parks": 3.0, "faces": 0.25}, seed=0)
    keys = [int(sample["__key__"]) for sample in stage(iter(samples))]
    parks, faces = sum(1 for k in keys if k % 2 == 0), sum(1 for k in keys if k % 2)
    assert parks == 3000 and 200 < faces < 300
    unknown = RepeatBySource(tiny_data / "shards", {"nowhere": 5.0}, seed=0)
    assert len(list(unknown(iter(samples)))) == 2000  # unmatched samples keep weight 1
    with pytest.raises(ValueError, match=">= 0"):
        RepeatBySource(tiny_data / "shards", {"faces": -1.0}, seed=0)


def test_multi_scale_crops_come_from_rescaled_samples(tiny_data):
    import numpy as np

    from training.augmentation import RandomCropFlip

    lightness = np.tile(np.linspace(0, 100, 200, dtype=np.float32), (100, 1))  # a horizontal ramp, 100 x 200
    ab = np.zeros((2, 100, 200), dtype=np.float32)
    crop = RandomCropFlip(32, seed=3, short_side_range=(32, 96))
    spans = set()
    for _ in range(40):
        l_crop, ab_crop = crop(lightness, ab)
        assert l_crop.shape == (1, 32, 32) and ab_crop.shape == (2, 32, 32)
        spans.add(round(float((l_crop[0, 0].max() - l_crop[0, 0].min())), 0))
    assert len(spans) > 5  # the same 32 px crop covers different shares of the ramp: different scales
    with pytest.raises(ValueError, match="short_side_range"):
        RandomCropFlip(64, seed=0, short_side_range=(32, 96))
