"""Logo stage 4, verification: how well the image, sampled in a reference's frame at a pose, agrees with the
reference; a pose is kept when this score reaches the job's ``logo_threshold``.

The score is the first **canonical correlation** between the image's colours (n, 3) and the reference's features
(n, k) over the frame: the best correlation between any mix of the image's three channels and any mix of the
reference's features. So a mark printed in another colour, inverted, or under a colour cast scores as the
original does. The features are the reference's three colours inside the logo (the mark, or the whole box of an
opaque reference) and an indicator of the inside, so a mark of several colours must agree in all of them, and
what lies around it (any background) is one free level, not a value it must match.

A small mark in a blurred or compressed image is only as sharp as its capture: the reference is also compared
blurred (``VERIFY_BLURS``), and a blurred comparison, which fits clutter more easily, must score higher.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detectors.logo_references import Reference

MARGIN = 0.15  # background ring around the reference in its frame, as a fraction of its longest side
RING = 0.08  # the pixels compared: the inside and this much around it (fraction of the longest side)
VERIFY_BLURS = ((0.0, 0.0), (1.0, 0.03))  # (Gaussian sigma in frame pixels, score penalty)


@dataclass
class Frame:
    """The reference drawn ``side`` px long (longest side) inside a MARGIN ring: its features (n, k) per blur, the
    pixels compared (the inside and a RING around it: further out, a transparent mark's background is not its
    business), and the 3x3 map from frame pixels to reference pixels."""

    side: int
    shape: tuple[int, int]  # (fh, fw)
    features: tuple[tuple[np.ndarray, float], ...]  # ((n, k) float32 features, penalty) per VERIFY_BLURS entry
    compared: np.ndarray  # bool (fh, fw)
    to_ref: np.ndarray

    @classmethod
    def of(cls, ref: Reference, side: int) -> "Frame":
        w, h = ref.size
        s = side / max(w, h)
        tw, th = max(2, round(w * s)), max(2, round(h * s))
        pad = int(round(MARGIN * side))
        inside = ref.inside.astype(np.float32)
        planes = [ref.rgb[..., c].astype(np.float32) / 255 * inside for c in range(3)] + [inside]
        drawn = [np.pad(cv2.resize(p, (tw, th), interpolation=cv2.INTER_AREA), pad) for p in planes]
        ring = 2 * int(round(RING * side)) + 1
        compared = cv2.dilate((drawn[-1] > 0.5).astype(np.uint8), np.ones((ring, ring), np.uint8)).astype(bool)
        features = []
        for sigma, penalty in VERIFY_BLURS:
            blurred = [cv2.GaussianBlur(d, (0, 0), sigma) if sigma else d for d in drawn]
            features.append((np.stack([b[compared] for b in blurred], axis=1), penalty))
        sx, sy = w / tw, h / th
        return cls(side, drawn[0].shape, tuple(features), compared,
                   np.array([[sx, 0, -pad * sx], [0, sy, -pad * sy], [0, 0, 1.0]]))


def canonical(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The first canonical correlation of x (n, p) and y (n, q), and the two directions (p,), (q,) that reach
    it."""
    x = x.astype(np.float64) - x.mean(axis=0)
    y = y.astype(np.float64) - y.mean(axis=0)
    n = len(x)
    cxx = x.T @ x + np.eye(x.shape[1]) * (1e-2 * n)  # ridge: a flat patch has no colour direction
    cyy = y.T @ y + np.eye(y.shape[1]) * (1e-6 * n + 1e-9)
    cxy = x.T @ y
    m = np.linalg.solve(cxx, cxy) @ np.linalg.solve(cyy, cxy.T)
    values, vectors = np.linalg.eig(m)
    i = int(np.argmax(values.real))
    a = vectors[:, i].real
    b = np.linalg.solve(cyy, cxy.T @ a)
    return float(np.sqrt(max(0.0, min(1.0, values[i].real)))), a, b


def score(samples: np.ndarray, frame: Frame) -> float:
    """The best canonical correlation of the samples (the frame's pixels, (n, 3)) with the frame's features at
    any blur, less that blur's penalty."""
    samples = samples[frame.compared.ravel()]
    return max(canonical(samples, f)[0] - penalty for f, penalty in frame.features)
