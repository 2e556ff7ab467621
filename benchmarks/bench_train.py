"""What each training choice costs per step on this machine: RFR-Net training steps (``inpaint.train.train_step``)
with the default losses (valid/hole L1 + TV) against the official perceptual and style terms added (random-weight
VGG16), in bf16 autocast against fp32, measured in the same run, steps interleaved so that other load hits every
variant alike. Prints images/s and the ratio to the default.

    .venv/bin/python benchmarks/bench_train.py [--size 128] [--batch 8] [--width 32] [--rounds 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inpaint.masks import random_mask  # noqa: E402
from inpaint.rfrnet import RFRNet, autocast_dtype  # noqa: E402
from inpaint.train import RandomVGGFeatures, train_step  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    target = torch.rand(args.batch, 3, args.size, args.size)
    known = torch.from_numpy(np.stack([~random_mask(rng, args.size, args.size) for _ in range(args.batch)])[:, None]
                             .astype(np.float32))
    target, known = (t.contiguous(memory_format=torch.channels_last) for t in (target, known))
    bf16 = autocast_dtype(torch.device("cpu"))
    variants = {"L1+TV, bf16": (bf16, None), "L1+TV, fp32": (None, None),
                "+ VGG perceptual/style, bf16": (bf16, RandomVGGFeatures())}
    models = {}
    for name in variants:
        model = RFRNet(args.width).to(memory_format=torch.channels_last).train()
        models[name] = (model, torch.optim.Adam(model.parameters(), 2e-4))
    best = {name: float("inf") for name in variants}
    for r in range(args.rounds + 1):
        for name, (dtype, features) in variants.items():
            model, opt = models[name]
            t = time.perf_counter()
            train_step(model, opt, features, target, target, known, dtype)
            if r:  # round 0 warms up
                best[name] = min(best[name], time.perf_counter() - t)
    base = best["L1+TV, bf16"]
    print(f"width {args.width}, {args.size} px, batch {args.batch}, torch threads {torch.get_num_threads()}, "
          f"native bf16: {bf16 is not None}")
    for name, s in best.items():
        print(f"{name:<30} {args.batch / s:6.2f} images/s  {s / base:5.2f}x the time of the default step")


if __name__ == "__main__":
    main()
