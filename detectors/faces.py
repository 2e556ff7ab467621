"""Face detection with facenet-pytorch's MTCNN (its weights ship inside the package).

Images are scaled down so their longest side is at most ``detect_side`` before detection (a 300 dpi page or a
4K frame would otherwise cost seconds and gigabytes), images of one size are detected as one batch, and each
face box is grown by ``margin`` (a fraction of its size) on every side to cover hair, ears and chin.

**Faces cut by the border.** MTCNN finds a face when it sees most of it: cut by the image's border to 60 % or
less of its width, it is missed, and in a pan or a crop that is where faces enter and leave. So every image is
detected with a mirrored border of ``EDGE_MIRROR`` of its shorter side around it: the visible part of a cut face
and its mirror image make a whole, symmetric face, which MTCNN finds (on the group photo, faces cut to 30-60 % of
their width: 17 of 20 found, against 1 without). A detection is kept when its centre lies in the image (the
mirror image of a whole face near the border lies outside it) and is clipped to the image. It costs the
detector's work on the larger image: 1.7 times the area of a 16:9 frame.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from redact.core.errors import DetectorError
from redact.core.images import fit_side
from redact.core.regions import FACE, Region

EDGE_MIRROR = 0.2  # mirrored border around each image, as a fraction of its shorter side
EDGE_CENTRE = 0.15  # a detection's centre may lie this fraction of its width outside the image (a cut face's
# mirrored whole is centred on the border)


@dataclass
class Face:
    box: tuple[float, float, float, float]  # tight MTCNN box in image pixels
    score: float
    landmarks: np.ndarray  # (5, 2): eyes, nose, mouth corners


class FaceDetector:
    name = "faces"  # its key in redact.core.registry.DETECTORS
    model_id = "facenet-pytorch-2.5.3/mtcnn"

    def __init__(self, device: str = "cpu", detect_side: int = 1280, margin: float = 0.3,
                 threshold: float = 0.7, min_face_size: int = 16):
        import torch
        from facenet_pytorch import MTCNN

        self.torch = torch
        self.device = device
        self.detect_side = detect_side
        self.margin = margin
        self.threshold = threshold
        self.mtcnn = MTCNN(keep_all=True, device=torch.device(device), min_face_size=min_face_size,
                           thresholds=[0.6, 0.7, 0.7], post_process=False, select_largest=False)

    def faces(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Tight face boxes with scores and landmarks, in each image's own pixels."""
        results: list[list[Face]] = [[] for _ in images]
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        scales = []
        small = []
        pads = []
        for i, img in enumerate(images):
            img, s = fit_side(img, self.detect_side)
            pad = int(round(EDGE_MIRROR * min(img.shape[:2])))
            if pad:
                img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
            scales.append(s)
            pads.append(pad)
            small.append(np.ascontiguousarray(img))
            groups[img.shape[:2]].append(i)
        for shape, idx in groups.items():
            if min(shape) < 12:  # MTCNN's smallest input; nothing face-sized fits
                continue
            try:
                batch = np.stack([small[i] for i in idx])
                with self.torch.inference_mode():
                    boxes, probs, points = self.mtcnn.detect(batch, landmarks=True)
            except Exception as exc:  # the detector failed: the file must fail closed
                raise DetectorError(f"face detection failed: {exc}") from exc
            for j, i in enumerate(idx):
                if boxes[j] is None:
                    continue
                s, pad = scales[i], pads[i]
                h, w = shape[0] - 2 * pad, shape[1] - 2 * pad
                for b, p, lm in zip(boxes[j], probs[j], points[j]):
                    if p is None or p < self.threshold:
                        continue
                    x0, y0, x1, y1 = (float(v) - pad for v in b)
                    tol = EDGE_CENTRE * (x1 - x0)
                    if not (-tol <= (x0 + x1) / 2 <= w + tol and -tol <= (y0 + y1) / 2 <= h + tol):
                        continue  # a face's mirror image
                    box = (max(0.0, x0) / s, max(0.0, y0) / s, min(float(w), x1) / s, min(float(h), y1) / s)
                    results[i].append(Face(box, float(p), (np.asarray(lm) - pad) / s))
        return results

    def regions_from_faces(self, faces: Sequence[Face], index: int, width: int, height: int) -> list[Region]:
        out = []
        for f in faces:
            x0, y0, x1, y1 = f.box
            mx, my = (x1 - x0) * self.margin, (y1 - y0) * self.margin
            r = Region(FACE, (x0 - mx, y0 - my * 1.2, x1 + mx, y1 + my), f.score, self.name, index)
            out.append(r.clipped(width, height))
        return out

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0) -> list[list[Region]]:
        return [self.regions_from_faces(fs, start_index + i, img.shape[1], img.shape[0])
                for i, (img, fs) in enumerate(zip(images, self.faces(images)))]
