"""Job state: which outputs are done, from which input content and with which settings (SQLite in the output folder).

A file is done when its output was renamed into place; only then is it recorded (``record_done``). The next run
skips it while the input's content hash and the effective settings fingerprint (``Settings.fingerprint`` of the
settings and the ids of the models the output depended on) are unchanged and the output is still there with the
size it had. The state is keyed by the output's path relative to the output folder, so moving the output folder
keeps it.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

STATE_NAME = ".redact-state.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS done (
    output TEXT PRIMARY KEY,     -- relative to the output folder
    input TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,   -- Settings.fingerprint(model ids)
    models TEXT NOT NULL,        -- JSON list of the model names in the fingerprint ("fill", "faces", ...)
    output_sha256 TEXT NOT NULL,
    output_size INTEGER NOT NULL,
    done_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class DoneFile:
    output: str
    input: str
    input_sha256: str
    fingerprint: str
    models: tuple[str, ...]
    output_sha256: str
    output_size: int
    done_at: str


class JobState:
    def __init__(self, out_dir: Path):
        self.root = Path(out_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / STATE_NAME
        # A run killed mid-commit leaves a rollback journal; SQLite rolls it back on this open.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def key(self, dst: Path) -> str:
        """``dst`` relative to the output folder (ValueError when it lies outside)."""
        return Path(dst).resolve().relative_to(self.root.resolve()).as_posix()

    def get(self, dst: Path) -> DoneFile | None:
        row = self._db.execute("SELECT output, input, input_sha256, fingerprint, models, output_sha256, output_size,"
                               " done_at FROM done WHERE output = ?", (self.key(dst),)).fetchone()
        if row is None:
            return None
        return DoneFile(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5], row[6], row[7])

    def unchanged(self, dst: Path, input_sha256: str) -> DoneFile | None:
        """The done record of ``dst`` if its input content is the same and the output is still there, else None.

        The caller still compares the settings fingerprint (it needs the job's models)."""
        done = self.get(dst)
        if done is None or done.input_sha256 != input_sha256:
            return None
        try:
            if Path(dst).stat().st_size != done.output_size:
                return None
        except OSError:
            return None
        return done

    def record_done(self, src: Path, dst: Path, input_sha256: str, fingerprint: str, models, output_sha256: str,
                    when: str | None = None) -> None:
        """Record ``dst`` as done: call only after its output was renamed into place."""
        self._db.execute(
            "INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.key(dst), str(src), input_sha256, fingerprint, json.dumps(list(models)), output_sha256,
             Path(dst).stat().st_size, when or time.strftime("%Y-%m-%dT%H:%M:%S%z")))

    def close(self) -> None:
        self._db.close()
