"""The independent leak check for redacted videos (used by tests/test_video.py and benchmarks/bench_video.py).

On every frame where MTCNN (facenet-pytorch, its default settings, on the full-size input frame) finds a face
with probability > 0.9, the output frame leaks when

- MTCNN on the output frame finds a face with probability > 0.9 overlapping that face, or
- the patch around any of the face's five input landmarks (eyes, nose, mouth corners) is unchanged: a mask
  that slid off the face (deface's ellipse behind a hand) can hide the face from a detector and still show
  an eye.

It knows nothing of how the output was made, so it checks any tool's output the same way.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import av
import numpy as np
import torch

FACE_PROB = 0.9
PATCH = 0.08  # landmark patch half-size, as a fraction of the face box's width (at least 3 pixels)
CHANGED = 12.0  # mean absolute difference (0-255) above which a patch counts as changed; H.264 noise is ~1-3


@dataclass
class LeakReport:
    frames: int = 0  # frames compared
    face_frames: int = 0  # frames where the input has a face
    detected: int = 0  # face frames where MTCNN still finds a face in the output
    uncovered: int = 0  # face frames where a landmark's patch did not change
    leaked_frames: tuple[int, ...] = ()  # frames with either kind of leak

    @property
    def leaked(self) -> int:
        return len(self.leaked_frames)


def make_mtcnn():
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu")  # facenet-pytorch's defaults: min face 20, thresholds 0.6/0.7/0.7


def decode_rgb(path, limit: int | None = None) -> list[np.ndarray]:
    """Frames as displayed (display rotation applied), RGB."""
    with av.open(str(path)) as c:
        out = []
        for f in c.decode(video=0):
            img = f.to_ndarray(format="rgb24")
            k = int(round(f.rotation)) % 360 // 90
            out.append(np.ascontiguousarray(np.rot90(img, k)) if k else img)
            if limit and len(out) >= limit:
                break
    return out


def _faces(mtcnn, frames: list[np.ndarray], batch: int = 8):
    """Faces above FACE_PROB per frame. Batches run side by side in threads with one torch thread each: torch's
    own intra-op threads wait on each other at every layer, which on a busy machine made this check several
    times slower (82 s instead of 10 s for one clip)."""

    def detect(start: int):
        with torch.inference_mode():  # not torch.set_grad_enabled(False): that would leak into other tests
            return mtcnn.detect(np.stack(frames[start:start + batch]), landmarks=True)

    res = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
            found = list(pool.map(detect, range(0, len(frames), batch)))
    finally:
        torch.set_num_threads(threads)
    for boxes, probs, points in found:
        for b, p, lm in zip(boxes, probs, points):
            if b is None:
                res.append([])
                continue
            res.append([(bb, float(pp), ll) for bb, pp, ll in zip(b, p, lm) if pp is not None and pp > FACE_PROB])
    return res


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def landmark_changed(before: np.ndarray, after: np.ndarray, box, point) -> bool:
    h, w = before.shape[:2]
    r = max(3, int(round(PATCH * (box[2] - box[0]))))
    x, y = int(round(point[0])), int(round(point[1]))
    x0, x1, y0, y1 = max(0, x - r), min(w, x + r + 1), max(0, y - r), min(h, y + r + 1)
    if x1 <= x0 or y1 <= y0:
        return True  # outside the frame: nothing there to show
    diff = np.abs(before[y0:y1, x0:x1].astype(np.int16) - after[y0:y1, x0:x1].astype(np.int16)).mean()
    return bool(diff > CHANGED)


def check(mtcnn, inputs: list[np.ndarray], outputs: list[np.ndarray]) -> LeakReport:
    """Compare input and output frames (same count, same size) for leaked faces."""
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} input frames but {len(outputs)} output frames")
    in_faces = _faces(mtcnn, inputs)
    face_idx = [i for i, f in enumerate(in_faces) if f]
    out_faces = dict(zip(face_idx, _faces(mtcnn, [outputs[i] for i in face_idx]))) if face_idx else {}
    rep = LeakReport(frames=len(inputs), face_frames=len(face_idx))
    leaked = []
    for i in face_idx:
        seen = any(_overlap(fb, ob) for fb, _, _ in in_faces[i] for ob, _, _ in out_faces[i])
        bare = any(not landmark_changed(inputs[i], outputs[i], fb, pt) for fb, _, lm in in_faces[i] for pt in lm)
        rep.detected += seen
        rep.uncovered += bare
        if seen or bare:
            leaked.append(i)
    rep.leaked_frames = tuple(leaked)
    return rep
