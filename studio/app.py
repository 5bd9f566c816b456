"""The studio's HTTP surface (FastAPI): the page, its static files, and a small JSON API.

    GET  /                         the page (studio/static/index.html)
    GET  /api/config               models on offer, knobs' ranges, limits, samples
    POST /api/jobs?name=&model=&working_size=&saturation=   body: the file's raw bytes -> 202 job
    POST /api/samples/{name}/jobs?model=&working_size=&saturation=                   -> 202 job
    GET  /api/jobs/{id}            state, progress, stage, error, queue position
    GET  /api/jobs/{id}/before|after    slider previews (JPEG, at most 1600 px)
    GET  /api/jobs/{id}/result     the full-resolution result, in the input's format, as a download
    GET  /samples/{name}           a bundled sample picture

Uploads are the request body itself (no multipart form), read in chunks and cut off at the size
limit, then checked by studio.upload_check before anything is queued. Refusals answer 4xx with
{"error": sentence, "reason": code}; the page shows the sentence.
"""

from __future__ import annotations

import math
import re
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from inference.colorizer import ColorizeSettings
from preprocessing.images.image_loading import to_rgb
from studio.colorize_job import AFTER_PREVIEW, BEFORE_PREVIEW, write_preview
from studio.job_queue import Job, JobQueue
from studio.model_catalog import BundleCache, BundleEntry, list_bundles
from studio.sample_images import write_samples
from studio.studio_config import (
    MAX_SATURATION,
    MAX_WORKING_SIZE,
    MIN_SATURATION,
    MIN_WORKING_SIZE,
    StudioConfig,
)
from studio.upload_check import (
    ACCEPTED_FORMATS,
    UploadRefused,
    check_upload,
    size_refusal,
)

STATIC_DIR = Path(__file__).parent / "static"
NO_MODEL_MESSAGE = (
    "No model bundle found. Train one with `tintype train` (it writes RUN/bundle), put it under the "
    "models folder, or restart with `tintype studio --model BUNDLE`."
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
# The result is encoded like the input (inference/output_encoding.py); its name says so.
_SUFFIXES = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "TIFF": (".tif", ".tiff"), "WEBP": (".webp",),
             "BMP": (".bmp",), "GIF": (".png",)}


def _refusal(error: UploadRefused) -> JSONResponse:
    return JSONResponse({"error": str(error), "reason": error.reason}, status_code=error.status)


def _bad_request(message: str, status: int = 400, reason: str = "bad-request") -> JSONResponse:
    return JSONResponse({"error": message, "reason": reason}, status_code=status)


def _safe_name(name: str) -> str:
    cleaned = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip(" .") or "picture"
    return cleaned[-120:]


def result_name(safe: str, source_format: str) -> str:
    suffixes = _SUFFIXES[source_format]
    path = Path(safe)
    return "colorized-" + (safe if path.suffix.lower() in suffixes else path.stem + suffixes[0])


