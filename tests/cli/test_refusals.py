"""Every `tintype` subcommand refuses a bad input with one line on stderr, `error: <what>; <what to do>`,
exit code 2 and no traceback, also when the refusal is raised inside a Prefect flow or task; `--debug`
and TINTYPE_DEBUG=1 show the traceback. Each command runs as a real process (`python -m cli`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.user_errors import is_user_error
from tests.model_inputs import tiny

REPO = Path(__file__).resolve().parents[2]


def tintype(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd or REPO, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


def assert_refused(done: subprocess.CompletedProcess, *expected: str) -> str:
    """One line `error: ...; ...` holding each of `expected`, exit 2, no traceback; returns the line."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert line.startswith("error: ") and ";" in line, line
    for text in expected:
        assert text in line, line
    return line


@pytest.fixture
def busy_port():
    """A port with a listener on 127.0.0.1 (what a second server would collide with)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def served_env(prefect_server) -> dict[str, str]:
    """The environment of a command that reaches the session's Prefect server (its flows run there)."""
    from prefect.settings import PREFECT_API_URL

    return dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())


def test_build_dataset_refuses_a_setting_out_of_range_and_no_source(tmp_path):
    (tmp_path / "photos").mkdir()
    assert_refused(tintype("build-dataset", "--images", str(tmp_path / "photos"), "--val-fraction", "2"),
                   "--val-fraction", "out of range", "< 1")
    assert_refused(tintype("build-dataset", "--out", str(tmp_path / "data")), "give one of --images DIR")
    assert not (tmp_path / "data").exists()


def test_clean_refuses_a_missing_image_folder_and_zero_workers(tmp_path):
    assert_refused(tintype("clean", "--images", str(tmp_path / "missing")), "folder not found", str(tmp_path / "missing"))
    assert_refused(tintype("clean", "--images", str(tmp_path), "--workers", "0"), "--workers", ">= 1")


def test_colorize_refuses_an_unknown_model_at_once(tmp_path):
    assert_refused(tintype("colorize", str(tmp_path), str(tmp_path / "out"), "--model", "sepia-deluxe"),
                   "no model bundle at sepia-deluxe", "default, fast")


def test_colorize_refusal_raised_inside_the_flow_is_one_line(served_env, tiny_bundle, tmp_path):
    # OUTPUT inside INPUT is refused by the colorize-archive flow itself (the same check a deployment runs).
    archive = tmp_path / "archive"
    archive.mkdir()
    done = tintype("colorize", str(archive), str(archive / "colour"), "--model", str(tiny_bundle), env=served_env)
    assert_refused(done, "is inside the input folder", "pick a folder outside it")
    assert not (archive / "colour").exists()


def test_demo_refuses_zero_steps(tmp_path):
    assert_refused(tintype("demo", "--out", str(tmp_path / "demo"), "--steps", "0"), "--steps", ">= 1")
    assert not (tmp_path / "demo").exists()


def test_gallery_refuses_a_port_in_use(busy_port, tmp_path):
    assert_refused(tintype("gallery", str(tmp_path), "--port", str(busy_port)),
                   f"port {busy_port}", "in use", "choose another --port")


def test_scrape_refuses_a_url_list_without_urls_from_inside_its_task(served_env, tmp_path):
    # The list is read by the flow's planning task: the refusal crosses Prefect's engine, is not retried.
    empty = tmp_path / "urls.txt"
    empty.write_text("# nothing yet\n\n")
    done = tintype("scrape", "--url-list", str(empty), "--out", str(tmp_path / "data"), env=served_env)
    assert_refused(done, "holds no URLs", "one image URL a line")


def test_serve_refuses_a_port_in_use_before_starting_anything(busy_port, tmp_path):
    done = tintype("serve", "--port", str(busy_port), "--logs", str(tmp_path / "logs"), timeout=60)
    assert_refused(done, f"port {busy_port}", "in use", "choose another --port")
    assert not (tmp_path / "logs" / "server.log").exists()


def test_studio_refuses_a_port_in_use(busy_port, tiny_bundle):
    assert_refused(tintype("studio", "--port", str(busy_port), "--model", str(tiny_bundle)), "in use", "choose another --port")


def test_train_refuses_data_without_shards(tmp_path):
    (tmp_path / "photos").mkdir()
    line = assert_refused(tintype("train", "--data", str(tmp_path / "photos"), "--out", str(tmp_path / "run")),
                          "no dataset card", "build the shards first")
    assert str(tmp_path / "photos") in line
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_resume_on_another_dataset_from_inside_the_flow(served_env, tiny_data, tmp_path):
    # A run trained on one dataset, resumed on another: refused inside the training task (not retried).
    from preprocessing.shards.shard_build import build_shards
    from preprocessing.shards.shard_plan import ShardSettings
    from training.train_loop import train

    run = tmp_path / "run"
    assert train(tiny_data, run, steps=2, overrides=tiny(checkpoint_every=2)).step == 2
    other = tmp_path / "other"
    build_shards(tiny_data / "images", other / "shards", ShardSettings(short_side=40, val_fraction=0.15, maxcount=10), workers=1)
    done = tintype("train", "--data", str(other), "--out", str(run), "--resume", env=served_env, timeout=600)
    assert_refused(done, "was trained on another dataset", str(run))


def test_debug_and_the_environment_variable_show_the_traceback(tmp_path):
    (tmp_path / "photos").mkdir()
    command = ("train", "--data", str(tmp_path / "photos"), "--out", str(tmp_path / "run"))
    for done in (tintype("--debug", *command), tintype(*command, env=dict(os.environ, TINTYPE_DEBUG="1"))):
        assert done.returncode == 1
        assert "Traceback (most recent call last)" in done.stderr
        assert "FileNotFoundError: no dataset card" in done.stderr


def test_a_library_value_error_is_a_bug_not_a_user_error():
    try:
        np.zeros(2) + np.zeros(3)  # numpy raises: a bug in how we would have called it
    except ValueError as error:
        assert not is_user_error(error)
    try:
        from preprocessing.shards.shard_plan import split_for

        split_for("00" * 32, 2.0)  # our own refusal
    except ValueError as error:
        assert is_user_error(error)
    assert not is_user_error(KeyError("a bug"))
    assert is_user_error(FileNotFoundError(2, "No such file or directory", "/nowhere"))


def test_object_store_locations_that_do_not_exist_are_one_line(s3_bucket, tmp_path):
    """A missing object or bucket (a real S3 server on 127.0.0.1): one line, and no credential in it."""
    colorize = tintype("colorize", f"{s3_bucket}/missing.zip", f"{s3_bucket}/out", "--model", "fast")
    assert_refused(colorize, "input not found", f"{s3_bucket}/missing.zip")
    train = tintype("train", "--data", f"{s3_bucket}/data", "--out", str(tmp_path / "run"))
    line = assert_refused(train, "no dataset card", f"{s3_bucket}/data")
    unreadable = tintype("colorize", "s3://tintype-no-such-bucket/prints", f"{s3_bucket}/out", "--model", "fast")
    assert_refused(unreadable, "s3://tintype-no-such-bucket/prints")
    for done in (colorize, train, unreadable):
        assert os.environ["AWS_SECRET_ACCESS_KEY"] not in done.stderr + done.stdout
    assert line
