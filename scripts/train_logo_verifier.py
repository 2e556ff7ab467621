"""Train the logo verifier (detectors/logo_verifier.json) on candidates of the realistic bench's tuning seeds.

Two steps:

1. ``collect``: for each tuning seed, its scenes and logo-free photos (tests/real_logo_scenes.py) go through the
   detector's proposal and alignment stages; every aligned pose of every reference is kept with its label:
   1 when it is the scene's reference and its region covers the mark (as the bench counts a hit), 0 when it is
   another reference, lies away from the mark, or is on a logo-free photo (ambiguous poses are left out).
   The poses are written to a cache (slow: the stages run on every image).
2. ``fit``: each cached pose's evidence (detectors/logo_verification.py ``evidence``) is computed again on the
   regenerated image (poses past the verifier's canonical GATE only: the others never reach it), and a logistic
   model is fitted (Newton steps, a small L2 penalty, the positives weighed as much as the negatives), written
   as JSON. Each seed is also held out of a fit in turn, to print how the model carries over, and what each
   measure earns: the share of true poses ranked above all but 2 false poses of their held-out seed, lost when
   the measure is dropped (``--evidence`` keeps the computed measures, their columns named, so a measure can be
   dropped from EVIDENCE and the model refitted without computing them again).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_logo_verifier.py collect --seeds 2 3 4 5 6 7 \\
        --per-band 12 --free 30 --cache /tmp/logo_candidates.npz
    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_logo_verifier.py fit --cache /tmp/logo_candidates.npz \\
        --evidence /tmp/logo_evidence.npz

Only tuning seeds (< 100) may be used: the held-out seeds are for the bench's report.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from logo_scenes import coverage  # noqa: E402
from real_logo_scenes import free_photos, is_held_out, load, make_scenes  # noqa: E402

from detectors.logo_alignment import ImageSampler, align, mark_size, plausible  # noqa: E402
from detectors.logos import SMALLEST_KEPT, LogoDetector  # noqa: E402
from redact.core.regions import build_mask  # noqa: E402
from redact.core.settings import Settings  # noqa: E402


def detector_for(logos) -> LogoDetector:
    with tempfile.TemporaryDirectory() as tmp:
        for logo in logos:
            logo.write(Path(tmp))
        return LogoDetector(Settings(logos=tmp, logo_threshold=0.0))


def images(seed: int, per_band: int, free: int):
    """(detector, [(key, image, scene or None)]) of one seed: its scenes, then its logo-free photos."""
    logos, scenes = make_scenes(seed, per_band)
    out = [(("scene", k), sc.image, sc) for k, sc in enumerate(scenes)]
    out += [(("free", k), load(p), None) for k, p in enumerate(free_photos(seed, free))]
    return detector_for(logos), out


def label(detector: LogoDetector, ref_index: int, H: np.ndarray, scene) -> int:
    """1: a hit on the scene's mark; 0: a false detection; -1: neither (partly on the mark)."""
    if scene is None:
        return 0
    ref = detector.references[ref_index]
    mask = build_mask([detector.region(ref, 1.0, H)], *scene.image.shape[:2], pad=2.0)
    cover = coverage(mask, scene.truth)
    if ref.name != scene.logo:
        return 0 if cover < 0.3 else -1
    ys, xs = np.nonzero(scene.truth)
    if cover >= 0.95 and mask.sum() <= 4 * (np.ptp(xs) + 1) * (np.ptp(ys) + 1):
        return 1
    return 0 if cover < 0.3 else -1


def collect(args) -> None:
    rows = []  # seed, kind (0 scene, 1 free), index, reference, label, canonical score, H (9)
    for seed in args.seeds:
        assert not is_held_out(seed), "train on tuning seeds only"
        t0 = time.time()
        detector, items = images(seed, args.per_band, args.free)
        for (kind, k), image, scene in items:
            sampler = ImageSampler(image)
            for ri, (ref, frames, poses) in enumerate(zip(detector.references, detector.frames,
                                                          detector.proposals(image))):
                for H in poses:
                    if not plausible(H, ref) or mark_size(H, ref) < SMALLEST_KEPT:
                        continue
                    value, H = align(sampler, ref, frames, H)
                    if mark_size(H, ref) < SMALLEST_KEPT:
                        continue
                    rows.append([seed, kind == "free", k, ri, label(detector, ri, H, scene), value, *H.ravel()])
        got = np.array(rows)
        print(f"seed {seed}: {time.time() - t0:.0f} s, {len(got)} poses so far, "
              f"{int((got[:, 4] == 1).sum())} positive", flush=True)
        np.savez(args.cache, rows=got, per_band=args.per_band, free=args.free)


