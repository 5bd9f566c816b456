"""Each setting is declared once, in its stage's settings dataclass: the command-line options, the
flows' parameter forms (what `prefect deploy` sends to the UI) and the deployments derive from it.
For every stage the CLI default, the form's default and description, and the dataclass agree; the
pipeline's form holds every stage's settings; the old option spellings still work, with a notice."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefect.utilities.callables import parameter_schema

from cli.main import build_parser
from cli.settings_arguments import setting_fields, settings_from_arguments
from flows.prefect_services import PROJECT_ROOT
from inference.colorizer import ColorizeSettings
from preprocessing.cleaning.colour_filter import ColourThresholds
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.images.image_loading import ValidationLimits
from preprocessing.shards.shard_plan import ShardSettings
from scraping.scrape_settings import ScrapeSettings
from studio.studio_config import StudioConfig
from training.presets import TrainingSettings

ARGUMENTS = {"build-dataset": ["--images", "x"], "clean": ["--images", "x"], "colorize": ["in", "out"],
             "scrape": ["--seed", "http://a.test/"], "studio": [], "train": ["--data", "d", "--out", "o"]}


def _options():
    from cli.build_dataset_command import CLEANING_OPTIONS as BUILD_CLEANING
    from cli.build_dataset_command import SHARD_OPTIONS
    from cli.clean_command import CLEANING_OPTIONS
    from cli.colorize_command import COLORIZE_OPTIONS
    from cli.scrape_command import SCRAPE_OPTIONS
    from cli.studio_command import STUDIO_OPTIONS
    from cli.train_command import TRAINING_OPTIONS

    return [("build-dataset", ShardSettings, SHARD_OPTIONS), ("build-dataset", CleaningSettings, BUILD_CLEANING),
            ("build-dataset", ScrapeSettings, SCRAPE_OPTIONS), ("scrape", ScrapeSettings, SCRAPE_OPTIONS),
            ("clean", CleaningSettings, CLEANING_OPTIONS), ("colorize", ColorizeSettings, COLORIZE_OPTIONS),
            ("train", TrainingSettings, TRAINING_OPTIONS), ("studio", StudioConfig, STUDIO_OPTIONS)]


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))  # tuples -> lists, paths -> strings, as in a form


@pytest.mark.parametrize("command, settings_class, names", _options(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_cli_options_are_the_dataclass_fields(command, settings_class, names, capsys):
    parser = build_parser()
    args = parser.parse_args([command, *ARGUMENTS[command]])
    given = {"work_dir": Path("w")} if settings_class is StudioConfig else {}
    # no option given: the settings the command passes on are the dataclass defaults, field for field
    assert settings_from_arguments(settings_class, args, names, **given) == settings_class(**given)
    subparser = parser._subparsers._group_actions[0].choices[command]
    for name, leaf in setting_fields(settings_class).items():
        if name not in names:
            continue
        action = next(a for a in subparser._actions if a.dest == name and a.help != argparse.SUPPRESS)
        assert action.option_strings == ["--" + name.replace("_", "-")]
        assert action.default == (None if isinstance(leaf.default, tuple) else leaf.default), name
        assert action.help.replace("%%", "%").startswith(leaf.field.metadata["description"].removesuffix(".")), name


def _flows():
    from flows.build_dataset import build_dataset
    from flows.clean import clean
    from flows.colorize_archive import colorize_archive
    from flows.pipeline import pipeline
    from flows.scrape import scrape
    from flows.train_colorizer import train_colorizer

    return {
        "build_dataset": (build_dataset, {"scrape": ScrapeSettings, "cleaning": CleaningSettings, "shards": ShardSettings}),
        "clean": (clean, {"settings": CleaningSettings}),
        "scrape": (scrape, {"settings": ScrapeSettings}),
        "colorize_archive": (colorize_archive, {"settings": ColorizeSettings}),
        "train_colorizer": (train_colorizer, {"settings": TrainingSettings}),
        "pipeline": (pipeline, {}),
    }


def _assert_form_is_the_declaration(schema: dict, settings_class: type) -> None:
    definition = schema["definitions"][settings_class.__name__]
    assert definition["description"] == inspect.cleandoc(settings_class.__doc__)
    hints = {f.name: f for f in dataclasses.fields(settings_class)}
    assert set(definition["properties"]) == set(hints), settings_class
    for name, item in hints.items():
        form = definition["properties"][name]
        assert form["description"] == item.metadata["description"], name
        if dataclasses.is_dataclass(item.default_factory() if item.default_factory is not dataclasses.MISSING else None):
            _assert_form_is_the_declaration(schema, type(item.default_factory()))
        elif item.default is not dataclasses.MISSING:
            assert form["default"] == _jsonable(item.default), name


@pytest.mark.parametrize("name", sorted(_flows()))
def test_flow_forms_take_the_settings_dataclasses_as_declared(name):
    flow, parameters = _flows()[name]
    schema = parameter_schema(flow).model_dump_for_openapi()
    for parameter, settings_class in parameters.items():
        assert schema["properties"][parameter]["$ref"].endswith("/" + settings_class.__name__)
        assert schema["properties"][parameter]["default"] == _jsonable(dataclasses.asdict(settings_class()))
    for settings_class in (ScrapeSettings, CleaningSettings, ValidationLimits, ColourThresholds, ShardSettings,
                           TrainingSettings, ColorizeSettings):
        if settings_class.__name__ in schema.get("definitions", {}):
            _assert_form_is_the_declaration(schema, settings_class)


def test_the_pipeline_form_holds_every_stage_setting():
    from flows.pipeline import pipeline

    schema = parameter_schema(pipeline).model_dump_for_openapi()
    definitions = schema["definitions"]
    groups = {"DatasetParameters": {"scrape": ScrapeSettings, "cleaning": CleaningSettings, "shards": ShardSettings},
              "TrainingParameters": {"settings": TrainingSettings}, "ColorizeParameters": {"settings": ColorizeSettings}}
    for group, members in groups.items():
        for field, settings_class in members.items():
            form = definitions[group]["properties"][field]
            assert form["$ref"].endswith("/" + settings_class.__name__)
            assert form["default"] == _jsonable(dataclasses.asdict(settings_class()))  # the stage's defaults
            _assert_form_is_the_declaration(schema, settings_class)
    every_leaf = {name for cls in (ScrapeSettings, CleaningSettings, ShardSettings, TrainingSettings, ColorizeSettings)
                  for name in setting_fields(cls)}
    assert {"colour_filter", "codec", "centre_crop", "short_side", "part_size", "working_size", "kind"} <= every_leaf


def test_the_sample_deployments_state_what_flows_sample_settings_holds():
    from flows.sample_settings import SAMPLE_SHARDS, sample_training

    document = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    changed = {k: v for k, v in dataclasses.asdict(SAMPLE_SHARDS).items() if v != getattr(ShardSettings(), k)}
    assert document["definitions"]["sample_shards"] == changed
    training = {k: v for k, v in dataclasses.asdict(sample_training()).items() if v is not None}
    assert document["definitions"]["sample_training"] == training
    by_entrypoint = {d["entrypoint"].rsplit(":", 1)[1]: d.get("parameters", {}) for d in document["deployments"]}
    assert by_entrypoint["build_dataset"]["shards"] == changed
    assert by_entrypoint["train_colorizer"]["settings"] == training
    assert by_entrypoint["pipeline"] == {"dataset": {"shards": changed}, "training": {"settings": training}}


@pytest.mark.parametrize("argv, dest, value, new", [
    (["build-dataset", "--images", "x", "--size", "64"], "short_side", 64, "--short-side"),
    (["colorize", "in", "out", "--size", "512"], "working_size", 512, "--working-size"),
    (["colorize", "in", "out", "--smoothing", "1.5"], "smoothing_sigma", 1.5, "--smoothing-sigma"),
    (["train", "--data", "d", "--out", "o", "--model", "gan"], "kind", "gan", "--kind"),
    (["scrape", "--seed", "http://a.test/", "--per-host", "2"], "max_per_host", 2, "--max-per-host"),
    (["scrape", "--seed", "http://a.test/", "--host-delay", "0"], "min_host_delay_s", 0.0, "--min-host-delay-s"),
    (["studio", "--max-megapixels", "64"], "max_pixels", 64_000_000, "--max-pixels"),  # millions of pixels then
])
def test_old_spellings_still_work_with_a_notice(argv, dest, value, new, capsys):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    notice = capsys.readouterr().err.strip()
    assert notice == f"tintype {argv[0]}: {argv[-2]} is deprecated and goes in the next release; use {new}"
    help_text = build_parser()._subparsers._group_actions[0].choices[argv[0]].format_help()
    assert new in help_text and f"{argv[-2]} " not in help_text  # the old spelling is not offered


def test_the_studio_memory_budget_is_the_colorize_setting():
    studio = next(f for f in dataclasses.fields(StudioConfig) if f.name == "max_pixels")
    colorize = next(f for f in dataclasses.fields(ColorizeSettings) if f.name == "max_pixels")
    assert (studio.default, studio.metadata) == (colorize.default, colorize.metadata)


def test_the_old_torchrun_module_still_runs_with_a_notice():
    done = subprocess.run([sys.executable, "-m", "training.train_cli", "--help"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 0 and "--kind" in done.stdout
    assert "python -m training.train_cli is deprecated" in done.stderr and "cli.train_command" in done.stderr
