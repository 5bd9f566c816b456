"""Typed parameters of the `pipeline` flow: the Prefect UI renders each model as a form with these
descriptions and defaults. Every default runs on the built-in sample, so a deployment run with no
--param works on a fresh machine (relative paths are under the worker's working directory)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from training.pretrained_encoder import EncoderName


class DatasetParameters(BaseModel):
    """Where the colour photos come from and how the Lab shards are cut (the build-dataset subflow)."""

    images: str | None = Field(None, description="Folder of colour photos. Empty with no seeds: the built-in sample gallery (written on demand into DATA/sample-gallery).")
    seeds: list[str] | None = Field(None, description="Gallery pages to crawl instead of a folder (scrape step).")
    url_list: str | None = Field(None, description="A file of image URLs to download instead of a folder.")
    allow_private: bool = Field(False, description="Allow loopback/private hosts when scraping (local test galleries only).")
    max_images: int | None = Field(None, ge=1, description="Stop scraping after this many stored images.")
    out: str = Field("data", description="Data root: raw/, clean/, shards/ go under it (path or fsspec-style local URL).")
    size: int = Field(128, ge=32, description="Short side of every sample in pixels.")
    val_fraction: float = Field(0.1, gt=0, lt=1, description="Share of images in the validation split.")
    workers: int = Field(2, ge=1, description="Shard/clean parts written at once (bounded fan-out).")
    part_size: int = Field(16, ge=1, description="Images per shard-writing task (a retry redoes at most one part).")
    dask_scheduler: str | None = Field(None, description='Run the shard fan-out on Dask: "local" (a LocalCluster of `workers` processes) or a scheduler address such as tcp://10.0.0.5:8786. Empty: threads in the flow process.')

    def scrape_options(self) -> dict:
        return {"allow_private": self.allow_private, "max_images": self.max_images}


class TrainingParameters(BaseModel):
    """The train-colorizer subflow. The defaults are a short CPU training (about a minute)."""

    out: str = Field("runs/default", description="Run folder: checkpoints, metrics.jsonl, samples/, bundle/ (colorize-archive/inbox reads runs/default/bundle).")
    preset: Literal["cpu-small", "gpu-base"] = Field("cpu-small", description="cpu-small (tiny U-Net, minutes on a CPU) or gpu-base.")
    model: Literal["regression", "classification", "gan"] = Field("regression", description="Model kind.")
    encoder: EncoderName = Field("scratch", description="scratch (the U-Net learns everything here) or an ImageNet-pretrained EfficientNet-Lite encoder (frozen) under a U-Net decoder.")
    steps: int = Field(120, ge=1, description="Total optimiser steps (a re-run resumes and stops here).")
    eval_every: int = Field(60, ge=1, description="Evaluate (metrics + sample grid artifacts) every N steps.")
    batch_size: int = Field(8, ge=1, description="Images per optimiser step.")

    def overrides(self) -> dict:
        train = {"eval_every": self.eval_every, "checkpoint_every": max(1, min(100, self.steps // 2)),
                 "eval_images": 16, "batch_size": self.batch_size}
        if self.preset == "cpu-small":
            train["cpu_threads"] = 1  # small or shared CPUs: OpenMP barrier stalls otherwise (training/train_loop.py)
        return {"train": train, **({"model": {"encoder": self.encoder}} if self.encoder != "scratch" else {})}


class ColorizeParameters(BaseModel):
    """The colorize-archive subflow, run with the bundle the training just exported."""

    input: str | None = Field(None, description="Archive to colorize: folder, .zip, .tar(.gz) or list file. Empty: the built-in black-and-white sample (DATA/sample-archive).")
    output: str = Field("colorized/pipeline", description="Output folder (or .zip); the ledger lives beside the outputs.")
    size: int = Field(256, ge=32, description="Working size: the longer side the model sees, in pixels.")
    device: str = Field("cpu", description="cpu or cuda.")
