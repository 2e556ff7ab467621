"""What a job prints: one-line errors and warnings always, progress and summaries only on a terminal.

Cron and CI see nothing unless something failed. ``--log-json`` prints every message as a JSON object instead.
"""
from __future__ import annotations

import json
import sys
import time

from tqdm import tqdm


class Console:
    def __init__(self, log_json: bool = False, verbose: bool | None = None):
        self.log_json = log_json
        self.interactive = sys.stderr.isatty() and not log_json
        self.verbose = self.interactive if verbose is None else verbose
        self._warned: set[str] = set()

    def _emit(self, level: str, message: str, **fields) -> None:
        if self.log_json:
            rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "message": message, **fields}
            tqdm.write(json.dumps(rec, default=str), file=sys.stderr)
        else:
            tqdm.write(f"redact: {level}: {message}" if level != "info" else message, file=sys.stderr)

    def info(self, message: str, **fields) -> None:
        if self.verbose or self.log_json:
            self._emit("info", message, **fields)

    def warn(self, message: str, **fields) -> None:
        if message not in self._warned:  # each warning once per job
            self._warned.add(message)
            self._emit("warning", message, **fields)

    def error(self, path, message: str, **fields) -> None:
        self._emit("error", f"{path}: {message}", file=str(path), **fields)

    def progress(self, total: int | None = None, desc: str = "", unit: str = "it", leave: bool = False):
        """A progress bar on a terminal; silent otherwise (cron, CI, --log-json)."""
        return tqdm(total=total, desc=desc, unit=unit, leave=leave, disable=not self.interactive,
                    dynamic_ncols=True, file=sys.stderr)
