"""The fast shard path (one-pass Lab kernel, run-length PNG, threads inside a part) writes the same
dataset as the reference path it replaced: srgb_to_lab -> quantise_lab -> PNG level 6 + JPEG q98,
histogram from float ab (issue 23)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import webdataset as wds
from PIL import Image

from preprocessing.colour.ab_gamut import AbHistogram
from preprocessing.colour.lab_numpy import srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from preprocessing.shards.dataset_card import read_card, shard_paths
from preprocessing.shards.lab_codec import AB_JPEG_QUALITY, decode_planes, quantise_lab
from preprocessing.shards.lab_planes import lab_planes
from preprocessing.shards.lab_sample import ResizePolicy
from preprocessing.shards.shard_build import build_shards
from preprocessing.shards.shard_plan import ShardSettings
from tests.preprocessing.shards.shard_inputs import (
    link_real_photos,
    write_awkward_inputs,
)


def _reference_sample(path, policy: ResizePolicy) -> tuple[np.ndarray, np.ndarray, dict]:
    """The old way: float Lab, quantised, the ab plane through the codec's JPEG; and the float-ab histogram."""
    image = load_rgb(path)
    resized = policy.apply(image)
    lab = srgb_to_lab(np.asarray(resized))
    planes = quantise_lab(lab)
    buffer = io.BytesIO()
    Image.fromarray(np.concatenate([planes[..., 1], planes[..., 2]], axis=0)).save(buffer, "JPEG", quality=AB_JPEG_QUALITY)
    ab = np.split(np.asarray(Image.open(buffer)), 2, axis=0)
    histogram = AbHistogram()
    histogram.add_ab(lab[..., 1:])
    size = {"width": image.width, "height": image.height, "sample_width": resized.width, "sample_height": resized.height}
    return planes, np.stack(ab, axis=-1), {"counts": histogram.counts, **size}


def test_kernel_planes_equal_the_reference_but_for_rare_ties(caltech_dir):
    policy = ResizePolicy(256)
    files = sorted(caltech_dir.rglob("*.jpg"))[::400][:20]
    rng = np.random.default_rng(0)
    inputs = [np.asarray(policy.apply(load_rgb(path))) for path in files]
    inputs.append(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))  # noise over the whole cube
    red, green = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    inputs.append(np.stack([red, green, np.full_like(red, 255)], -1).astype(np.uint8))  # a whole face of it
    differing = values = 0
    for rgb in inputs:
        lab = srgb_to_lab(rgb)
        reference = quantise_lab(lab)
        planes, counts = lab_planes(rgb)
        difference = np.abs(planes.astype(np.int16) - reference)
        assert difference.max() <= 1
        differing += int((difference > 0).sum())
        values += difference.size
        histogram = AbHistogram()
        histogram.add_ab(lab[..., 1:])
        assert counts.sum() == rgb.shape[0] * rgb.shape[1]
        assert np.abs(counts - histogram.counts).sum() <= 1e-4 * counts.sum() + 2
    assert differing <= 1e-5 * values  # a float32 tie now and then, not a systematic shift


