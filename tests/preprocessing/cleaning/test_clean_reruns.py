"""Re-running the cleaning on the same data root with other settings: what is analysed again and what is not."""

from __future__ import annotations

from PIL import Image

from preprocessing.cleaning.clean_build import clean_images
from preprocessing.cleaning.clean_run import CleanPlan, records_dir
from preprocessing.cleaning.colour_filter import ColourThresholds
from preprocessing.cleaning.image_analysis import CleaningSettings
from preprocessing.images.image_loading import ValidationLimits
from tests.conftest import shared_folder


def _records_folder(clean_dir):
    return records_dir(CleanPlan.load(clean_dir / "_work" / "plan.json"))


def test_a_changed_threshold_applies_on_the_next_run_without_new_analysis(tmp_path):
    archive, bsds = shared_folder("bw-archive"), shared_folder("bsds500")
    files = sorted(p for p in archive.glob("*.jpg") if Image.open(p).mode == "RGB")[:6]
    files += sorted((bsds / "val").glob("*.jpg"))[:4]
    first = clean_images(files, tmp_path / "clean", workers=1)
    toned = first["dropped_by_reason"].get("toned-monochrome", 0) + first["dropped_by_reason"].get("near-gray", 0)
    assert toned >= 5 and first["kept"] >= 4
    folder = _records_folder(tmp_path / "clean")
    parts = sorted(folder.glob("part-*.jsonl"))
    lenient = CleaningSettings(colour=ColourThresholds(monochrome_score_offset=1000.0))
    second = clean_images(files, tmp_path / "clean", settings=lenient, workers=1)
    assert second["kept"] == first["kept"] + toned  # the archive prints kept now: the threshold moved
    assert sorted(folder.glob("part-*.jsonl")) == parts  # nothing analysed again
    third = clean_images(files, tmp_path / "clean", workers=1)
    assert third["kept"] == first["kept"] and third["dropped_by_reason"] == first["dropped_by_reason"]


def test_other_validation_limits_analyse_again(tmp_path):
    bsds = shared_folder("bsds500")
    small = tmp_path / "small.jpg"
    Image.open(sorted((bsds / "val").glob("*.jpg"))[0]).resize((90, 60)).save(small, quality=90)
    files = [small] + sorted((bsds / "val").glob("*.jpg"))[1:3]
    strict = clean_images(files, tmp_path / "clean", settings=CleaningSettings(limits=ValidationLimits(min_side=64)), workers=1)
    assert strict["dropped_by_reason"] == {"too-small": 1}
    first_folder = _records_folder(tmp_path / "clean")
    lenient = clean_images(files, tmp_path / "clean", settings=CleaningSettings(limits=ValidationLimits(min_side=32)), workers=1)
    assert lenient["dropped_by_reason"] == {} and lenient["kept"] == 3  # the small photo was looked at again
    assert _records_folder(tmp_path / "clean") != first_folder and first_folder.is_dir()


def test_the_flow_never_reuses_a_plan_another_run_overwrote(prefect_server, tmp_path, bsds_dir):
    # The planning task is cached on its inputs, and its plan lives at a fixed place in DATA/clean:
    # cleaning X, then Y, then X again into one data root must clean X the third time (the cache
    # entry of the first run names a plan file the second run rewrote).
    from flows.clean import clean
    from preprocessing.cleaning.clean_decision import read_kept_paths

    folders = {}
    for name, photos in (("x", sorted((bsds_dir / "val").glob("*.jpg"))[:3]), ("y", sorted((bsds_dir / "test").glob("*.jpg"))[:2])):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for photo in photos:
            (folders[name] / photo.name).symlink_to(photo)
    out = tmp_path / "data"

    def kept_after(name: str) -> set[str]:
        clean(images=str(folders[name]), out=str(out), workers=1)
        return {path.name for path in read_kept_paths(out / "clean")}

    first = kept_after("x")
    assert first == {p.name for p in folders["x"].iterdir()}
    assert kept_after("y") == {p.name for p in folders["y"].iterdir()}
    assert kept_after("x") == first
