"""Typed errors and the exit codes they map to (documented in the README)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every file was redacted (or had nothing to redact)
    FILES_FAILED = 1  # one or more files failed; no output was written for them
    USAGE = 2  # bad command line or configuration (click's own code for usage errors)
    LOCKED = 3  # another run holds the lock on this output folder
    INTERRUPTED = 130  # stopped by Ctrl-C / SIGTERM


class RedactError(Exception):
    """Base of the errors that fail one file with a one-line message."""


class InputError(RedactError):
    """The input file cannot be read: corrupt, truncated, encrypted, empty, too large or of the wrong type."""


class UsageError(RedactError):
    """The command line or configuration asks for something impossible."""


def one_line(exc: BaseException) -> str:
    """A one-line message for any exception (typed errors give their own text, others their type too)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, RedactError):
        return text
    return f"{exc.__class__.__name__}: {text}"
