"""One run at a time per output folder: an exclusive ``flock`` on ``OUT/.redact.lock``.

The kernel releases a ``flock`` when its holder exits in any way (``kill -9`` included), so a crashed run never
leaves a stale lock behind; the file itself stays and only names the last holder for the message.
"""
from __future__ import annotations

import fcntl
import os
import platform
import time
from pathlib import Path

from redact.core.errors import OutputLocked

LOCK_NAME = ".redact.lock"


class OutputLock:
    """``with OutputLock(out_dir):`` holds the folder for one run, or raises ``OutputLocked`` at once."""

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            os.close(fd)
            raise OutputLocked(f"another redact run is using the output folder {self.path.parent}"
                               f"{' (' + holder + ')' if holder else ''}; this run did nothing") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {platform.node()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                  .encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
