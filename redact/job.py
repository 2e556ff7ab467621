"""A job: settings, the redactor (models loaded once), the audit log, and fail-closed processing of files.

Each file is written to a temporary name beside its destination and renamed only when complete; if any step
fails (reading, a detector, the fill, writing), the temporary file is removed, no output exists for that file,
the error goes to the terminal as one line and to the audit, and the job moves on to the next file.

With a ``JobState`` (``redact run``) a job is incremental and resumable: leftover temporary files of a killed run
are removed first, files whose input and effective settings are unchanged since they were done are skipped (a
``skipped`` audit record each), and a file is recorded as done only after its output was renamed into place.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.directory import TEMP_MARK, file_kind, temp_path
from redact import __version__
from redact.audit import AuditLog, last_record, sha256_file
from redact.core.console import Console
from redact.core.errors import ExitCode, InputError, UsageError, one_line
from redact.core.settings import Settings
from redact.state import DoneFile, JobState


@dataclass
class FileResult:
    src: Path
    dst: Path
    status: str  # ok | failed | skipped
    error: str = ""
    regions: int = 0
    seconds: float = 0.0


@dataclass
class Manifest:
    """What redacting one file produced, small enough to send from a worker to the job that records it."""

    src: Path
    dst: Path
    status: str  # ok | failed
    error: str = ""
    input_sha256: str | None = None
    output_sha256: str | None = None
    regions: list[dict] = field(default_factory=list)  # audit records of the regions (Region.to_record)
    tracks: list[dict] = field(default_factory=list)
    pages: int = 0
    style: str = ""
    fill_model: str = ""
    models: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    """What a job did: one result per file, and where its audit is."""

    files: list[FileResult]
    audit: Path | None = None

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.files)

    @property
    def ok(self) -> int:
        return self.count("ok")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FILES_FAILED if self.failed else ExitCode.OK


def _pipeline(kind: str):
    if kind == "image":
        from pipelines.images import redact_image_file

        return redact_image_file
    if kind == "pdf":
        from pipelines.pdf import redact_pdf_file

        return redact_pdf_file
    if kind == "video":
        from pipelines.video import redact_video_file

        return redact_video_file
    raise InputError("unsupported file type")


class Worker:
    """Redacts files into place (``redact_one``) with models loaded once: what a pipeline sees as ``job``."""

    def __init__(self, settings: Settings, console: Console | None = None):
        self.settings = settings
        self.console = console or Console()
        self._redactor = None

    @property
    def redactor(self):
        if self._redactor is None:
            from pipelines.redactor import Redactor

            self._redactor = Redactor(self.settings, self.console)
        return self._redactor


def redact_one(job, src: Path, dst: Path, pipeline=None, input_sha256: str | None = None) -> Manifest:
    """Redact ``src`` into ``dst`` through ``pipeline`` (default: the one for its type), failing closed.

    The output is written to a temporary name beside ``dst`` and renamed only when complete; on any error the
    temporary file is removed and the manifest says why. Running it again for the same file (a retry) gives the
    same output."""
    t0 = time.perf_counter()
    tmp = temp_path(dst)
    try:
        if pipeline is None:
            kind = file_kind(src)
            if kind is None:
                raise InputError(f"unsupported file type {src.suffix or '(no extension)'}")
            pipeline = _pipeline(kind)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)  # a leftover (or a planted link) must not be written through
        outcome = pipeline(job, src, tmp)
        with open(tmp, "rb+") as f:  # the bytes are on disk before the name says the file is complete
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except KeyboardInterrupt:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # fail closed: no output; the job records the one-line error and goes on
        tmp.unlink(missing_ok=True)
        return Manifest(src, dst, "failed", one_line(exc), input_sha256=input_sha256 or _safe_sha(src),
                        seconds=time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    fill = job.redactor.fill
    models = job.redactor.model_ids()
    return Manifest(src, dst, "ok", input_sha256=input_sha256 or _safe_sha(src), output_sha256=sha256_file(dst),
                    regions=[r.to_record() for r in outcome.regions], tracks=list(outcome.tracks),
                    pages=outcome.pages, style=fill.name, fill_model=fill.model_id, models=models,
                    fingerprint=job.settings.fingerprint(models), seconds=seconds)


class Job(Worker):
    """A job: a ``Worker`` that also writes the audit and the job state (incremental, resumable runs)."""

    def __init__(self, settings: Settings, audit_path: Path, console: Console | None = None, command: str = "",
                 state: JobState | None = None):
        super().__init__(settings, console)
        self.audit = AuditLog(audit_path)
        self.results: list[FileResult] = []
        self.command = command
        self.state = state
        self._started = False
        self._job_notes: dict = {}
        self._fingerprints: dict[tuple[str, ...], str | None] = {}

    def start(self) -> None:
        """Load the models and write the job record (settings, versions, model ids).

        Reference logos are part of the job's configuration, like its options: they are read here, so one that
        cannot be read stops the job before its first file (exit 2, one line naming the logo) instead of failing
        every file, and the detector's warnings (a mark it cannot find) come before any work."""
        if self._started:
            return
        if any("logos" in self.settings.detectors_for(document) for document in (False, True)):
            try:
                self.redactor.detector("logos")
            except InputError as exc:
                raise UsageError(str(exc)) from exc
        self._started = True
        models = self.redactor.model_ids()
        self.audit.write("job", command=self.command, version=__version__, settings=audit_settings(self.settings),
                         models=models, fingerprint=self.settings.fingerprint(models), device=self.redactor.device,
                         host=platform.node(), python=platform.python_version(), cwd=os.getcwd(),
                         **self._job_notes)

    def fingerprint(self, model_names) -> str | None:
        """The effective settings fingerprint over the named models ("fill", "faces", ...), as a file records it.

        Naming a model loads it (once per job); None when one of them can no longer be loaded."""
        self.start()
        names = tuple(model_names)
        if names not in self._fingerprints:
            try:
                for name in names:
                    if name != "fill":
                        self.redactor.detector(name)
                ids = self.redactor.model_ids()
                self._fingerprints[names] = self.settings.fingerprint({n: ids[n] for n in names})
            except Exception:  # a model that cannot load now: the file cannot count as unchanged
                self._fingerprints[names] = None
        return self._fingerprints[names]

    def unchanged(self, dst: Path, input_sha256: str | None) -> DoneFile | None:
        """The state's record of ``dst`` if its input and effective settings are the same as when it was done."""
        if self.state is None or input_sha256 is None:
            return None
        done = self.state.unchanged(dst, input_sha256)
        if done is None or self.fingerprint(done.models) != done.fingerprint:
            return None
        return done

    def skip(self, src: Path, dst: Path, done: DoneFile) -> FileResult:
        """Record that ``dst`` is left as it is (its input and settings did not change)."""
        result = FileResult(src, dst, "skipped")
        self.audit.write("file", input=str(src), output=str(dst), status="skipped", error=None,
                         input_sha256=done.input_sha256, output_sha256=done.output_sha256,
                         fingerprint=done.fingerprint, reason=f"unchanged since {done.done_at}")
        self.results.append(result)
        return result

    def process(self, src: Path, dst: Path, pipeline=None, input_sha256: str | None = None) -> FileResult:
        """Redact one file into ``dst``, failing closed. ``pipeline`` defaults to the one for the file's type."""
        self.start()
        return self.record(redact_one(self, src, dst, pipeline, input_sha256))

    def record(self, m: Manifest) -> FileResult:
        """Write one file's manifest to the audit (and, when it is done, to the job state)."""
        if m.status == "failed":
            self.console.error(printable(m.src), m.error)
            result = FileResult(m.src, m.dst, "failed", m.error, seconds=m.seconds)
            self.audit.write("file", input=str(m.src), output=None, status="failed", error=m.error,
                             input_sha256=m.input_sha256, seconds=round(m.seconds, 3))
            self.audit.sync()
            self.results.append(result)
            return result
        for r in m.regions:
            self.audit.write("region", file=str(m.src), style=m.style, model=m.fill_model, **r)
        for t in m.tracks:
            self.audit.write("track", file=str(m.src), style=m.style, model=m.fill_model, **t)
        n = len(m.regions) + len(m.tracks)
        result = FileResult(m.src, m.dst, "ok", regions=n, seconds=m.seconds)
        record = self.audit.write("file", input=str(m.src), output=str(m.dst), status="ok", error=None,
                                  input_sha256=m.input_sha256, output_sha256=m.output_sha256, regions=n,
                                  models=m.models, fingerprint=m.fingerprint, pages=m.pages or None,
                                  seconds=round(m.seconds, 3))
        self.audit.sync()
        # Done only now: the output is in place and the audit says so (a crash before this line redoes the file,
        # or recovers this record from the audit's last line, see recover_last_done).
        if self.state is not None and m.input_sha256 is not None:
            self.state.record_done(m.src, m.dst, m.input_sha256, m.fingerprint, m.models, m.output_sha256,
                                   record["time"])
        self.results.append(result)
        return result

    def pending(self, src: Path, dst: Path, force: bool = False) -> tuple[bool, str | None]:
        """(whether ``dst`` is to be redacted, the input's sha256 when there is a state); a file unchanged since
        it was done is recorded as skipped instead (``force`` redoes it)."""
        sha = _safe_sha(src) if self.state is not None else None
        done = None if force else self.unchanged(dst, sha)
        if done is not None:
            self.skip(src, dst, done)
            return False, sha
        return True, sha

    def run(self, pairs: list[tuple[Path, Path]], force: bool = False) -> Report:
        """Process every (input, output) pair; with a state, resume: skip unchanged files unless ``force``."""
        if self.state is not None:
            self.recover()
        with self.console.progress(total=len(pairs), desc="files", unit="file", leave=True) as bar:
            for src, dst in pairs:
                bar.set_postfix_str(src.name[-40:])
                redo, sha = self.pending(src, dst, force)
                if redo:
                    self.process(src, dst, input_sha256=sha)
                bar.update(1)
        return self.finish()

    def recover(self) -> None:
        """After a crash: remove leftover temporary files and record the last file the audit shows as done."""
        removed = remove_leftover_temps(self.state.root)
        if removed:
            self._job_notes["leftover_temp_files_removed"] = removed
            self.console.info(f"removed {removed} unfinished temporary file(s) left by an interrupted run")
        recover_last_done(self.audit.path, self.state)

    def finish(self) -> Report:
        report = Report(list(self.results), self.audit.path)
        ok, failed, skipped = report.ok, report.failed, report.skipped
        if self._started:
            self.audit.write("end", files_ok=ok, files_failed=failed, files_skipped=skipped,
                             regions=sum(r.regions for r in self.results))
        self.audit.close()
        if self.state is not None:
            self.state.close()
        summary = f"{ok} file(s) redacted, {failed} failed, {skipped} unchanged; audit: {self.audit.path}"
        if skipped and not ok and not failed:
            summary = (f"nothing to do: all {skipped} file(s) are unchanged since they were redacted with these "
                       f"settings (--force redoes them)")
        if failed:
            self.console.warn(summary)
        else:
            self.console.info(summary)
        return report


