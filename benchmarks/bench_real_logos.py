"""Realistic logo benchmark: real colour marks (Papirus app icons, simple-icons in brand colours with and without
a wordmark) as stickers, prints, on photos and on screens (tests/real_logo_scenes.py; docs/logo-bench.md).

Per seed: 10 references of the seed's split (transparent or opaque), ``--per-band`` scenes in each size band.
Prints recall by size band and by placement (a mark counts as found when the detections of its reference cover
>= 95% of its pixels), detections of another reference on a scene, false detections on logo-free photos of the
seed's split, and the time per 1080p frame with the 10 references as a ratio to one SIFT pass over that frame
measured in the same run. Seeds 0-99 are tuning seeds, 100 and up held out (photos and marks disjoint).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_real_logos.py --seeds 100 101 [--per-band 24] [--free 100]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from logo_scenes import coverage  # noqa: E402
from real_logo_scenes import BANDS, MODES, free_photos, is_held_out, load, make_scenes  # noqa: E402

from detectors.logo_alignment import ImageSampler, mark_size, plausible  # noqa: E402
from detectors.logos import SMALLEST_KEPT, LogoDetector  # noqa: E402
from redact.core.regions import build_mask  # noqa: E402
from redact.core.settings import Settings  # noqa: E402


def band_of(width: float) -> tuple[int, int]:
    return next(b for b in BANDS if b[0] <= width < b[1] or b == BANDS[-1])


STAGES = ("not proposed", "misaligned", "rejected", "kept, lost")


def stage_of_miss(detector: LogoDetector, scene, threshold: float) -> tuple[str, float]:
    """Where a missed mark was lost, and the best score of an aligned pose on it (-1 when none):

    - not proposed: no proposal of its reference (that passes the size and shape checks) covers half the mark
      with a region at most 4x the mark's box;
    - misaligned: one does, but no proposal aligns to a region covering 95% of the mark;
    - rejected: one aligns onto it, but the verifier's probability is below the threshold (0: below its gate);
    - kept, lost: an aligned pose on it scores enough, but is dropped (smaller than the smallest mark kept,
      or after another pose at the same place)."""
    ri = [r.name for r in detector.references].index(scene.logo)
    ref, frames = detector.references[ri], detector.frames[ri]
    shape = scene.image.shape[:2]
    ys, xs = np.nonzero(scene.truth)
    box_area = (np.ptp(xs) + 1) * (np.ptp(ys) + 1)
    sampler = ImageSampler(scene.image)
    proposed, best = False, -1.0
    for H in detector.proposals(scene.image)[ri]:
        if not plausible(H, ref) or mark_size(H, ref) < SMALLEST_KEPT:
            continue
        mask = build_mask([detector.region(ref, 1.0, H)], *shape)
        if coverage(mask, scene.truth) < 0.5 or mask.sum() > 4 * box_area:
            continue
        proposed = True
        H2, value = detector.aligned(sampler, ref, frames, H)
        if coverage(build_mask([detector.region(ref, 1.0, H2)], *shape, pad=2.0), scene.truth) >= 0.95:
            best = max(best, value)
    if not proposed:
        return STAGES[0], best
    if best < -0.5:
        return STAGES[1], best
    return (STAGES[2] if best < threshold else STAGES[3]), best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--per-band", type=int, default=24)
    ap.add_argument("--free", type=int, default=100, help="logo-free photos per seed")
    ap.add_argument("--threshold", type=float, default=Settings.logo_threshold)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--breakdown", action="store_true", help="print each miss and each false detection")
    ap.add_argument("--stages", action="store_true",
                    help="count where each miss was lost: not proposed, misaligned, or rejected by the verifier")
    ap.add_argument("--sweep", type=float, nargs="*", default=[],
                    help="also print the figures at these thresholds (run with a --threshold below them)")
    args = ap.parse_args()
    split = {is_held_out(s) for s in args.seeds}
    print(f"seeds {args.seeds} ({'held-out' if split == {True} else 'tuning' if split == {False} else 'MIXED'}), "
          f"threshold {args.threshold}, {args.per_band} scenes per band per seed")

    by_band: dict = {b: [] for b in BANDS}
    by_mode: dict = {m: [] for m in MODES}
    wrong = false = free_count = 0
    detector = None
    stages: dict = {m: {st: 0 for st in STAGES} for m in (*MODES, "all")}
    stage_bands: dict = {b: {st: 0 for st in STAGES} for b in BANDS}
    rejected_scores: list[float] = []
    records = []  # (band, scene's regions of its reference with the truth, or None for a logo-free photo's regions)
    for seed in args.seeds:
        logos, scenes = make_scenes(seed, args.per_band)
        with tempfile.TemporaryDirectory() as tmp:
            for logo in logos:
                logo.write(Path(tmp))
            detector = LogoDetector(Settings(logos=tmp, logo_threshold=args.threshold))
        for k, scene in enumerate(scenes):
            regions = detector.detect_one(scene.image)
            mine = [r for r in regions if r.label == scene.logo]
            cover = coverage(build_mask(mine, *scene.image.shape[:2], pad=2.0), scene.truth)
            hit = cover >= 0.95
            by_band[band_of(scene.width)].append(hit)
            by_mode[scene.mode].append(hit)
            records.append((band_of(scene.width), mine, scene))
            others = [r for r in regions if r.label != scene.logo]
            wrong += len(others)
            if args.stages and not hit:
                stage, best = stage_of_miss(detector, scene, args.threshold)
                for key in (scene.mode, "all"):
                    stages[key][stage] += 1
                stage_bands[band_of(scene.width)][stage] += 1
                if stage == STAGES[2]:
                    rejected_scores.append(best)
                if args.breakdown:
                    print(f"  seed {seed} #{k} miss: {stage} (best aligned probability {best:.3f})")
            if args.breakdown and (not hit or others):
                print(f"  seed {seed} #{k} {scene.mode:<7} {scene.width:4.0f} px {scene.logo:<40} cover {cover:.2f} "
                      f"scores {[r.score for r in mine]} others {[(r.label, r.score) for r in others]}")
        for path in free_photos(seed, args.free):
            regions = detector.detect_one(load(path))
            false += len(regions)
            free_count += 1
            records.append((None, regions, None))
            for r in regions if args.breakdown else ():
                print(f"  false: seed {seed} {path.name} {r.label} {r.score}")

    print("recall (mask covers >= 95% of the mark's pixels):")
    for b in BANDS:
        hits = by_band[b]
        print(f"  {b[0]:>3}-{b[1]:<3} px: {np.mean(hits):.3f} ({sum(hits)}/{len(hits)})")
    big = [h for b in BANDS[1:] for h in by_band[b]]
    print(f"  >= 48 px: {np.mean(big):.3f} ({sum(big)}/{len(big)})")
    print("  by placement: " + ", ".join(f"{m} {np.mean(v):.3f} ({sum(v)}/{len(v)})" for m, v in by_mode.items()))
    print(f"detections of another reference in the scenes: {wrong}")
    per_100 = 100 * false / max(1, free_count)
    print(f"false detections on {free_count} logo-free photos: {false} ({per_100:.1f} per 100)")

    if args.stages:
        print("misses by stage: " + ", ".join(f"{st} {stages['all'][st]}" for st in STAGES))
        for key, counts in [*((m, stages[m]) for m in MODES), *((f"{b[0]}-{b[1]} px", stage_bands[b]) for b in BANDS)]:
            print(f"  {key:<11} " + ", ".join(f"{st} {counts[st]}" for st in STAGES))
        if rejected_scores:
            print(f"  rejected marks' best aligned probabilities: {sorted(round(v, 3) for v in rejected_scores)}")

    for t in args.sweep:
        hits = {b: [] for b in BANDS}
        n_false = 0
        for band, regions, scene in records:
            kept = [r for r in regions if r.score >= t]
            if scene is None:
                n_false += len(kept)
            else:
                hits[band].append(coverage(build_mask(kept, *scene.image.shape[:2], pad=2.0), scene.truth) >= 0.95)
        print(f"  at {t:.3f}: " + ", ".join(f"{b[0]}-{b[1]} {np.mean(hits[b]):.3f}" for b in BANDS)
              + f"; false {n_false} in {free_count}")

    if not args.no_speed and detector is not None:
        cv2.setNumThreads(1)
        frame = cv2.resize(load(free_photos(args.seeds[0], 1)[0]), (1920, 1080), interpolation=cv2.INTER_CUBIC)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        sift = cv2.SIFT_create()

        def median_ms(fn) -> float:
            fn()
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            return 1000 * float(np.median(times))

        base = median_ms(lambda: sift.detectAndCompute(grey, None))
        mine = median_ms(lambda: detector.detect_one(frame))
        print(f"1080p frame, 10 references: {mine:.0f} ms = {mine / base:.2f} x one SIFT pass over the frame "
              f"({base:.0f} ms, same run; cv2 threads 1)")


if __name__ == "__main__":
    main()
