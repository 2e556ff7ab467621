"""RFR-Net throughput at 256 px: the fast model (inpaint.rfrnet) next to the slow reference (tests/rfr_reference.py,
which has the official code's costs: 64-channel masks, a Python loop over the batch in the attention), same
weights, same inputs, same process. Prints images/s per batch size and width, the speed-up ratio, the agreement
of the outputs, and the FLOPs each does per image against the ~260 GFLOP of real work (the physical floor).

    .venv/bin/python benchmarks/bench_rfrnet.py                       # CPU, widths 64 and 32, batches 1 2 4
    .venv/bin/python benchmarks/bench_rfrnet.py --device cuda --batches 1,8,32
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inpaint.rfrnet import RFRNet, autocast_dtype  # noqa: E402
from tests.rfr_reference import RefRFRNet  # noqa: E402

FLOOR_GFLOP = 260.0


def timed(fns: dict, repeats: int, device: torch.device) -> dict:
    """Best wall time of each function. Rounds interleave the functions, so a load spike from another process
    hits them all alike and the ratios stay fair on a shared machine."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for fn in fns.values():
        fn()  # warm-up (allocations, kernel choice, cached weight spectra)
    sync()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            sync()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def gflop(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", default="1,2,4")
    ap.add_argument("--widths", default="64,32")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    ap.add_argument("--no-reference", action="store_true", help="skip the slow reference (fast model only)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"device {dev} ({torch.get_num_threads()} threads), {args.size} px, torch {torch.__version__}")
    low = autocast_dtype(dev, "auto")
    low_name = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(low, "fp32")
    for width in (int(w) for w in args.widths.split(",")):
        fast = RFRNet(width).to(dev).eval()
        ref = RefRFRNet(width).to(dev).eval()
        ref.load_state_dict(fast.state_dict())
        s = args.size
        one = torch.rand(1, 3, s, s, device=dev), (torch.rand(1, 1, s, s, device=dev) > 0.3).float()
        with torch.no_grad():
            g_fast = gflop(lambda: fast(*one))
            g_ref = gflop(lambda: ref(one[0], one[1].expand(-1, 3, -1, -1))) if not args.no_reference else float("nan")
        print(f"\nwidth {width}: {g_fast:.1f} GFLOP/image fast, {g_ref:.1f} GFLOP/image reference "
              f"(floor ~{FLOOR_GFLOP * (width / 64) ** 2:.0f} at this width)")
        print(f"{'batch':>5} {'ref img/s':>10} {'fast fp32':>10} {'x ref':>6} {'rel err':>9} "
              f"{'fast ' + low_name:>10} {'x ref':>6} {'GFLOP/s':>8}")
        for b in (int(x) for x in args.batches.split(",")):
            image = torch.rand(b, 3, s, s, device=dev)
            mask = (torch.rand(b, 1, s, s, device=dev) > 0.3).float()
            mask[:, :, s // 4: s // 2, s // 4: 3 * s // 4] = 0
            with torch.no_grad():
                # the inference path users get: channels_last weights and activations
                fns = {"fp32": lambda: fast.inpaint(image, mask, "fp32")}
                if low is not None:
                    fns["low"] = lambda: fast.inpaint(image, mask, low_name)
                if not args.no_reference:
                    fns["ref"] = lambda: ref(image, mask.expand(-1, 3, -1, -1))
                t = timed(fns, args.repeats, dev)
                t_fast, t_low, t_ref = t["fp32"], t.get("low", t["fp32"]), t.get("ref", float("nan"))
                err = float("nan")
                if not args.no_reference:
                    want = ref(image, mask.expand(-1, 3, -1, -1))
                    err = float((fast(image, mask) - want).abs().max() / want.abs().max())
            print(f"{b:>5} {b / t_ref:>10.2f} {b / t_fast:>10.2f} {t_ref / t_fast:>6.2f} {err:>9.1e} "
                  f"{b / t_low:>10.2f} {t_ref / t_low:>6.2f} {g_fast * b / t_low:>8.0f}")


if __name__ == "__main__":
    main()
