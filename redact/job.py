"""A job: settings, the redactor (models loaded once), the audit log, and fail-closed processing of files.

Each file is written to a temporary name beside its destination and renamed only when complete; if any step
fails (reading, a detector, the fill, writing), the temporary file is removed, no output exists for that file,
the error goes to the terminal as one line and to the audit, and the job moves on to the next file.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.directory import file_kind, temp_path
from redact import __version__
from redact.audit import AuditLog, sha256_file
from redact.console import Console
from redact.errors import ExitCode, InputError, one_line
from redact.regions import Region
from redact.settings import Settings


@dataclass
class Outcome:
    """What a pipeline removed from one file: regions (images, pages) or track records (videos)."""

    regions: list[Region] = field(default_factory=list)
    tracks: list[dict] = field(default_factory=list)
    pages: int = 0


@dataclass
class FileResult:
    src: Path
    dst: Path
    status: str  # ok | failed | skipped
    error: str = ""
    regions: int = 0
    seconds: float = 0.0


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


class Job:
    def __init__(self, settings: Settings, audit_path: Path, console: Console | None = None, command: str = ""):
        self.settings = settings
        self.console = console or Console()
        self._redactor = None
        self.audit = AuditLog(audit_path)
        self.results: list[FileResult] = []
        self.command = command
        self._started = False

    @property
    def redactor(self):
        if self._redactor is None:
            from pipelines.redactor import Redactor

            self._redactor = Redactor(self.settings, self.console)
        return self._redactor

    def start(self) -> None:
        """Load the models and write the job record (settings, versions, model ids)."""
        if self._started:
            return
        self._started = True
        models = self.redactor.model_ids()
        self.audit.write("job", command=self.command, version=__version__, settings=self.settings.to_record(),
                         models=models, fingerprint=self.settings.fingerprint(models), device=self.redactor.device,
                         host=platform.node(), python=platform.python_version())

    def process(self, src: Path, dst: Path, pipeline=None) -> FileResult:
        """Redact one file into ``dst``, failing closed. ``pipeline`` defaults to the one for the file's type."""
        self.start()
        t0 = time.perf_counter()
        tmp = temp_path(dst)
        try:
            if pipeline is None:
                kind = file_kind(src)
                if kind is None:
                    raise InputError(f"unsupported file type {src.suffix or '(no extension)'}")
                pipeline = _pipeline(kind)
            dst.parent.mkdir(parents=True, exist_ok=True)
            outcome = pipeline(self, src, tmp)
            if not isinstance(outcome, Outcome):
                outcome = Outcome(regions=list(outcome))
            with open(tmp, "rb+") as f:  # the bytes are on disk before the name says the file is complete
                os.fsync(f.fileno())
            os.replace(tmp, dst)
        except KeyboardInterrupt:
            tmp.unlink(missing_ok=True)
            raise
        except Exception as exc:  # fail closed: no output, one line, an audit record, next file
            tmp.unlink(missing_ok=True)
            message = one_line(exc)
            self.console.error(src, message)
            result = FileResult(src, dst, "failed", message, seconds=time.perf_counter() - t0)
            self.audit.write("file", input=str(src), output=None, status="failed", error=message,
                             input_sha256=_safe_sha(src), seconds=round(result.seconds, 3))
            self.audit.sync()
            self.results.append(result)
            return result
        style, model = self.redactor.fill.name, self.redactor.fill.model_id
        for r in outcome.regions:
            self.audit.write("region", file=str(src), style=style, model=model, **r.to_record())
        for t in outcome.tracks:
            self.audit.write("track", file=str(src), style=style, model=model, **t)
        n = len(outcome.regions) + len(outcome.tracks)
        result = FileResult(src, dst, "ok", regions=n, seconds=time.perf_counter() - t0)
        self.audit.write("file", input=str(src), output=str(dst), status="ok", error=None,
                         input_sha256=_safe_sha(src), output_sha256=sha256_file(dst), regions=n,
                         models=self.redactor.model_ids(),
                         pages=outcome.pages or None, seconds=round(result.seconds, 3))
        self.audit.sync()
        self.results.append(result)
        return result

    def run(self, pairs: list[tuple[Path, Path]]) -> ExitCode:
        with self.console.progress(total=len(pairs), desc="files", unit="file", leave=True) as bar:
            for src, dst in pairs:
                bar.set_postfix_str(src.name[-40:])
                self.process(src, dst)
                bar.update(1)
        return self.finish()

    def finish(self) -> ExitCode:
        ok = sum(r.status == "ok" for r in self.results)
        failed = sum(r.status == "failed" for r in self.results)
        skipped = sum(r.status == "skipped" for r in self.results)
        if self._started:
            self.audit.write("end", files_ok=ok, files_failed=failed, files_skipped=skipped,
                             regions=sum(r.regions for r in self.results))
        self.audit.close()
        summary = f"{ok} file(s) redacted, {failed} failed, {skipped} unchanged; audit: {self.audit.path}"
        if failed:
            self.console.warn(summary)
        else:
            self.console.info(summary)
        return ExitCode.FILES_FAILED if failed else ExitCode.OK


def _safe_sha(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None