def test_fast_build_equals_the_reference_build(tmp_path, caltech_dir):
    folder = tmp_path / "images"
    photos = link_real_photos(caltech_dir, folder, 40)
    write_awkward_inputs(folder, photos[0])  # CMYK, palette, 16-bit, EXIF-rotated ... and two skips
    settings = ShardSettings(short_side=96, part_size=15, maxcount=8)
    card_path = build_shards(folder, tmp_path / "shards", settings, workers=2)
    card = read_card(card_path)

    policy = ResizePolicy(settings.short_side)
    samples, train_sources = {}, []
    for split in ("train", "val"):
        for shard in shard_paths(card_path.parent, card, split):
            for sample in wds.WebDataset(shard, shardshuffle=False):
                assert sample["__key__"] not in samples
                samples[sample["__key__"]] = sample
                if split == "train":
                    train_sources.append(json.loads(sample["json"])["source"])
    sources = {json.loads(s["json"])["source"]: key for key, s in samples.items()}
    readable = [p for p in sorted(folder.iterdir()) if p.name not in ("truncated.jpg", "not-an-image.jpg")]
    assert sorted(sources) == sorted(str(p) for p in readable)  # same keys: every readable image, once

    for path in readable:
        sample = samples[sources[str(path)]]
        planes, ab, reference = _reference_sample(path, policy)
        decoded = decode_planes(sample)
        assert decoded.shape == planes.shape
        lightness = np.abs(decoded[..., 0].astype(np.int16) - planes[..., 0])
        assert lightness.max() <= 1 and (lightness > 0).mean() < 1e-3, path.name  # lossless L, up to float ties
        chroma = np.abs(decoded[..., 1:].astype(np.int16) - ab)
        assert chroma.mean() < 0.05 and chroma.max() <= 4, path.name  # the same JPEG, up to those ties
        metadata = json.loads(sample["json"])
        assert {k: metadata[k] for k in ("width", "height", "sample_width", "sample_height")} == {
            k: reference[k] for k in ("width", "height", "sample_width", "sample_height")}
    assert train_sources  # the card's histogram covers the train split only
    expected = AbHistogram()
    for source in train_sources:
        expected.merge(AbHistogram(_reference_sample(source, policy)[2]["counts"]))
    found = np.asarray(card["ab_histogram"]["counts"])
    assert found.sum() == expected.counts.sum()
    assert np.abs(found - expected.counts).sum() <= 1e-4 * found.sum()


@pytest.mark.parametrize("side", [64, 257])
def test_l_plane_png_is_lossless(side):
    from preprocessing.shards.lab_codec import encode_planes

    rng = np.random.default_rng(side)
    planes = rng.integers(0, 256, (side, side + 3, 3), dtype=np.uint8)
    assert np.array_equal(decode_planes(encode_planes(planes))[..., 0], planes[..., 0])


def test_keep_small_keeps_small_photos_at_their_own_size(tmp_path, caltech_dir):
    folder = tmp_path / "images"
    link_real_photos(caltech_dir, folder, 6)
    settings = ShardSettings(short_side=420, keep_small=True, val_fraction=0.01)  # caltech photos are ~300 x 200
    card_path = build_shards(folder, tmp_path / "shards", settings, workers=1)
    card = read_card(card_path)
    assert card["encoding"]["resize"]["keep_small"] is True
    sizes = []
    for shard in shard_paths(card_path.parent, card, "train") + shard_paths(card_path.parent, card, "val"):
        for sample in wds.WebDataset(shard, shardshuffle=False):
            metadata = json.loads(sample["json"])
            sizes.append((metadata["width"], metadata["height"], metadata["sample_width"], metadata["sample_height"]))
            assert decode_planes(sample).shape[:2] == (metadata["sample_height"], metadata["sample_width"])
    assert len(sizes) == 6
    for width, height, sample_width, sample_height in sizes:
        expected = (width, height) if min(width, height) <= 420 else ResizePolicy(420).target_size(width, height)
        assert (sample_width, sample_height) == expected
    assert any(min(w, h) < 420 for w, h, _, _ in sizes)


def test_default_keep_small_keeps_the_fingerprints_of_parts_written_before_it_existed():
    from dataclasses import asdict

    from preprocessing.shards.shard_part import part_fingerprint
    from preprocessing.shards.shard_plan import ShardPlan
    from safe_files.identity import identity_of

    items = [["a.jpg", "0" * 64]]
    before = {name: value for name, value in asdict(ShardSettings()).items() if name != "keep_small"}
    plan = ShardPlan("shards", ShardSettings(), {"train": [items], "val": []})
    assert part_fingerprint(plan, "train", 0) == identity_of({"items": items, "settings": before})
    other = ShardPlan("shards", ShardSettings(keep_small=True), {"train": [items], "val": []})
    assert part_fingerprint(other, "train", 0) != part_fingerprint(plan, "train", 0)
