"""One job across a Ray cluster: ``redact run IN... -o OUT --cluster auto|local|ADDRESS``.

The driver (this process) does what a local ``redact run`` does around the files: it plans them, holds the
output folder's lock, applies the incremental state (unchanged files are skipped, a killed run is finished) and is
the only writer of the job state and the hash-chained audit. The files go to a pool of Ray actors, each a
``redact.job.Worker`` that loads the detectors and the fill once and runs the same per-file pipeline
(``redact_one``: written under a temporary name beside the destination, then renamed). A worker returns a small
``Manifest`` per file (status, regions, hashes, timings, the error line); the driver records each file once.

Ray Core actors, not Ray Data: a job is a list of files, each one unit of work (a video too: tracking needs its
frames in order), so a pool of stateful actors fed one file at a time is the whole pattern; Ray Data's blocks,
batches and its pyarrow/pandas dependencies would add nothing. Faults: when a worker dies in the middle of a file
(its process killed, its node removed) the file goes back on the queue, to another worker, and a replacement
worker is started; a file that kills its worker ``MAX_ATTEMPTS`` times fails. Inputs and the output folder must be
on storage every node sees, at the same paths.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Iterable

from pipelines.directory import ALL_KINDS, check_paths, plan, unsupported, unsupported_message
from redact.api import default_audit
from redact.core.console import Console
from redact.core.settings import Settings
from redact.job import Job, Manifest, Report, Worker, redact_one
from redact.lock import OutputLock
from redact.state import JobState

LOCAL_OBJECT_STORE = 100 * 1024 ** 2  # manifests are small: a local instance needs little shared memory
MAX_ATTEMPTS = 3  # a file whose worker died this many times fails (a file that kills any worker)
START_SECONDS = 600  # how long the job waits for a worker to start when none is left


class FileWorker:
    """The Ray actor: one ``Worker`` (models loaded once, on its first file), redacting one file a call."""

    def __init__(self, settings: Settings):
        self.worker = Worker(settings, Console())

    def ready(self) -> int:
        return os.getpid()

    def redact(self, src: str, dst: str, input_sha256: str | None) -> Manifest:
        return redact_one(self.worker, Path(src), Path(dst), None, input_sha256)


def redact_on_cluster(inputs: Iterable, output, settings: Settings | None = None, *, address: str = "auto",
                      audit=None, force: bool = False, console: Console | None = None,
                      workers: int | None = None) -> Report:
    """``redact_paths(inputs, output, settings, incremental=True)`` with the files redacted by Ray actors.

    ``address``: ``auto`` joins the cluster this machine belongs to (``ray start``), ``local`` starts a Ray
    instance for this job, anything else is a cluster address (``HOST:6379``). ``workers``: how many actors
    (default: one per GPU of the cluster, else one per CPU)."""
    inputs, output = [Path(p) for p in inputs], Path(output)
    settings = settings or Settings()
    console = console or Console()
    audit_path = Path(audit) if audit else default_audit(output)
    kinds = set(ALL_KINDS)
    check_paths(inputs, output)
    with OutputLock(output):
        pairs = plan(inputs, output, kinds)
        skipped = unsupported(inputs, kinds)
        if skipped and (console.verbose or console.log_json):
            console.warn(unsupported_message(skipped, kinds))
        if not pairs:
            console.info("nothing to do: no images, PDFs or videos in " + ", ".join(map(str, inputs)))
            return Report([], None)
        job = Job(settings, audit_path, console, "run", state=JobState(output))
        job.recover()
        with console.progress(total=len(pairs), desc="files", unit="file", leave=True) as bar:
            todo = []
            for src, dst in pairs:
                redo, sha = job.pending(src, dst, force)
                if redo:
                    todo.append((src, dst, sha))
                else:
                    bar.update(1)
            if todo:
                job.start()  # the job record comes before any file's
                with _connected(address):
                    _Pool(job, workers, console, bar).run(todo)
        return job.finish()


class _connected:
    """Connects this process to Ray for the job (and disconnects after, if it connected)."""

    def __init__(self, address: str):
        self.address = address
        self.connected = False

    def __enter__(self):
        import ray

        if not ray.is_initialized():
            quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "include_dashboard": False}
            if self.address == "local":
                ray.init(object_store_memory=LOCAL_OBJECT_STORE, **quiet)
            else:
                ray.init(address=self.address, **quiet)
            self.connected = True
        return self

    def __exit__(self, *exc):
        if self.connected:
            import ray

            ray.shutdown()


class _Pool:
    """The actors and the files between them; the driver's loop."""

    def __init__(self, job: Job, workers: int | None, console: Console, bar):
        import ray

        self.ray, self.job, self.console, self.bar = ray, job, console, bar
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        # one GPU per actor where there are GPUs (and no CPU reserved, so read tasks and other actors still get
        # one: ray issue #44687); CPU actors otherwise
        self.options = {"num_gpus": 1, "num_cpus": 0} if gpus else {"num_cpus": 1}
        self.size = workers or max(1, gpus or int(resources.get("CPU", 1)))
        self.actor_class = ray.remote(FileWorker)
        self.starting: dict = {}  # ready() ref -> actor
        self.idle: list = []
        self.running: dict = {}  # redact() ref -> (actor, item)
        self.recorded: set[Path] = set()

    def _start_actor(self) -> None:
        actor = self.actor_class.options(max_restarts=0, max_task_retries=0, **self.options).remote(
            self.job.settings)
        self.starting[actor.ready.remote()] = actor

    def run(self, todo: list[tuple[Path, Path, str | None]]) -> None:
        queue = deque((src, dst, sha, 0) for src, dst, sha in todo)
        for _ in range(min(self.size, len(queue))):
            self._start_actor()
        waiting_since = time.monotonic()
        while queue or self.running:
            while queue and self.idle:
                actor, item = self.idle.pop(), queue.popleft()
                self.running[actor.redact.remote(str(item[0]), str(item[1]), item[2])] = (actor, item)
            if not self.running and time.monotonic() - waiting_since > START_SECONDS:
                for src, dst, sha, _ in queue:
                    self._record(Manifest(src, dst, "failed", "no cluster worker could be started",
                                          input_sha256=sha))
                break
            ready, _ = self.ray.wait(list(self.running) + list(self.starting), num_returns=1, timeout=10)
            if not ready:
                continue
            ref = ready[0]
            waiting_since = time.monotonic()
            if ref in self.starting:
                actor = self.starting.pop(ref)
                try:
                    self.ray.get(ref)
                    self.idle.append(actor)
                except self.ray.exceptions.RayError:  # it died starting: its node went away
                    self._start_actor()
                continue
            actor, (src, dst, sha, attempt) = self.running.pop(ref)
            try:
                manifest = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as exc:  # an error the pipeline did not catch: fail closed
                manifest = Manifest(src, dst, "failed", str(exc).strip().splitlines()[-1], input_sha256=sha)
            except self.ray.exceptions.RayError:  # the worker died in the middle of the file: redo it elsewhere
                self._start_actor()
                if attempt + 1 < MAX_ATTEMPTS:
                    queue.appendleft((src, dst, sha, attempt + 1))
                    continue
                manifest = Manifest(src, dst, "failed", f"a cluster worker died on this file {MAX_ATTEMPTS} times",
                                    input_sha256=sha)
            else:
                self.idle.append(actor)
            self._record(manifest)
        for actor in self.idle + list(self.starting.values()):
            self.ray.kill(actor)

    def _record(self, m: Manifest) -> None:
        if m.dst in self.recorded:  # a retry's second result: the file is recorded once
            return
        self.recorded.add(m.dst)
        self.job.record(m)
        if self.console.log_json:
            self.console.info(f"{m.src}: {m.status}", file=str(m.src), status=m.status, error=m.error or None,
                              regions=len(m.regions) + len(m.tracks), seconds=round(m.seconds, 3))
        self.bar.update(1)
