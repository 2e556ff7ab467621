"""A job on a local Ray cluster against the same job run locally: files per second, and the cluster's start-up.

Makes N real photos (resized copies of samples/photos), times ``redact_paths`` (the local ``redact run``) over
them, starts a local cluster like the tests' (a head without CPUs and NODES worker nodes of one CPU each, HOME
in a temporary folder), then times ``redact_on_cluster`` over the same files into another folder. Both runs
include loading the models (once locally, once per worker on the cluster; the imports are paid by an untimed
one-file run first); the cluster's start-up is printed on its own. With ``--nodes 1`` both runs have one CPU:
the ratio is the cluster's overhead. Prints seconds, files/s and the cluster's ratio to the local run, all from this one invocation.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cluster.py [--files 60] [--nodes 2] [--side 480]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PHOTOS = sorted(p for p in (ROOT / "samples" / "photos").iterdir() if p.suffix.lower() in (".jpg", ".png", ".webp"))


def make_photos(folder: Path, count: int, side: int) -> None:
    folder.mkdir()
    for i in range(count):
        image = Image.open(PHOTOS[i % len(PHOTOS)]).convert("RGB")
        image.thumbnail((side, side))
        image.save(folder / f"photo{i:03d}.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=60)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--side", type=int, default=480)
    ap.add_argument("--style", default="box")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # Ray's token and session files
        src = Path(tmp) / "in"
        make_photos(src, args.files, args.side)

        from redact.api import redact_paths
        from redact.cluster import redact_on_cluster
        from redact.core.console import Console
        from redact.core.settings import Settings

        settings = Settings(style=args.style, detect=("faces",))
        warm = Path(tmp) / "warm"  # this process imports torch and the detector once before either run is timed
        make_photos(warm, 1, args.side)
        redact_paths([warm], Path(tmp) / "warm-out", settings, console=Console(verbose=False))
        t0 = time.perf_counter()
        local = redact_paths([src], Path(tmp) / "local", settings, console=Console(verbose=False))
        local_s = time.perf_counter() - t0

        from ray.cluster_utils import Cluster

        t0 = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": 80 << 20})
        for _ in range(args.nodes):
            cluster.add_node(num_cpus=1, object_store_memory=80 << 20)
        cluster.wait_for_nodes()
        startup_s = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            remote = redact_on_cluster([src], Path(tmp) / "cluster", settings, address=cluster.address,
                                       console=Console(verbose=False))
            cluster_s = time.perf_counter() - t0
        finally:
            cluster.shutdown()
    assert local.ok == remote.ok == args.files, (local.ok, remote.ok)
    print(f"{args.files} photos ({args.side} px, faces, --style {args.style}); cluster: {args.nodes} nodes x 1 CPU")
    print(f"local run    {local_s:7.1f} s  {args.files / local_s:6.2f} files/s  1.00x")
    print(f"cluster run  {cluster_s:7.1f} s  {args.files / cluster_s:6.2f} files/s  {local_s / cluster_s:.2f}x "
          f"(connect, start {args.nodes} workers, load their models, redact)")
    print(f"cluster start-up (head + {args.nodes} nodes) {startup_s:.1f} s = {startup_s / local_s:.2f}x the local run")


if __name__ == "__main__":
    main()
