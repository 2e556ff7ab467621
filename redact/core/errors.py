"""Typed errors, each carrying the exit code it maps to (as OCRmyPDF's ``ExitCodeException`` subclasses do)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every file was redacted (or had nothing to redact)
    FILES_FAILED = 1  # one or more files failed; no output was written for them
    USAGE = 2  # bad command line or configuration (click's own code for usage errors)
    LOCKED = 3  # another run holds the lock on this output folder
    INTERRUPTED = 130  # stopped by Ctrl-C / SIGTERM


class RedactError(Exception):
    """Base of redact's errors; ``exit_code`` is what the command line exits with when one stops a job."""

    exit_code = ExitCode.FILES_FAILED


class InputError(RedactError):
    """The input file cannot be read: corrupt, truncated, encrypted, empty, too large or of the wrong type."""


class UsageError(RedactError):
    """The command line, the configuration or the API's arguments ask for something impossible."""

    exit_code = ExitCode.USAGE


class DetectorError(RedactError):
    """A detector could not process an image; the file it belongs to must not be written."""


class InpaintError(RedactError):
    """A fill could not be computed; the file it belongs to must not be written."""


class OutputLocked(RedactError):
    """Another run holds the lock on this output folder."""

    exit_code = ExitCode.LOCKED


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code a job stopped by ``exc`` ends with (any other exception: files failed)."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return getattr(exc, "exit_code", ExitCode.FILES_FAILED) if isinstance(exc, RedactError) else ExitCode.FILES_FAILED


def squeeze(text, limit: int | None = None) -> str:
    """``text`` (an exception's too) on one line, whitespace runs as one space, cut at ``limit`` characters."""
    return " ".join(str(text).split())[:limit]


def one_line(exc: BaseException) -> str:
    """A one-line message for any exception (typed errors give their own text, others their type too)."""
    text = squeeze(exc) or exc.__class__.__name__
    if isinstance(exc, RedactError):
        return text
    return f"{exc.__class__.__name__}: {text}"