def evidence_table(cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(evidence (n, k), labels (n,), seeds (n,)) of the cached poses with a label."""
    data = np.load(cache)
    rows, per_band, free = data["rows"], int(data["per_band"]), int(data["free"])
    from detectors.logo_verification import GATE, VERIFY_SIDE, evidence

    rows = rows[(rows[:, 4] >= 0) & (rows[:, 5] >= GATE)]  # the verifier weighs poses above its gate only

    xs, ys, seeds = [], [], []
    for seed in np.unique(rows[:, 0]).astype(int):
        detector, items = images(seed, per_band, free)
        lookup = {(kind == "free", k): image for (kind, k), image, _ in items}
        mine = rows[rows[:, 0] == seed]
        for (free_kind, k) in {(bool(r[1]), int(r[2])) for r in mine}:
            sampler = ImageSampler(lookup[(free_kind, k)])
            for r in mine[(mine[:, 1] == free_kind) & (mine[:, 2] == k)]:
                ri = int(r[3])
                H = r[6:].reshape(3, 3)
                size = mark_size(H, detector.references[ri])
                xs.append(evidence(sampler, detector.frames[ri][VERIFY_SIDE], H, size))
                ys.append(r[4])
                seeds.append(seed)
    return np.array(xs), np.array(ys), np.array(seeds)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic model of y on x (standardised), by Newton steps with an L2 penalty; the
    positives weigh as much, in all, as the negatives."""
    n, k = x.shape
    weight = np.where(y == 1, 0.5 / max(1, (y == 1).sum()), 0.5 / max(1, (y == 0).sum())) * n
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(k + 1)
    penalty = np.diag([l2] * k + [0.0]) * n
    for _ in range(steps):
        p = 1 / (1 + np.exp(-a @ w))
        grad = a.T @ (weight * (p - y)) + penalty @ w
        hess = (a * (weight * p * (1 - p))[:, None]).T @ a + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:k], float(w[k])


def carried_over(z: np.ndarray, y: np.ndarray, seeds: np.ndarray, allowed: int = 2) -> float:
    """Each seed held out of the fit in turn: the share of its true poses the model ranks above all but
    ``allowed`` of its false poses, pooled over the seeds."""
    found = total = 0
    for s in sorted(set(seeds.tolist())):
        w, b = logistic(z[seeds != s], y[seeds != s])
        p = z[seeds == s] @ w + b
        yt = y[seeds == s]
        negatives = np.sort(p[yt == 0])[::-1]
        bar = negatives[allowed] if len(negatives) > allowed else -np.inf
        found += int((p[yt == 1] > bar).sum())
        total += int((yt == 1).sum())
    return found / max(1, total)


def fit(args) -> None:
    from detectors.logo_verification import EVIDENCE as names

    if args.evidence and args.evidence.exists():  # evidence computed before, its columns named
        data = np.load(args.evidence)
        stored = [str(n) for n in data["names"]]
        missing = [n for n in names if n not in stored]
        assert not missing, f"{args.evidence} lacks {missing}: delete it to compute the evidence again"
        x = data["x"][:, [stored.index(n) for n in names]]
        y, seeds = data["y"], data["seeds"]
    else:
        x, y, seeds = evidence_table(args.cache)
        if args.evidence:
            np.savez(args.evidence, x=x, y=y, seeds=seeds, names=np.array(names))
    print(f"{len(y)} poses, {int(y.sum())} positive, seeds {sorted(set(seeds.tolist()))}")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    everything = carried_over(z, y, seeds)
    print(f"true poses ranked above all but 2 false poses per held-out seed: {everything:.3f}; lost when dropped:")
    for k, name in enumerate(names):
        keep = [j for j in range(len(names)) if j != k]
        print(f"  {name:<18} {everything - carried_over(z[:, keep], y, seeds):+.3f}")
    # hold one seed out at a time to see the model carry over, then fit on all
    for s in sorted(set(seeds.tolist())):
        w, b = logistic(z[seeds != s], y[seeds != s])
        p = 1 / (1 + np.exp(-(z[seeds == s] @ w + b)))
        yt = y[seeds == s]
        for t in (0.5, 0.8, 0.9, 0.95):
            print(f"  seed {s} at {t}: recall {np.mean(p[yt == 1] >= t):.3f}, false {int((p[yt == 0] >= t).sum())}"
                  f" of {int((yt == 0).sum())}")
    w, b = logistic(z, y)
    for name, v in zip(names, w):
        print(f"  {name:<16} {v:+.3f}")
    model = {"evidence": list(names), "mean": mean.round(6).tolist(), "std": std.round(6).tolist(),
             "weights": w.round(6).tolist(), "bias": round(b, 6),
             "trained_on": {"seeds": sorted(set(seeds.tolist())), "poses": int(len(y)), "positive": int(y.sum()),
                            "command": "scripts/train_logo_verifier.py " + " ".join(sys.argv[1:])}}
    Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7])
    c.add_argument("--per-band", type=int, default=12)
    c.add_argument("--free", type=int, default=30)
    c.add_argument("--cache", type=Path, default=Path("/tmp/logo_candidates.npz"))
    f = sub.add_parser("fit")
    f.add_argument("--cache", type=Path, default=Path("/tmp/logo_candidates.npz"))
    f.add_argument("--evidence", type=Path, help="keep the computed evidence here, and read it from here if it exists")
    f.add_argument("--out", type=Path, default=ROOT / "detectors" / "logo_verifier.json")
    args = ap.parse_args()
    collect(args) if args.step == "collect" else fit(args)


if __name__ == "__main__":
    main()
