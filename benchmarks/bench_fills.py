"""What `--style inpaint` (RFR-Net, the shipped weights) costs next to `telea`, measured in the same run on the
same masks, and how much each fill flickers in a video.

- photo: `samples/photos/pyfeat_multi_face_5faces.jpg`, its MTCNN face regions as the mask: seconds per photo;
- page: synthetic A4 pages at 200 dpi (the PDF job's default), every item of personal data masked: s per page;
- video: the frames of `samples/videos/pyfeat_single_face.mp4` scaled to 640x360 with their face masks: fill
  frames per second, and **flicker**: the mean absolute change (grey levels) of the filled pixels from one frame
  to the next, over pixels inside the mask in both frames, next to the same figure of the input frames there
  (the clip's own change: head motion, noise).

Detection is run once, before the clock, so the figures are the fills' alone. Each row takes turns between the
fills (so a burst of other load hits them alike); the best of ``--repeat`` rounds is reported.

    .venv/bin/python benchmarks/bench_fills.py [--repeat 2] [--pages 2] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inpaint.fills import get_fill  # noqa: E402
from inpaint.train import box_mask  # noqa: E402
from redact.core.regions import masks_for  # noqa: E402
from inpaint.synthdocs import generate_page  # noqa: E402

PHOTO = ROOT / "samples" / "photos" / "pyfeat_multi_face_5faces.jpg"
VIDEO = ROOT / "samples" / "videos" / "pyfeat_single_face.mp4"
STYLES = ("telea", "inpaint")


def best_time(fill, images, masks, domain, repeat) -> tuple[float, list]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fill.fill(images, masks, domain)
        best = min(best, time.perf_counter() - t)
    return best, out


def video_frames(side=(640, 360)) -> list[np.ndarray]:
    with av.open(str(VIDEO)) as c:
        return [cv2.resize(f.to_ndarray(format="rgb24"), side, interpolation=cv2.INTER_AREA) for f in c.decode(video=0)]


def flicker(frames: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """Mean |change| of grey level between consecutive frames over pixels masked in both."""
    total, n = 0.0, 0
    for a, b, ma, mb in zip(frames, frames[1:], masks, masks[1:]):
        both = ma & mb
        if both.any():
            ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float64) for x in (a, b))
            total += float(np.abs(ga - gb)[both].sum())
            n += int(both.sum())
    return total / max(1, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--pages", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    import torch

    from detectors.faces import FaceDetector

    if args.threads:
        torch.set_num_threads(args.threads)
    fills = {s: get_fill(s) for s in STYLES}
    faces = FaceDetector("cpu")

    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    photo_mask = masks_for([photo], faces.detect([photo]), pad=2)[0]
    pages = [generate_page(np.random.default_rng(9100 + i), 200) for i in range(args.pages)]
    page_masks = [box_mask([b for it in p.items for b in it.boxes], 0, 0, p.image.shape[:2]) for p in pages]
    frames = video_frames()
    frame_masks = masks_for(frames, faces.detect(frames), pad=2)

    rows = {}
    for style, fill in fills.items():
        photo_s, _ = best_time(fill, [photo], [photo_mask], "photo", args.repeat)
        page_s, _ = best_time(fill, [p.image for p in pages], page_masks, "page", args.repeat)
        video_s, filled = best_time(fill, frames, frame_masks, "photo", 1)
        rows[style] = (photo_s, page_s / len(pages), len(frames) / video_s, flicker(filled, frame_masks))
    print(f"CPU, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average "
          f"{os.getloadavg()[0]:.1f}; shipped model {fills['inpaint'].model_id}")
    print(f"photo {PHOTO.name} {photo.shape[1]}x{photo.shape[0]}, {photo_mask.mean():.1%} masked; "
          f"{len(pages)} A4 page(s) at 200 dpi, {np.mean([m.mean() for m in page_masks]):.1%} masked; "
          f"{len(frames)} frames 640x360, {np.mean([m.mean() for m in frame_masks]):.1%} masked")
    print(f"{'style':<8} {'s/photo':>8} {'s/page':>8} {'video fps':>10} {'flicker':>8}")
    for style, (a, b, c, d) in rows.items():
        print(f"{style:<8} {a:8.2f} {b:8.2f} {c:10.1f} {d:8.2f}")
    t, i = rows["telea"], rows["inpaint"]
    print(f"inpaint/telea time: photo {i[0] / t[0]:.1f}x, page {i[1] / t[1]:.1f}x, video {t[2] / i[2]:.1f}x; "
          f"input frames' own change in the masks: {flicker(frames, frame_masks):.2f}")


if __name__ == "__main__":
    main()
