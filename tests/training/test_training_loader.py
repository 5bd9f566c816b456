"""The WebDataset pipeline over real shards: shapes, ranges, seeding, workers, the val pass."""

from __future__ import annotations

import gc

import torch

from preprocessing.dataset_card import read_card
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
