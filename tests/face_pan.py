"""A camera pan across a real group photo (../shared/data/faces), as a video with the ground truth of every face
instance on every frame. Used by tests/test_face_pan.py.

The ground truth comes from the full-size photo: MTCNN (facenet-pytorch) finds every face there, at a
resolution where all are large enough, once; each face's tight box is then carried into each frame by the crop
window's offset. A face instance is *visible* on a frame when at least ``VISIBLE`` of its box's area lies inside
the frame: faces entering, leaving, and cut by the frame's border count as well as whole ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VISIBLE = 0.2  # share of a face box inside the frame for the instance to count


@dataclass
class Pan:
    frames: list[np.ndarray]  # RGB
    boxes: list[list[tuple[float, float, float, float]]]  # per frame: the visible faces' boxes, clipped
    faces: list[list[int]]  # per frame: which of the photo's faces each box is
    offsets: list[tuple[int, int]]  # per frame: the window's top-left corner in the photo


def pan(photo: np.ndarray, faces: list[tuple[float, float, float, float]], size: tuple[int, int],
        start: tuple[int, int], end: tuple[int, int], count: int) -> Pan:
    """``count`` crops of ``size`` (w, h) whose top-left corner moves evenly from ``start`` to ``end``."""
    w, h = size
    frames, boxes, which, offsets = [], [], [], []
    for i in range(count):
        t = i / max(1, count - 1)
        x, y = round(start[0] + (end[0] - start[0]) * t), round(start[1] + (end[1] - start[1]) * t)
        offsets.append((x, y))
        frames.append(np.ascontiguousarray(photo[y:y + h, x:x + w]))
        here, ids = [], []
        for j, (x0, y0, x1, y1) in enumerate(faces):
            cx0, cy0, cx1, cy1 = max(x0 - x, 0), max(y0 - y, 0), min(x1 - x, w), min(y1 - y, h)
            if cx1 > cx0 and cy1 > cy0 and (cx1 - cx0) * (cy1 - cy0) >= VISIBLE * (x1 - x0) * (y1 - y0):
                here.append((cx0, cy0, cx1, cy1))
                ids.append(j)
        boxes.append(here)
        which.append(ids)
    return Pan(frames, boxes, which, offsets)


def write_clip(path: Path, frames: list[np.ndarray], rate: int = 25) -> None:
    """H.264 at CRF 18. The bundled encoder does not give the same file twice for the same frames in one process
    (measured: pixels up to 36 levels apart, on one encoder thread too), so a comparison of two versions of the
    code must run both on the same file (``bench_face_pan.py --clips``)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(rate))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def blacked(frame: np.ndarray) -> np.ndarray:
    return frame.max(axis=2) < 48  # the box fill after H.264


def unmasked(output: list[np.ndarray], truth: Pan, covered: float = 0.95) -> list[tuple[int, tuple, float]]:
    """(frame, visible box, share blacked) of every face instance of which less than ``covered`` is blacked."""
    bad = []
    for i, (image, boxes) in enumerate(zip(output, truth.boxes)):
        black = blacked(image)
        for box in boxes:
            x0, y0, x1, y1 = (int(round(v)) for v in box)
            share = float(black[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 1.0
            if share < covered:
                bad.append((i, box, share))
    return bad
