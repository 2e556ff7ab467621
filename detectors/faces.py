"""Face detection with facenet-pytorch's MTCNN (its weights ship inside the package).

Images are scaled down so their longest side is at most ``detect_side`` before detection (a 300 dpi page or a
4K frame would otherwise cost seconds and gigabytes), images of one size are detected as one batch, and each
face box is grown by ``margin`` (a fraction of its size) on every side to cover hair, ears and chin.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from redact.core.errors import DetectorError
from redact.core.images import fit_side
from redact.core.regions import FACE, Region


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
        for i, img in enumerate(images):
            img, s = fit_side(img, self.detect_side)
            scales.append(s)
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
                s = scales[i]
                for b, p, lm in zip(boxes[j], probs[j], points[j]):
                    if p is None or p < self.threshold:
                        continue
                    results[i].append(Face(tuple(float(v) / s for v in b), float(p), np.asarray(lm) / s))
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
