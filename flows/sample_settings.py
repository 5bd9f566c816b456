"""How the demo and the sample deployments differ from the stages' defaults, on purpose.

The built-in sample gallery is 48 small scenes: its samples are cut at 128 px, a tenth goes to
validation (so that there are a few val images at all), parts hold 16 images (so that even the
sample fans out), and the training is a minute on a CPU. Every other setting is its stage's default.
prefect.yaml's sample deployments state the same values (tests/cli/test_settings_derivation.py checks
that they agree). No Prefect here: `tintype demo` reads it to build its options.
"""

from __future__ import annotations

from preprocessing.shards.shard_plan import ShardSettings
from training.presets import TrainingSettings

SAMPLE_SHARDS = ShardSettings(short_side=128, val_fraction=0.1, part_size=16)
SAMPLE_STEPS = 120


def sample_training(steps: int = SAMPLE_STEPS) -> TrainingSettings:
    """cpu-small in batches of 8, evaluated and checkpointed twice per run, on one thread (OpenMP
    barrier stalls on small or shared CPUs otherwise: training/train_loop.py)."""
    half = max(1, steps // 2)
    return TrainingSettings(preset="cpu-small", steps=steps, batch_size=8, eval_every=half, overrides={
        "train": {"checkpoint_every": min(100, half), "eval_images": 16, "cpu_threads": 1}})
