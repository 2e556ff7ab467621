"""Logo detection benchmark, the first one (kept as a second figure; benchmarks/bench_real_logos.py is the realistic
one): one-colour simple-icons glyphs (simple-icons-pack, CC0) painted in a random colour onto real photos.

Prints recall by size band (a logo counts as found only when the detection mask covers >= 95% of its pixels),
false detections per logo-free image (the eval photos, and photos/train for a larger count), and ms per 1080p
frame with 1 and with 10 reference logos.

    .venv/bin/python benchmarks/bench_logos.py [--per-band 24] [--free 100] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from logo_scenes import coverage, degrade, icon_slugs, icon_svg, place_mark  # noqa: E402

from detectors.logos import LogoDetector  # noqa: E402
from redact.core.regions import build_mask  # noqa: E402
from redact.core.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "photos"
BANDS = ((32, 48), (48, 96), (96, 320))


def photos(folder: Path, limit: int | None = None) -> list[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [np.asarray(Image.open(p).convert("RGB")) for p in files[:limit]]


def miss_reason(cover: float) -> str:
    """Why a composited logo was missed: found only in part, or not at all."""
    return "coverage < 95%" if cover > 0 else "not found"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-band", type=int, default=24, help="composited logos per size band")
    ap.add_argument("--free", type=int, default=100, help="logo-free photos/train images for false detections")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=Settings.logo_threshold)
    ap.add_argument("--breakdown", action="store_true",
                    help="print why each missed logo was missed, and each false detection")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    slugs = icon_slugs()
    marks = [slugs[i] for i in rng.choice(len(slugs), 10, replace=False)]
    eval_photos = photos(SHARED / "eval")
    with tempfile.TemporaryDirectory() as tmp:
        one, ten = Path(tmp, "one"), Path(tmp, "ten")
        one.mkdir(), ten.mkdir()
        for slug in marks:
            (ten / f"{slug}.svg").write_bytes(icon_svg(slug))
        (one / f"{marks[0]}.svg").write_bytes(icon_svg(marks[0]))
        t0 = time.perf_counter()
        detector = LogoDetector(Settings(logos=str(ten), logo_threshold=args.threshold))
        load_ms = (time.perf_counter() - t0) * 1000
        single = LogoDetector(Settings(logos=str(one), logo_threshold=args.threshold))
    print(f"references: {', '.join(marks)} (10 simple-icons marks, loaded in {load_ms:.0f} ms)")

    # recall by size band
    found = {band: [] for band in BANDS}
    misses: dict[str, int] = {}
    wrong = 0
    for band in BANDS:
        for i in range(args.per_band):
            photo = eval_photos[(i + BANDS.index(band) * 5) % len(eval_photos)]
            slug = marks[i % len(marks)]
            width = float(np.exp(rng.uniform(np.log(band[0]), np.log(band[1]))))
            image, placed = place_mark(photo, icon_svg(slug), width, rng, tilt=rng.uniform(0, 0.3))
            image = degrade(image, rng)
            regions = detector.detect_one(image)
            mine = [r for r in regions if r.label == f"{slug}.svg"]
            wrong += sum(1 for r in regions if r.label != f"{slug}.svg"
                         and coverage(build_mask([r], *image.shape[:2]), placed.truth) < 0.5)
            cover = coverage(build_mask(mine, *image.shape[:2], pad=2.0), placed.truth)
            found[band].append(cover >= 0.95)
            if args.breakdown and cover < 0.95:
                why = miss_reason(cover)
                misses[why] = misses.get(why, 0) + 1
                print(f"  miss {band[0]}-{band[1]} px {slug:<16} width {width:5.0f}: {why} (coverage {cover:.2f})")
    print(f"\nrecall (mask covers >= 95% of the logo's pixels), threshold {args.threshold}:")
    for band in BANDS:
        hits = found[band]
        print(f"  {band[0]:>3}-{band[1]:<3} px wide: {np.mean(hits):.3f}  ({sum(hits)}/{len(hits)})")
    total = sum(len(v) for v in found.values())
    if misses:
        print("  misses by cause: " + ", ".join(f"{k}: {v}" for k, v in sorted(misses.items())))
    print(f"  other-logo detections in the {total} composited images: {wrong}")

    # false detections on logo-free photos
    free_eval = [degrade(p, rng) for p in eval_photos]
    free_train = [degrade(p, rng) for p in photos(SHARED / "train", args.free)] if args.free else []
    for name, images in (("photos/eval", free_eval), ("photos/train", free_train)):
        if images:
            n = 0
            for k, img in enumerate(images):
                regions = detector.detect_one(img)
                n += len(regions)
                for r in regions if args.breakdown else ():
                    x0, y0, x1, y1 = r.box
                    print(f"  false: {name} #{k} {r.label} score {r.score:.3f} box {x1 - x0:.0f}x{y1 - y0:.0f} "
                          f"at ({x0:.0f}, {y0:.0f})")
            print(f"false detections on {len(images)} logo-free {name} images: {n} ({100 * n / len(images):.1f} "
                  f"per 100 images)")

    # speed on a 1080p frame
    frame = cv2.resize(eval_photos[0], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    frame, _ = place_mark(frame, icon_svg(marks[0]), 120, rng)
    for label, det in (("1 reference logo", single), ("10 reference logos", detector)):
        det.detect_one(frame)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            det.detect_one(frame)
            times.append(time.perf_counter() - t0)
        print(f"1080p frame, {label}: {1000 * float(np.median(times)):.0f} ms (median of 3)")


if __name__ == "__main__":
    main()
