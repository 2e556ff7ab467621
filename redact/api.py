"""The library API: redact files from Python. The command line is one client of it.

    from redact import Settings, redact_paths

    report = redact_paths(["scans", "photos"], "redacted", Settings(style="box"))
    print(report.ok, report.failed, report.audit)

Every function plans the files, runs the job (models load once; each file fails closed: no output, one error
line, an audit record) and returns a ``Report``. Problems with the request itself raise typed errors from
``redact.core.errors`` before any file is touched: ``UsageError`` (bad arguments), ``OutputLocked`` (another run
holds the output folder); each carries its ``exit_code``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pipelines.directory import ALL_KINDS, check_output_file, check_paths, plan, unsupported, unsupported_message
from redact.core.console import Console
from redact.core.settings import Settings
from redact.job import Job, Report
from redact.lock import OutputLock
from redact.state import JobState

AUDIT_NAME = "audit.jsonl"


def default_audit(output: Path, folder: bool = True) -> Path:
    """Where the audit goes when none is given: ``audit.jsonl`` in the output folder (beside an output file)."""
    output = Path(output)
    return (output if folder else output.parent) / AUDIT_NAME


def redact_paths(inputs: Iterable, output, settings: Settings | None = None, *, incremental: bool = True,
                 audit=None, force: bool = False, kinds: Iterable[str] = ALL_KINDS, console: Console | None = None,
                 command: str = "api") -> Report:
    """Redact every image, PDF and video under ``inputs`` (folders or files) into the folder ``output``,
    mirroring the inputs' trees.

    ``incremental`` (``redact run``): lock the output folder (``OutputLocked`` when another run holds it), skip
    files whose content and settings are unchanged since they were done (``force`` redoes them), and finish
    what a killed run left. ``kinds`` limits the job to some of "image", "pdf", "video". ``audit`` defaults to
    ``output/audit.jsonl``.
    """
    inputs, output, kinds = [Path(p) for p in inputs], Path(output), set(kinds)
    settings = settings or Settings()
    console = console or Console()
    audit_path = Path(audit) if audit else default_audit(output)
    check_paths(inputs, output)  # before the lock creates the output folder
    if not incremental:
        return _run(inputs, output, kinds, settings, console, audit_path, command, False, force)
    with OutputLock(output):
        return _run(inputs, output, kinds, settings, console, audit_path, command, True, force)


def _run(inputs: list[Path], output: Path, kinds: set[str], settings: Settings, console: Console, audit_path: Path,
         command: str, incremental: bool, force: bool) -> Report:
    pairs = plan(inputs, output, kinds)
    skipped = unsupported(inputs, kinds)
    # an incremental run is cron's: the unsupported files stay, so they are not in its mail every run
    if skipped and (not incremental or console.verbose or console.log_json):
        console.warn(unsupported_message(skipped, kinds))
    if not pairs:
        if incremental:
            console.info("nothing to do: no images, PDFs or videos in " + ", ".join(map(str, inputs)))
        else:
            console.warn("no files to redact in " + ", ".join(map(str, inputs)))
        return Report([], None)
    state = JobState(output) if incremental else None
    return Job(settings, audit_path, console, command, state=state).run(pairs, force=force)


def redact_file(src, dst, settings: Settings | None = None, *, audit=None, console: Console | None = None,
                command: str = "api") -> Report:
    """Redact one file (image, PDF or video, by its extension) into ``dst``; the audit defaults to
    ``audit.jsonl`` beside ``dst``."""
    src, dst = Path(src), Path(dst)
    check_output_file(src, dst)
    job = Job(settings or Settings(), Path(audit) if audit else default_audit(dst, folder=False),
              console or Console(), command)
    return job.run([(src, dst)])


def redact_with_masks(image, output, *, mask=None, mask_dir=None, settings: Settings | None = None, audit=None,
                      console: Console | None = None, command: str = "api") -> Report:
    """Remove the white pixels of ``mask`` from ``image`` (or of the masks in ``mask_dir``, matched by name, from
    the images of the folder ``image``); only the fill runs, no detector."""
    from pipelines.manual import mask_pairs, mask_pipeline

    image, output = Path(image), Path(output)
    settings = settings or Settings()
    settings.detect = ()  # the mask says what goes
    pairs = mask_pairs(image, None if mask is None else Path(mask), None if mask_dir is None else Path(mask_dir),
                       output)
    if audit:
        audit_path = Path(audit)
    elif mask is None:
        audit_path = default_audit(output)
    else:
        audit_path = output.parent / (output.name + ".audit.jsonl")
    job = Job(settings, audit_path, console or Console(), command)
    for src, dst, m in pairs:
        job.process(src, dst, mask_pipeline(m))
    return job.finish()
