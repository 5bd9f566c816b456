"""The studio's job queue: accepted uploads wait here and one worker thread colorizes them in turn.

One worker, because the model already uses every core (torch intra-op threads); two jobs at once
would only halve each other's speed. The page polls a job's record for its progress. Each job's
files live in WORK/jobs/<id>/; the oldest finished jobs are deleted beyond `keep_jobs`. A failing
job records its error and the worker carries on: one bad picture never stops the studio.
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inference.colorizer import Colorizer
from safe_files.atomic_output import write_bytes_atomic
from studio.colorize_job import colorize_upload

ColorizerFactory = Callable[[], Colorizer]  # the job's model and knobs, loaded when its turn comes


@dataclass
class Job:
    name: str  # the uploaded file's name
    result_name: str  # the download's file name
    model: str  # bundle version
    working_size: int
    saturation: float
    width: int
    height: int
    state: str = "queued"  # queued, running, done, failed
    progress: float = 0.0
    stage: str = "waiting in the queue"
    error: str | None = None
    created: float = field(default_factory=time.time)
    seconds: float | None = None  # colorizing time, once done
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def public(self, position: int | None) -> dict:
        record = asdict(self)
        record["queue_position"] = position
        return record


class JobQueue:
    def __init__(self, work_dir: Path, keep_jobs: int = 100) -> None:
        self.jobs_dir = Path(work_dir) / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.keep_jobs = keep_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._factories: dict[str, ColorizerFactory] = {}
        self._lock = threading.Lock()
        self._pending: queue.Queue[str | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="studio-worker", daemon=True)
        self._worker.start()

    def folder(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def submit(self, job: Job, data: bytes, make_colorizer: ColorizerFactory) -> Job:
        """Store the input and queue the job."""
        write_bytes_atomic(self.folder(job.id) / "input", data)
        with self._lock:
            self._jobs[job.id] = job
            self._factories[job.id] = make_colorizer
            self._forget_old()
        self._pending.put(job.id)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def public(self, job_id: str) -> dict | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            waiting = [j.id for j in self._jobs.values() if j.state == "queued"]
            return job.public(waiting.index(job_id) + 1 if job_id in waiting else None)

    def stop(self) -> None:
        self._pending.put(None)

    def _update(self, job: Job, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
        for job in finished[: max(0, len(self._jobs) - self.keep_jobs)]:
            del self._jobs[job.id]
            shutil.rmtree(self.folder(job.id), ignore_errors=True)

    def _work(self) -> None:
        while (job_id := self._pending.get()) is not None:
            job = self.get(job_id)
            make_colorizer = self._factories.pop(job_id, None)
            if job is None or make_colorizer is None:
                continue
            self._run(job, make_colorizer)

    def _run(self, job: Job, make_colorizer: ColorizerFactory) -> None:
        folder = self.folder(job.id)
        started = time.perf_counter()
        self._update(job, state="running", progress=0.01, stage="loading the model")
        try:
            colorizer = make_colorizer()
            data = (folder / "input").read_bytes()
            output = colorize_upload(
                colorizer, data, folder, job.result_name, lambda share, stage: self._update(job, progress=share, stage=stage)
            )
            self._update(job, state="done", progress=1.0, stage="done", model=output.model_version,
                         seconds=round(time.perf_counter() - started, 3))
        except Exception as error:  # reported on the page; the worker goes on with the next job
            self._update(job, state="failed", stage="failed", error=f"colorizing failed: {type(error).__name__}: {error}")
        finally:
            (folder / "input").unlink(missing_ok=True)
