"""Every deployed flow's parameters are typed for the UI's run form: each has a description, choices
are enums, bounds are enforced, and every default runs on the built-in sample."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
import yaml
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema_from_entrypoint

from flows.prefect_services import PROJECT_ROOT
from preprocessing.shards.lab_codec import CODEC_KEYS, CodecName

DEPLOYED = {d["entrypoint"] for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]}


@pytest.mark.parametrize("entrypoint", sorted(DEPLOYED))
def test_every_parameter_has_a_type_and_a_description(entrypoint):
    # What `prefect deploy` sends to the server: parsed from the source, as the UI will show it.
    schema = parameter_schema_from_entrypoint(str(PROJECT_ROOT / entrypoint)).model_dump_for_openapi()
    for name, field in schema["properties"].items():
        field = {**field, **schema.get("definitions", {}).get(field.get("$ref", "#/").rsplit("/", 1)[-1], {})}
        assert field.get("description"), f"{entrypoint}: {name} has no description"
        assert "type" in field or "anyOf" in field or "allOf" in field or "enum" in field or "properties" in field, (name, field)
    assert not schema.get("required"), f"{entrypoint}: every parameter needs a default (a run with no --param)"


def test_choices_and_bounds_reach_the_form_and_the_run():
    from flows.build_dataset import build_dataset
    from flows.colorize_archive import colorize_archive

    assert set(get_args(CodecName)) == set(CODEC_KEYS)
    schema = parameter_schema_from_entrypoint(str(PROJECT_ROOT / "flows/colorize_archive.py:colorize_archive")).model_dump_for_openapi()
    assert schema["properties"]["device"]["enum"] == ["cpu", "cuda"]
    working_size = schema["definitions"]["ColorizeSettings"]["properties"]["working_size"]
    size_choices = working_size.get("anyOf", [working_size])
    assert [choice.get("minimum") for choice in size_choices if choice.get("type") == "integer"] == [32]
    with pytest.raises(ParameterTypeError):
        colorize_archive.validate_parameters({"settings": {"working_size": 8}})
    max_pixels = schema["definitions"]["ColorizeSettings"]["properties"]["max_pixels"]  # the memory budget (issue 24)
    assert max_pixels["minimum"] == 1 and max_pixels["default"] == 600_000_000 and "500 MP" in max_pixels["description"]
    with pytest.raises(ParameterTypeError):
        colorize_archive.validate_parameters({"settings": {"max_pixels": 0}})
    with pytest.raises(ParameterTypeError):
        build_dataset.validate_parameters({"shards": {"short_side": 8}})
    with pytest.raises(ParameterTypeError):
        colorize_archive.validate_parameters({"device": "tpu"})
    assert build_dataset.validate_parameters({"shards": {"codec": "lab8-png"}})["shards"].codec == "lab8-png"


def test_the_colour_filter_choices_are_the_classifiers_operating_points():
    from flows.build_dataset import build_dataset
    from preprocessing.cleaning.colour_filter import (
        COLOUR_FILTER_KEEP_RATES,
        ColourFilter,
        shipped_classifier,
    )

    assert set(get_args(ColourFilter)) == set(COLOUR_FILTER_KEEP_RATES) == set(shipped_classifier().thresholds)
    schema = parameter_schema_from_entrypoint(str(PROJECT_ROOT / "flows/build_dataset.py:build_dataset")).model_dump_for_openapi()
    field = schema["definitions"]["ColourThresholds"]["properties"]["colour_filter"]
    assert sorted(field["enum"]) == sorted(COLOUR_FILTER_KEEP_RATES) and field["default"] == "balanced"
    strict = build_dataset.validate_parameters({"cleaning": {"colour": {"colour_filter": "strict"}}})
    assert strict["cleaning"].colour.colour_filter == "strict"
    with pytest.raises(ParameterTypeError):
        build_dataset.validate_parameters({"cleaning": {"colour": {"colour_filter": "very"}}})


def test_colorize_archive_with_no_parameters_colorizes_the_sample_with_the_shipped_model(prefect_server, tmp_path, monkeypatch):
    from flows.colorize_archive import colorize_archive
    from inference.model_loading import default_bundle_path

    if not (default_bundle_path() / "version.txt").is_file():
        pytest.skip(f"no default model bundle at {default_bundle_path()}")
    monkeypatch.chdir(tmp_path)  # relative defaults land here, as under a worker's working directory
    totals = colorize_archive()
    assert totals["done"] == 8 and totals["failed"] == 0  # the built-in 8-print sample archive
    outputs = sorted(p.name for p in (tmp_path / "colorized" / "archive").iterdir() if p.is_file())
    inputs = sorted(p.name for p in (tmp_path / "data" / "sample-archive").glob("*.*"))
    assert outputs == inputs and len(outputs) == 8


def test_train_colorizer_with_no_dataset_builds_the_sample_first(prefect_server, tmp_path, monkeypatch):
    from flows.train_colorizer import train_colorizer
    from training.presets import TrainingSettings

    monkeypatch.chdir(tmp_path)  # a fresh machine: no data/ yet
    result = train_colorizer(settings=TrainingSettings(steps=2, overrides={"train": {
        "batch_size": 4, "eval_every": 2, "eval_images": 4, "checkpoint_every": 2, "cpu_threads": 1}}))
    assert (tmp_path / "data" / "shards" / "dataset.json").is_file()
    assert result["step"] == 2 and (Path(result["bundle_dir"]) / "version.txt").is_file()
