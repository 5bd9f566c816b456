"""The `pipeline` flow's parameters, one group per subflow: the Prefect UI renders each as a form.

Each group holds what its subflow reads and writes (paths, fan-out, device) and that stage's own
settings dataclasses, whose fields carry their defaults, choices and descriptions; nothing here
re-declares a stage setting. Relative paths are under the worker's working directory."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inference.colorize_settings import ColorizeSettings
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.shards.shard_plan import ShardSettings
from scraping.scrape_settings import ScrapeSettings
from training.presets import TrainingSettings


class DatasetParameters(BaseModel):
    """Where the colour photos come from and how they become Lab shards (the build-dataset subflow)."""

    images: str | None = Field(None, description="Folder of colour photos. Empty with no seeds: the built-in sample gallery (written on demand into DATA/sample-gallery).")
    seeds: list[str] | None = Field(None, description="Gallery pages to crawl instead of a folder (scrape step).")
    url_list: str | None = Field(None, description="A file of image URLs to download instead of a folder.")
    out: str = Field("data", description="Data root: raw/, clean/, shards/ go under it (a path, a file:// URL or an object-store URL such as s3://bucket/data).")
    workers: int = Field(2, ge=1, description="Shard/clean parts written at once (bounded fan-out).")
    dask_scheduler: str | None = Field(None, description='Run the shard fan-out on Dask: "local" (a LocalCluster of `workers` processes) or a scheduler address such as tcp://10.0.0.5:8786. Empty: threads in the flow process.')
    scrape: ScrapeSettings = ScrapeSettings()
    cleaning: CleaningSettings = CleaningSettings()
    shards: ShardSettings = ShardSettings()


class TrainingParameters(BaseModel):
    """The train-colorizer subflow (it always resumes: a re-run continues the run, trains it longer when
    settings.steps grew, or returns its bundle when the run is already there)."""

    out: str = Field("runs/default", description="Run folder: checkpoints, metrics.jsonl, samples/, bundle/ (colorize-archive/inbox reads runs/default/bundle).")
    settings: TrainingSettings = TrainingSettings()


class ColorizeParameters(BaseModel):
    """The colorize-archive subflow, run with the bundle the training just exported."""

    input: str | None = Field(None, description="Archive to colorize: folder, .zip, .tar(.gz) or list file. Empty: the built-in black-and-white sample (DATA/sample-archive).")
    output: str = Field("colorized/pipeline", description="Output folder (or .zip); the ledger lives beside the outputs.")
    device: str = Field("cpu", description="cpu or cuda.")
    settings: ColorizeSettings = ColorizeSettings()
