"""WebDataset pipelines over the Lab shards: an endless shuffled training stream and an ordered val pass.

Training (what webdataset's docs advise for DDP): shards are *resampled* with a seed per rank and
loader worker (`ResampledShards(deterministic=True)` seeds on rank * 1000 + worker, the epoch and our
seed), so every rank sees its own endless stream without coordination; a sample shuffle buffer
mixes shards; the card's decoder turns bytes into Lab; random crop and flip; batching in the worker;
`WebLoader(...).with_epoch(n)` gives the loader a finite epoch. With `resampled=False` the shard list
is shuffled with a shared seed and split with `split_by_node` then `split_by_worker` (one pass each).

Resume: a run records how many batches it has drawn and opens a fresh stream seeded on
(seed, step) when it restarts. Shards are drawn with replacement anyway, so the resumed stream is
statistically the same stream without re-reading (and re-decoding) everything seen before.

Shards on an object store (`s3://bucket/data/shards`) are opened through fsspec and read as a stream
of ranged reads, one shard at a time (`samples_from_shards`): nothing is copied to disk first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
import webdataset as wds
from webdataset.tariterators import group_by_keys, tar_file_expander

from preprocessing.shards.dataset_card import load_decoder, shard_paths
from safe_files.data_root_storage import is_remote, open_for_reading
from training.augmentation import RandomCropFlip, RepeatBySource


class DecodeAndAugment:
    """Sample dict -> (L, ab) tensors: the card's decoder, then crop and flip. Picklable for workers."""

    def __init__(self, decoder: Callable[[dict], tuple[np.ndarray, np.ndarray]], crop: int, seed: int,
                 short_side_range: tuple[int, int] | None = None) -> None:
        self.decoder = decoder
        self.augment = RandomCropFlip(crop, seed, short_side_range)

    def __call__(self, sample: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        lightness, ab = self.decoder(sample)
        return self.augment(lightness, ab)


def _opened_shards(source: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for sample in source:
        with open_for_reading(sample["url"]) as stream:
            yield {**sample, "stream": stream}


def samples_from_shards(source: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """webdataset's `tarfile_to_samples` with every shard opened through fsspec (any store's URL)."""
    return group_by_keys(tar_file_expander(_opened_shards(source)))


def _shard_reader(shard_dir: str | Path) -> Callable:
    return samples_from_shards if is_remote(shard_dir) else wds.tarfile_to_samples()


def stack_batch(samples: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.stack([s[0] for s in samples]), torch.stack([s[1] for s in samples])


def train_pipeline(
    shard_dir: str | Path,
    card: dict[str, Any],
    crop: int,
    batch_size: int,
    seed: int,
    shuffle_buffer: int = 500,
    resampled: bool = True,
    short_side_range: tuple[int, int] | None = None,
    source_weights: dict[str, float] | None = None,
) -> wds.DataPipeline:
    urls = shard_paths(shard_dir, card, "train")
    if not urls:
        raise ValueError(f"the dataset card in {shard_dir} lists no train shards; rebuild the dataset with more images")
    if resampled:
        source = [wds.ResampledShards(urls, seed=seed, deterministic=True)]
    else:
        source = [wds.SimpleShardList(urls), wds.detshuffle(len(urls), seed=seed), wds.split_by_node, wds.split_by_worker]
    return wds.DataPipeline(
        *source,
        _shard_reader(shard_dir),
        *([RepeatBySource(shard_dir, source_weights, seed)] if source_weights else []),
        wds.shuffle(shuffle_buffer, initial=min(shuffle_buffer, 100), seed=seed),
        wds.map(DecodeAndAugment(load_decoder(card), crop, seed, short_side_range)),
        wds.batched(batch_size, collation_fn=stack_batch, partial=False),
    )


def train_loader(
    shard_dir: str | Path,
    card: dict[str, Any],
    crop: int,
    batch_size: int,
    seed: int,
    workers: int = 0,
    shuffle_buffer: int = 500,
    epoch_batches: int = 1000,
    short_side_range: tuple[int, int] | None = None,
    source_weights: dict[str, float] | None = None,
) -> wds.WebLoader:
    """Batches of (L (B, 1, c, c), ab (B, 2, c, c)); batching happens in the workers."""
    pipeline = train_pipeline(shard_dir, card, crop, batch_size, seed, shuffle_buffer,
                              short_side_range=short_side_range, source_weights=source_weights)
    loader = wds.WebLoader(
        pipeline, batch_size=None, num_workers=workers, persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None, pin_memory=torch.cuda.is_available(),
        # Not plain fork: a worker forked from a process running Prefect inherits its queue services'
        # exit hook, which fails in the child (exit code 1 at every shutdown); nor after CUDA init.
        multiprocessing_context="forkserver" if workers > 0 else None,
    )
    return loader.with_epoch(epoch_batches)


def endless_batches(loader: wds.WebLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    while True:
        yield from loader


def val_samples(shard_dir: str | Path, card: dict[str, Any], split: str = "val", limit: int | None = None) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(key, L (H, W), ab (2, H, W)) in shard order, one pass, no augmentation."""
    urls = shard_paths(shard_dir, card, split)
    if not urls:
        raise ValueError(f"the dataset card in {shard_dir} lists no {split} shards; "
                         "rebuild the dataset with more images (a val split needs val_fraction > 0)")
    decoder = load_decoder(card)
    if is_remote(shard_dir):
        dataset = wds.DataPipeline(wds.SimpleShardList(urls), samples_from_shards)
    else:
        dataset = wds.WebDataset(urls, shardshuffle=False, nodesplitter=None, workersplitter=None, empty_check=False)
    for count, sample in enumerate(dataset):
        if limit is not None and count >= limit:
            return
        lightness, ab = decoder(sample)
        yield sample["__key__"], lightness, ab
