"""The Lab sample encodings: round trip error, shapes, dtypes, and the decoder the card names."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from preprocessing.colour.lab_numpy import delta_e76, srgb_to_lab
from preprocessing.images.image_loading import load_rgb
from preprocessing.shards.dataset_card import load_decoder
from preprocessing.shards.lab_codec import CODEC_KEYS, DECODER_PATH, encode_lab
from preprocessing.shards.lab_sample import ResizePolicy


@pytest.mark.parametrize("codec", sorted(CODEC_KEYS))
def test_round_trip_on_real_photos(codec, caltech_dir):
    photos = sorted(caltech_dir.rglob("*.jpg"))[::900][:8]
    decoder = load_decoder({"decoder": DECODER_PATH})
    errors = []
    for photo in photos:
        rgb = np.asarray(ResizePolicy(128).apply(load_rgb(photo)))
        lab = srgb_to_lab(rgb)
        sample = {"__key__": "k", **encode_lab(lab, codec)}
        assert set(sample) - {"__key__"} == set(CODEC_KEYS[codec])
        lightness, ab = decoder(sample)
        assert lightness.dtype == np.float32 and ab.dtype == np.float32
        assert lightness.shape == rgb.shape[:2] and ab.shape == (2, *rgb.shape[:2])
        restored = np.concatenate([lightness[..., None], ab.transpose(1, 2, 0)], axis=-1)
        errors.append(delta_e76(lab, restored).mean())
        # L is stored losslessly at 8 bits in every codec: error at most half a step.
        assert np.abs(lightness - lab[..., 0]).max() <= 100 / 255 / 2 + 1e-4
    assert np.mean(errors) <= 0.6


def test_decoder_rejects_a_sample_without_planes():
    with pytest.raises(KeyError, match="holds no Lab planes"):
        load_decoder({"decoder": DECODER_PATH})({"__key__": "x", "json": b"{}"})


def test_resize_policy_short_side_and_crop():
    image = Image.new("RGB", (400, 200))
    assert ResizePolicy(100).apply(image).size == (200, 100)
    assert ResizePolicy(100, centre_crop=True).apply(image).size == (100, 100)
    assert ResizePolicy(300).apply(image).size == (600, 300)  # small images are upscaled


def test_a_card_from_the_former_layout_still_decodes_and_a_foreign_decoder_is_refused():
    # Cards written before preprocessing/ had sub-packages name the decoder by its former module path.
    assert load_decoder({"decoder": "preprocessing.lab_codec:decode_sample"}) is load_decoder({"decoder": DECODER_PATH})
    with pytest.raises(ValueError, match="does not know; rebuild the shards"):
        load_decoder({"decoder": "os:system"})