def remove_leftover_temps(out_dir: Path) -> int:
    """Delete the temporary outputs (``TEMP_MARK`` in the name) that a killed run left under ``out_dir``."""
    removed = 0
    for path in Path(out_dir).rglob(f"*{TEMP_MARK}*"):
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def recover_last_done(audit_path: Path, state: JobState) -> bool:
    """Record in the state the file of the audit's last record, when a crash came between the two writes.

    The audit's ``file`` record is written (and synced) just before the state's; only the very last record can
    be one the state missed. It counts only when its output is still there with the recorded hash."""
    rec = last_record(audit_path)
    if not rec or rec.get("type") != "file" or rec.get("status") != "ok" or not rec.get("fingerprint"):
        return False
    dst = Path(rec["output"])
    try:
        state.key(dst)
        if sha256_file(dst) != rec.get("output_sha256"):
            return False
    except (OSError, ValueError):
        return False
    done = state.get(dst)
    if done is not None and done.input_sha256 == rec["input_sha256"] and done.fingerprint == rec["fingerprint"]:
        return False
    state.record_done(Path(rec["input"]), dst, rec["input_sha256"], rec["fingerprint"], list(rec.get("models") or {}),
                      rec["output_sha256"], rec.get("time"))
    return True


def audit_settings(settings: Settings) -> dict:
    """The settings for the job record, with --terms and --allow only counted: the terms are the very names that
    are removed, and the audit never holds what was removed."""
    rec = settings.to_record()
    for key in ("terms", "allow"):
        rec[key] = f"{len(rec[key])} string(s), not recorded" if rec[key] else []
    return rec


def printable(path) -> str:
    """A path on one line: control characters of a file name (a newline) shown escaped, as Python writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))


def _safe_sha(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None