def create_app(config: StudioConfig) -> FastAPI:
    app = FastAPI(title="tintype studio", docs_url=None, redoc_url=None, openapi_url=None)
    queue = JobQueue(config.work_dir)
    cache = BundleCache(config.device)
    samples = {path.name: path for path in write_samples(config.work_dir / "samples")}
    app.state.queue = queue

    def bundles() -> list[BundleEntry]:
        return list_bundles(config.model, config.default_model, config.models_dir)

    def knobs(model: str | None, working_size: str | None, saturation: str | None) -> tuple[BundleEntry, int, float] | JSONResponse:
        offered = bundles()
        if not offered:
            return _bad_request(NO_MODEL_MESSAGE, 409, "no-model")
        chosen = next((entry for entry in offered if entry.id == model), None) if model else offered[0]
        if chosen is None:
            return _bad_request("that model bundle is no longer available: reload the page", 404, "unknown-model")
        try:
            size = int(working_size) if working_size else chosen.working_size
            sat = float(saturation) if saturation else 1.0
        except ValueError:
            return _bad_request("working size must be a whole number and saturation a number")
        if not MIN_WORKING_SIZE <= size <= MAX_WORKING_SIZE:
            return _bad_request(f"working size must be between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE} pixels")
        if not (math.isfinite(sat) and MIN_SATURATION <= sat <= MAX_SATURATION):
            return _bad_request(f"saturation must be between {MIN_SATURATION:g} and {MAX_SATURATION:g}")
        return chosen, size, sat

    def accept(data: bytes, name: str, chosen: BundleEntry, size: int, sat: float) -> Job:
        """Check (raises UploadRefused), write the before preview, queue. Runs in a worker thread."""
        checked = check_upload(data, config.max_upload_bytes, config.max_pixels)
        safe = _safe_name(name)
        job = Job(name=safe, result_name=result_name(safe, checked.format), model=chosen.version,
                  working_size=size, saturation=sat, width=0, height=0)
        upright = to_rgb(checked.image)
        job.width, job.height = upright.size
        write_preview(upright, queue.folder(job.id) / BEFORE_PREVIEW)  # the slider's left side, shown at once
        settings = ColorizeSettings(working_size=size, saturation=sat, max_pixels=config.max_pixels)
        return queue.submit(job, data, partial(cache.colorizer, chosen.path, chosen.version, settings))

    async def queue_job(data: bytes, name: str, request: Request) -> JSONResponse:
        params = request.query_params
        chosen = await run_in_threadpool(knobs, params.get("model"), params.get("working_size"), params.get("saturation"))
        if isinstance(chosen, JSONResponse):
            return chosen
        try:
            job = await run_in_threadpool(accept, data, name, *chosen)
        except UploadRefused as error:
            return _refusal(error)
        return JSONResponse(queue.public(job.id), status_code=202)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True}

    @app.get("/api/config")
    def studio_config() -> dict:
        offered = bundles()
        return {
            "models": [{"id": e.id, "label": e.label, "version": e.version, "working_size": e.working_size} for e in offered],
            "no_model_message": None if offered else NO_MODEL_MESSAGE,
            "working_size": {"default": config.default_working_size, "min": MIN_WORKING_SIZE, "max": MAX_WORKING_SIZE},
            "saturation": {"default": 1.0, "min": MIN_SATURATION, "max": MAX_SATURATION},
            "max_upload_bytes": config.max_upload_bytes,
            "max_pixels": config.max_pixels,
            "accepted_formats": list(ACCEPTED_FORMATS),
            "samples": [{"name": name, "url": f"/samples/{name}"} for name in samples],
        }

    @app.post("/api/jobs")
    async def upload(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_upload_bytes:
            return _refusal(size_refusal(int(declared), config.max_upload_bytes))
        chunks, received = [], 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > config.max_upload_bytes:
                return _refusal(size_refusal(received, config.max_upload_bytes))
            chunks.append(chunk)
        return await queue_job(b"".join(chunks), request.query_params.get("name") or "upload", request)

    @app.post("/api/samples/{name}/jobs")
    async def colorize_sample(name: str, request: Request) -> JSONResponse:
        if name not in samples:
            return _bad_request(f"no sample named {name}", 404)
        return await queue_job(samples[name].read_bytes(), name, request)

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str) -> JSONResponse:
        record = queue.public(job_id)
        return JSONResponse(record) if record else _bad_request("unknown job (the studio keeps the latest 100)", 404)

    def job_file(job_id: str, filename: str, **headers) -> Response:
        job = queue.get(job_id)
        path = queue.folder(job_id) / filename if job else None
        if path is None or not path.is_file():
            return _bad_request("not ready", 404)
        return FileResponse(path, headers={"Cache-Control": "no-store", **headers})

    @app.get("/api/jobs/{job_id}/before")
    def before(job_id: str) -> Response:
        return job_file(job_id, BEFORE_PREVIEW)

    @app.get("/api/jobs/{job_id}/after")
    def after(job_id: str) -> Response:
        return job_file(job_id, AFTER_PREVIEW)

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str) -> Response:
        job = queue.get(job_id)
        if job is None or job.state != "done":
            return _bad_request("not ready", 404)
        response = job_file(job_id, job.result_name)
        if isinstance(response, FileResponse):
            response.headers["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
        return response

    @app.get("/samples/{name}")
    def sample(name: str) -> Response:
        if name not in samples:
            return _bad_request(f"no sample named {name}", 404)
        return FileResponse(samples[name])

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
