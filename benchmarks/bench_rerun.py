"""Incremental runs: what a cron rerun costs when nothing (or one file) changed, against the first full run.

Makes N real photos (resized copies of samples/photos), then times `redact run` as a subprocess, as cron runs it:
the first run, a rerun with nothing changed, a rerun after one input changed, and a rerun with --force. Prints
seconds and each rerun's ratio to the first run (all in this one invocation, so the ratios are comparable).

    .venv/bin/python benchmarks/bench_rerun.py [--files 100] [--side 480]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted(p for p in (ROOT / "samples" / "photos").iterdir() if p.suffix.lower() in (".jpg", ".png", ".webp"))


def timed_run(*args: str) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "redact.cli", "run", *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"redact run failed ({r.returncode}): {r.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--side", type=int, default=480)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        files = []
        for i in range(args.files):
            im = Image.open(PHOTOS[i % len(PHOTOS)]).convert("RGB")
            im.thumbnail((args.side - i % 7, args.side - i % 7))
            files.append(src / f"photo_{i:04d}.jpg")
            im.save(files[-1], quality=90)
        common = [str(src), "-o", str(out), "--detect", "faces"]
        first = timed_run(*common)
        unchanged = timed_run(*common)
        Image.open(PHOTOS[0]).convert("RGB").resize((args.side, args.side * 3 // 4)).save(files[0], quality=90)
        one_changed = timed_run(*common)
        forced = timed_run(*common, "--force")
    print(f"{args.files} photos, longest side ~{args.side} px, --detect faces, telea")
    print(f"first run            {first:7.2f} s")
    for name, t in (("nothing changed", unchanged), ("one file changed", one_changed), ("--force", forced)):
        print(f"{name:20s} {t:7.2f} s  = {t / first:.2f} x the first run")


if __name__ == "__main__":
    main()
