"""The training loop: one function, the same code on a CPU, one GPU or many (torchrun DDP).

    train(data="DATA", out="runs/r1", preset="cpu-small", kind="regression", steps=500)

RUN/ (= `out`) receives:
  run_config.json          the resolved config (a resumed run reads it back: same schedule)
  checkpoints/step-N.pt    every `checkpoint_every` steps, atomic; model, EMA, discriminator,
                           optimisers, schedulers, RNG states of every rank, data position, step
  metrics.jsonl            {"type": "train", step, loss, lr, ...} and {"type": "eval", step, ...}
  gray_baseline.json       the ab = 0 baseline's metrics on the same val images (computed once)
  samples/step-N.png       input L | prediction | truth, one grid per evaluation
  bundle/                  the exported model (training.bundle), written at the end

Resume (`resume=True`): loads the newest checkpoint and continues at its step with the same LR
schedule; history lines written after that checkpoint by a killed process are dropped. With no
checkpoint yet it simply starts. Without `resume`, a RUN that already holds checkpoints is refused.
Train longer: a resume with `steps` above the checkpoint's step trains on to it; the run config's
`steps` becomes the new total and its `extensions` record the change, whose LR is a warm restart
(optimisation.scheduled_lr_factor). A resume whose `steps` (or, without it, the run's) is already
reached trains nothing: it returns the bundle, exporting it first if it is missing or older.
A resume on another dataset than the run started on (another size, codec or set of images: the
card's `dataset_identity`) is refused too: it would continue, or just re-export, the old weights under
the new card. A start at step 0 sets aside what a checkpoint-less earlier run left (run_leftovers).
DATA may be an object-store URL (shards streamed, training/shard_loader.py), and so may RUN: it
trains in a local working copy uploaded at every checkpoint and at the end; under torchrun each rank
downloads its own copy and only rank 0 uploads (training/run_folder_mirror.py).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from preprocessing.shards.dataset_card import CARD_NAME, dataset_identity, read_card
from safe_files import data_root_storage as storage
from safe_files.atomic_output import read_json, write_json_atomic
from safe_files.identity import same_identity
from training.bundle import (
    export_bundle,
    load_bundle,
    missing_files,
    plain_module,
    starting_weights,
)
from training.distributed_setup import ProcessPlace, barrier, join_process_group, launched_rank
from training.evaluation import evaluate, gray_predictor
from training.losses import (
    ab_regression_loss,
    class_rebalancing,
    discriminator_loss,
    generator_adversarial_loss,
    rebalanced_cross_entropy,
)
from training.model_factory import build_discriminator, build_model, generator_config
from training.optimisation import (
    EmaWeights,
    apply_encoder_schedule,
    first_planned_steps,
    parameter_groups,
    scheduled_lr_factor,
    warm_restart,
)
from training.presets import run_config
from training.pretrained_encoder import encoder_provenance
from training.run_files import (
    BUNDLE_SUBDIR,
    append_record,
    checkpoint_step,
    latest_checkpoint,
    load_checkpoint,
    read_history,
    restore_rng_state,
    rng_state,
    save_checkpoint,
    set_aside_leftovers,
    truncate_history,
)
from training.run_folder_mirror import RunFolderMirror
from training.shard_loader import endless_batches, train_loader

RUN_CONFIG_NAME = "run_config.json"
GRAY_BASELINE_NAME = "gray_baseline.json"

Callback = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    run_dir: Path  # for a run stored on an object store, its local working copy (training/run_folder_mirror.py)
    bundle_dir: Path | None
    step: int
    metrics: dict[str, Any]
    resumed_from: int | None
    model: torch.nn.Module | None = None  # the trained generator (EMA weights when enabled), on its device
    nothing_to_train: bool = False  # a resume whose steps were already reached: no step was taken
    stored_at: str | None = None  # the run folder's object-store URL, when `out` was one


def find_shard_dir(data: str | Path) -> str | Path:
    """DATA (with shards/dataset.json) or the shard folder itself; a path or an object-store URL."""
    data = storage.location(data)
    for candidate in (storage.join(data, "shards"), data):
        if storage.is_file(storage.join(candidate, CARD_NAME)):
            return candidate
    raise FileNotFoundError(f"no dataset card: neither {storage.join(data, 'shards', CARD_NAME)} nor {storage.join(data, CARD_NAME)} exists; "
                            "build the shards first (build-dataset) or give the data root that holds shards/")


def _resolve_config(run_dir: Path, preset: str | None, kind: str | None, steps: int | None,
                    overrides: dict | None, resume: bool, dataset: str) -> dict[str, Any]:
    stored_path = run_dir / RUN_CONFIG_NAME
    latest = latest_checkpoint(run_dir)
    if latest is not None and not resume:
        raise FileExistsError(f"{run_dir} already holds a training run; pass resume (--resume) or choose a new --out")
    if latest is not None:
        # The stored config wins (overrides given to a resume are not applied): same run, same schedule.
        config = read_json(stored_path) if stored_path.is_file() else load_checkpoint(latest)["config"]
        for name, given, stored in (("preset", preset, config["preset"]), ("model kind", kind, config["kind"]),
                                    ("encoder", (overrides or {}).get("model", {}).get("encoder"),
                                     config["model"].get("encoder", "scratch"))):
            if given is not None and given != stored:
                raise ValueError(f"{run_dir} was started with {name} {stored!r}; a resume cannot change it to {given!r}")
        started_on = config.get("dataset")  # absent in runs started before it was recorded
        if started_on is not None and not same_identity(started_on, dataset):
            raise ValueError(
                f"{run_dir} was trained on another dataset (identity {started_on}, now {dataset}: other images, "
                "size or codec); a resume would continue the old weights under the new dataset's card. "
                "Train into a new run folder (--out, or the flow's out parameter), or move this run away"
            )
        done = checkpoint_step(latest)
        if steps is not None and steps != config["train"]["steps"] and steps > done:
            config["extensions"] = _extended(config, done, steps)
            config["train"]["steps"] = steps
        return {**config, "dataset": dataset}
    merged = {section: dict(values) for section, values in (overrides or {}).items()}
    if steps is not None:
        merged.setdefault("train", {})["steps"] = steps
    return {**run_config(preset or "cpu-small", kind or "regression", merged), "dataset": dataset}


def _extended(config: dict[str, Any], done: int, steps: int) -> list[dict[str, Any]]:
    """The run's extensions, plus one from step `done` to `steps`. Extensions that start at or after
    `done` never governed a step that is kept (their run was cut short before them): replaced."""
    recorded = config.get("extensions", [])
    kept = [extension for extension in recorded if extension["from_step"] < done]
    previous = kept[-1]["to_step"] if kept else first_planned_steps(config["train"]["steps"], recorded)
    return kept + [warm_restart(done, steps, previous, int(config["train"]["warmup_steps"]))]


def _current_bundle(bundle_dir: Path, step: int) -> bool:
    """A whole bundle exported at `step` (not one of an earlier, shorter plan)."""
    return not missing_files(bundle_dir) and read_json(bundle_dir / "metrics.json").get("trained_steps") == step


def _autocast(place: ProcessPlace, precision: str):
    if precision == "bf16" and place.device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def _gathered_rng(place: ProcessPlace) -> list[dict[str, Any]]:
    local = rng_state()
    if not place.distributed:
        return [local]
    states: list[Any] = [None] * place.world_size
    dist.all_gather_object(states, local)
    return states


def train(
    data: str | Path,
    out: str | Path,
    preset: str | None = None,
    kind: str | None = None,
    steps: int | None = None,
    resume: bool = False,
    overrides: dict[str, dict[str, Any]] | None = None,
    progress: Callback | None = None,
    on_evaluation: Callback | None = None,
) -> TrainResult:
    # Every rank downloads before joining the process group (a rendezvous): all start from the same state.
    mirror = RunFolderMirror(str(out), rank=launched_rank()) if storage.is_remote(out) else None
    run_dir = mirror.download() if mirror else storage.local_path(out)
    stored_at = mirror.remote if mirror else None
    shard_dir = find_shard_dir(data)
    card = read_card(shard_dir)
    config = _resolve_config(run_dir, preset, kind, steps, overrides, resume, dataset_identity(card))
    settings = config["train"]
    kind = config["kind"]
    total_steps = int(settings["steps"])
    extensions = config.get("extensions", [])
    checkpoint_path = latest_checkpoint(run_dir) if resume else None  # (without resume a checkpoint was refused)
    done = checkpoint_step(checkpoint_path) if checkpoint_path is not None else 0
    nothing_to_train = checkpoint_path is not None and done >= (steps if steps is not None else total_steps)
    if nothing_to_train:
        total_steps = done  # the loop takes no step; the stored plan is left as it is
        if _current_bundle(run_dir / BUNDLE_SUBDIR, done):
            bundle = load_bundle(run_dir / BUNDLE_SUBDIR)
            return TrainResult(run_dir=run_dir, bundle_dir=run_dir / BUNDLE_SUBDIR, step=done, metrics=bundle.metrics,
                               resumed_from=done, model=bundle.model.eval(), nothing_to_train=True, stored_at=stored_at)
    place = join_process_group(settings["device"])
    if place.device.type == "cpu" and settings.get("cpu_threads"):
        # On a shared or small CPU, fewer intra-op threads avoid OpenMP barrier stalls (5x here).
        torch.set_num_threads(int(settings["cpu_threads"]))
    if place.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_dir / RUN_CONFIG_NAME, config)  # a resumed run wrote back what it read
    barrier(place)

    torch.manual_seed(settings["seed"] * 1000 + place.rank)
    model_config = generator_config(kind, card, **config["model"])
    if model_config["encoder"] != "scratch":
        model_config["encoder_weights"] = encoder_provenance(model_config["encoder"])
    initial_state = None
    if settings["init_from"]:  # checked on a resume too: the bundle records what its run started from
        initial_state, model_config["started_from"] = starting_weights(settings["init_from"], model_config)
    model = build_model(model_config)
    # Before the EMA copies the weights; a resume loads its checkpoint instead.
    if initial_state is not None and checkpoint_path is None:
        model.load_state_dict(initial_state)
    elif model_config["encoder"] != "scratch" and checkpoint_path is None:
        model.encoder.load_imagenet()
    discriminator = build_discriminator(config["discriminator"]) if kind == "gan" else None
    memory_format = torch.channels_last if settings["channels_last"] and place.device.type == "cuda" else torch.contiguous_format
    model.to(place.device, memory_format=memory_format)
    if discriminator is not None:
        discriminator.to(place.device, memory_format=memory_format)
    ema = EmaWeights(model, settings["ema_decay"]) if settings["ema_decay"] > 0 else None

    betas = (0.5, 0.999) if kind == "gan" else (0.9, 0.99)
    optimizer = torch.optim.AdamW(parameter_groups(model, settings["lr"], settings["encoder_lr_scale"]),
                                  lr=settings["lr"], betas=betas, weight_decay=settings["weight_decay"])

    def lr_factor(step: int) -> float:
        return scheduled_lr_factor(step, int(settings["steps"]), settings["warmup_steps"], extensions)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    d_optimizer = None
    if discriminator is not None:
        d_optimizer = torch.optim.AdamW(discriminator.parameters(), lr=settings["lr"], betas=betas, weight_decay=0.0)
    class_weights = torch.tensor(class_rebalancing(card, settings["rebalance_lambda"]), dtype=torch.float32, device=place.device)
    centres = torch.tensor(card["ab_bins"]["centres"], dtype=torch.float32, device=place.device)

    start_step, resumed_from, samples_seen = 0, None, 0
    if checkpoint_path is not None:
        state = load_checkpoint(checkpoint_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None and state.get("ema"):
            ema.load_state_dict(state["ema"])
        if discriminator is not None:
            discriminator.load_state_dict(state["discriminator"])
            d_optimizer.load_state_dict(state["d_optimizer"])
        if len(state["rng"]) == place.world_size:
            restore_rng_state(state["rng"][place.rank])
        start_step = resumed_from = int(state["step"])
        # The checkpointed rates are the old plan's; an extension changes them from this step on.
        for group, base_lr in zip(optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = base_lr * lr_factor(start_step)
        samples_seen = int(state["data"]["samples_seen"])
        if place.is_main:
            truncate_history(run_dir, start_step)
    elif place.is_main:
        set_aside_leftovers(run_dir)
    barrier(place)

    device_ids = [place.device.index] if place.device.type == "cuda" else None

    def for_training(module: torch.nn.Module) -> torch.nn.Module:
        """DDP (it fixes the parameter set it reduces when it wraps) and torch.compile, as configured."""
        if place.distributed:
            module = DistributedDataParallel(module, device_ids=device_ids)
        return torch.compile(module) if settings["compile"] else module

    unfreeze_at = apply_encoder_schedule(model, start_step, settings)  # before wrapping: DDP takes what trains
    trained = for_training(model)
    d_trained = discriminator
    if place.distributed and discriminator is not None:
        d_trained = DistributedDataParallel(discriminator, device_ids=device_ids)

    # A fresh stream per (seed, start step): see shard_loader on why resume reseeds, not replays.
    stream_seed = settings["seed"] * 1_000_003 + start_step
    loader = train_loader(
        shard_dir, card, settings["crop"], settings["batch_size"], stream_seed,
        workers=settings["workers"], shuffle_buffer=settings["shuffle_buffer"], epoch_batches=settings["epoch_batches"],
        short_side_range=settings["short_side_range"], source_weights=settings["source_weights"],
    )
    batches = endless_batches(loader)
    gan_start = int(first_planned_steps(settings["steps"], extensions) * settings["gan_warmup_fraction"])
    eval_dir = find_shard_dir(settings["eval_data"]) if settings.get("eval_data") else shard_dir
    eval_card = read_card(eval_dir)
    can_evaluate = any(s["split"] == settings["eval_split"] for s in eval_card["shards"])
    last_metrics: dict[str, Any] = {}

    def evaluate_now(step: int) -> dict[str, Any]:
        gray_path = run_dir / GRAY_BASELINE_NAME
        if gray_path.is_file():
            gray = read_json(gray_path)
        else:
            gray = evaluate(gray_predictor, eval_dir, eval_card, settings["eval_split"], place.device, settings["eval_images"])
            write_json_atomic(gray_path, gray)
        scoring = ema.model if ema is not None else model
        scoring.eval()
        grid = run_dir / "samples" / f"step-{step:08d}.png"

        def predict(lightness: torch.Tensor) -> torch.Tensor:
            with _autocast(place, settings["precision"]):  # the network only; colour maths stays fp32
                return scoring.predict_ab(lightness).float()

        metrics = evaluate(predict, eval_dir, eval_card, settings["eval_split"], place.device,
                           settings["eval_images"], grid_path=grid, grid_rows=settings["grid_rows"])
        model.train()
        record = {"type": "eval", "step": step, **metrics, "gray": gray, "grid": str(grid)}
        append_record(run_dir, record)
        if on_evaluation:
            on_evaluation(record)
        return record

    def checkpoint_now(step: int) -> None:
        rng_states = _gathered_rng(place)
        if not place.is_main:
            return
        save_checkpoint(run_dir, step, {
            "step": step,
            "model": model.state_dict(),
            "ema": ema.state_dict() if ema is not None else None,
            "discriminator": discriminator.state_dict() if discriminator is not None else None,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "d_optimizer": d_optimizer.state_dict() if d_optimizer is not None else None,
            "rng": rng_states,
            "data": {"stream_seed": stream_seed, "samples_seen": samples_seen, "world_size": place.world_size},
            "config": config,
        }, keep=settings["keep_checkpoints"])
        if mirror:
            mirror.upload()

    model.train()
    window_started, window_samples = time.perf_counter(), 0
    step = start_step
    while step < total_steps:
        if step == unfreeze_at:
            unfreeze_at = apply_encoder_schedule(model, step, settings)
            trained = for_training(model)  # wrapped again, now with the encoder's parameters in it
        lightness, true_ab = next(batches)
        lightness = lightness.to(place.device, non_blocking=True).contiguous(memory_format=memory_format)
        true_ab = true_ab.to(place.device, non_blocking=True)
        parts: dict[str, float] = {}
        with _autocast(place, settings["precision"]):
            output = trained(lightness)
        if kind == "classification":
            loss = rebalanced_cross_entropy(output, true_ab, centres, class_weights)
            parts["cross_entropy"] = loss.item()
        else:
            loss = ab_regression_loss(output, true_ab, settings["regression_loss"])
            parts["l1"] = loss.item()
        if discriminator is not None and step >= gan_start:
            # Discriminator step: real and fake in one forward (one DDP reduction).
            for group in d_optimizer.param_groups:  # D follows G's LR curve (a pure function of the step)
                group["lr"] = settings["lr"] * lr_factor(step)
            d_optimizer.zero_grad(set_to_none=True)
            with _autocast(place, settings["precision"]):
                scores = d_trained(torch.cat([lightness, lightness]), torch.cat([true_ab, output.detach()]))
            real = [s[: lightness.shape[0]] for s in scores]
            fake = [s[lightness.shape[0]:] for s in scores]
            d_loss = discriminator_loss(real, fake)
            d_loss.backward()
            torch.nn.utils.clip_grad_norm_(discriminator.parameters(), settings["grad_clip"])
            d_optimizer.step()
            # Generator's adversarial term through the bare discriminator, its weights frozen.
            discriminator.requires_grad_(False)
            with _autocast(place, settings["precision"]):
                adversarial = generator_adversarial_loss(discriminator(lightness, output))
            discriminator.requires_grad_(True)
            loss = settings["gan_l1_lambda"] * loss + adversarial
            parts.update(d_loss=d_loss.item(), adversarial=adversarial.item())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings["grad_clip"])
        optimizer.step()
        lr = optimizer.param_groups[0]["lr"]  # the rate this step used
        scheduler.step()
        if ema is not None:
            ema.update(model, step)
        step += 1
        samples_seen += lightness.shape[0] * place.world_size
        window_samples += lightness.shape[0] * place.world_size

        if place.is_main and (step % settings["log_every"] == 0 or step == total_steps):
            elapsed = time.perf_counter() - window_started
            record = {"type": "train", "step": step, "steps": total_steps, "loss": loss.item(), **parts, "lr": lr,
                      "samples_per_s": window_samples / elapsed if elapsed > 0 else None, "time": time.time()}
            append_record(run_dir, record)
            if progress:
                progress(record)
            window_started, window_samples = time.perf_counter(), 0
        if step % settings["checkpoint_every"] == 0 or step == total_steps:
            checkpoint_now(step)
        if can_evaluate and (step % settings["eval_every"] == 0 or step == total_steps):
            if place.is_main:
                last_metrics = evaluate_now(step)
            barrier(place)
            window_started, window_samples = time.perf_counter(), 0

    batches.close()  # stop the loader's workers now, while they are alive, not at garbage collection
    del loader
    bundle_dir = None
    if place.is_main:
        if not last_metrics and can_evaluate:  # a resume that took no step: its evaluation at this step, if any
            measured = [r for r in read_history(run_dir) if r.get("type") == "eval" and r.get("step") == step]
            last_metrics = measured[-1] if measured else evaluate_now(step)
        exported = ema.model if ema is not None else plain_module(model)
        exported.eval()
        metrics = {key: value for key, value in last_metrics.items() if key not in ("type", "grid")}
        metrics.update(trained_steps=step, preset=config["preset"], extensions=extensions)
        bundle_dir = export_bundle(exported, model_config, card, metrics, run_dir / BUNDLE_SUBDIR)
        if mirror:
            mirror.upload()
    barrier(place)
    final = ema.model if ema is not None else plain_module(model)
    return TrainResult(run_dir=run_dir, bundle_dir=bundle_dir, step=step, metrics=last_metrics,
                       resumed_from=resumed_from, model=final.eval(), nothing_to_train=nothing_to_train,
                       stored_at=stored_at)
