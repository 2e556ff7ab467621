"""The audit trail: one JSON Lines file per job, one record per line, chained by hashes.

Record types: ``job`` (settings and versions, at the start), ``region`` (one removed region: file, page/frame,
kind, box, score, detector, style, model), ``track`` (a video track), ``file`` (input path, sha256 of input
and output, status, error, timings) and ``end`` (totals). Each record carries ``prev``, the hash of the record
before it, and ``hash``, its own (sha256 of its canonical JSON without ``hash``), so editing, removing or
reordering a record breaks the chain (``redact audit verify``). No record ever holds recognised text or pixels.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

GENESIS = "0" * 64


def _canonical(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def last_record(path: Path) -> dict | None:
    """The last complete record of an existing audit file (a torn last line is ignored), or None."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 65536))
        lines = f.read().splitlines()
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "hash" in rec:
            return rec
    return None


def _last_hash(path: Path) -> str:
    """The hash of the last complete record of an existing audit file (a torn last line is ignored)."""
    rec = last_record(path)
    return rec["hash"] if rec else GENESIS


class AuditLog:
    """Appends chained records to a JSON Lines file; continues the chain of an existing file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_torn_tail()
        self.prev = _last_hash(self.path)
        self._f = open(self.path, "a", encoding="utf-8")

    def _repair_torn_tail(self) -> None:
        """A run killed mid-write can leave half a line; cut it so the chain stays verifiable."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            data = f.read()
            if data.endswith(b"\n"):
                return
            f.truncate(data.rfind(b"\n") + 1)

    def write(self, type_: str, **fields) -> dict:
        rec = {"type": type_, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields, "prev": self.prev}
        rec["hash"] = record_hash(rec)
        self._f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._f.flush()
        self.prev = rec["hash"]
        return rec

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()


def read_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def verify(path: Path) -> tuple[bool, int, str]:
    """(ok, number of records checked, message). Checks every record's hash and its link to the one before."""
    prev = GENESIS
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                return False, n, f"line {lineno}: not valid JSON"
            if rec.get("prev") != prev:
                return False, n, f"line {lineno}: chain broken (record does not follow the one before it)"
            if rec.get("hash") != record_hash(rec):
                return False, n, f"line {lineno}: record was altered (hash mismatch)"
            prev = rec["hash"]
            n += 1
    return True, n, f"{n} records, chain intact"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
