"""Logo stage 4, verification: how well the image, sampled in a reference's frame at a pose, agrees with the
reference, in two steps.

1. The **canonical correlation** (below), which alignment also climbs: a pose below ``GATE`` is rejected.
2. The **verifier**: a logistic model (``Verifier``, weights in ``logo_verifier.json``, trained by
   ``scripts/train_logo_verifier.py`` on poses the proposal and alignment stages produced on the realistic bench's
   tuning seeds) weighs a few measures of agreement (``evidence``). True marks and clutter reach the same
   canonical correlation (0.80-0.92); what tells them apart is a second colour direction that agrees, a sharp
   peak (shifted a little, a true pose scores much less) and edges that agree. A pose is kept when the
   model's probability reaches the job's ``logo_threshold``.

The canonical correlation is the first **canonical correlation** between the image's colours (n, 3) and the reference's features
(n, k) over the frame: the best correlation between any mix of the image's three channels and any mix of the
reference's features. So a mark printed in another colour, inverted, or under a colour cast scores as the
original does. The features are the reference's three colours inside the logo (the mark, or the whole box of an
opaque reference) and an indicator of the inside, so a mark of several colours must agree in all of them, and
what lies around it (any background) is one free level, not a value it must match.

A small mark in a blurred or compressed image is only as sharp as its capture: the reference is also compared
blurred (``VERIFY_BLURS``), and a blurred comparison, which fits clutter more easily, must score higher.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.logo_references import Reference, image_edges, reference_edges

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
    features: tuple[tuple["Features", float], ...]  # ((n, k) features, penalty) per VERIFY_BLURS entry
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
            features.append((Features(np.stack([b[compared] for b in blurred], axis=1)), penalty))
        sx, sy = w / tw, h / th
        return cls(side, drawn[0].shape, tuple(features), compared,
                   np.array([[sx, 0, -pad * sx], [0, sy, -pad * sy], [0, 0, 1.0]]))


class Features:
    """One side of a canonical correlation that is compared many times (a frame's features, (n, q)), with its
    mean and the inverse of its ridged covariance computed once."""

    def __init__(self, values: np.ndarray):
        self.values = values
        y = values.astype(np.float64)
        self.y, self.mean = y, y.mean(axis=0)
        centred = y - self.mean
        self.inverse = np.linalg.inv(centred.T @ centred + np.eye(y.shape[1]) * (1e-6 * len(y) + 1e-9))


def _cca(x: np.ndarray, y: np.ndarray | Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, Cyy^-1, Cxy) of x (n, p) and y (n, q), centred and ridged: M = Cxx^-1 Cxy Cyy^-1 Cyx, whose
    eigenvalues are the squared canonical correlations."""
    y = y if isinstance(y, Features) else Features(y)
    x = x.astype(np.float64)
    n = len(x)
    mx = x.mean(axis=0)
    cxx = x.T @ x - n * np.outer(mx, mx) + np.eye(x.shape[1]) * (1e-2 * n)  # ridge: a flat patch has no colour
    cxy = x.T @ y.y - n * np.outer(mx, y.mean)
    return np.linalg.solve(cxx, cxy) @ (y.inverse @ cxy.T), y.inverse, cxy


def canonical(x: np.ndarray, y: np.ndarray | Features) -> tuple[float, np.ndarray, np.ndarray]:
    """The first canonical correlation of x (n, p) and y (n, q), and the two directions (p,), (q,) that reach
    it."""
    m, cyy_inverse, cxy = _cca(x, y)
    values, vectors = np.linalg.eig(m)
    i = int(np.argmax(values.real))
    a = vectors[:, i].real
    b = cyy_inverse @ (cxy.T @ a)
    return float(np.sqrt(max(0.0, min(1.0, values[i].real)))), a, b


def score(samples: np.ndarray, frame: Frame) -> float:
    """The best canonical correlation of the samples (the frame's pixels, (n, 3)) with the frame's features at
    any blur, less that blur's penalty."""
    samples = samples[frame.compared.ravel()]
    return max(canonical(samples, f)[0] - penalty for f, penalty in frame.features)


# ---------------------------------------------------------------- the learned verifier

MODEL_PATH = Path(__file__).with_name("logo_verifier.json")  # trained by scripts/train_logo_verifier.py
VERIFY_SIDE = 48  # the evidence is computed in the reference's frame of this side, whatever the mark's size
GATE = 0.8  # a pose whose canonical correlation is below this is rejected without weighing the rest
SHIFT = 0.08  # the sharpness evidence compares the pose with poses shifted by this fraction of the frame
EVIDENCE = ("canonical", "canonical_blurred", "second_canonical", "gradient", "sharpness", "edges")
def edge_agreement(image: np.ndarray, frame: Frame) -> float:
    """How well the edges' orientation in the image (the frame's pixels, (fh, fw, 3)) follows the reference's,
    whatever their colours: the reference printed on white (its colours inside the mark, white around it, and
    its outline) against the image's colours, both in log, so ink multiplied into a lit, textured surface keeps
    the reference's edges. Per compared pixel, the image's orientation (its tensor normalised, a weak edge less
    than a strong one) weighed by the reference's edge strength, in [-1, 1]."""
    planes = np.zeros((frame.compared.size, 4), np.float32)
    planes[frame.compared.ravel()] = frame.features[0][0].values
    theirs = reference_edges(planes.reshape(*frame.shape, 4))
    mine = image_edges(image)
    theirs, mine = theirs[frame.compared], mine[frame.compared]
    strength = np.linalg.norm(mine, axis=1)
    mine = mine / (strength + 0.05 * strength.mean() + 1e-6)[:, None]
    return float((mine * theirs).sum() / max(np.linalg.norm(theirs, axis=1).sum(), 1e-9))


def correlations(x: np.ndarray, y: np.ndarray | Features) -> np.ndarray:
    """All canonical correlations of x (n, p) and y (n, q), largest first (the same ridge as ``canonical``)."""
    values = np.linalg.eigvals(_cca(x, y)[0]).real
    return np.sqrt(np.clip(np.sort(values)[::-1], 0.0, 1.0))


def evidence(sampler, frame: Frame, H: np.ndarray, size: float) -> np.ndarray:
    """What the verifier weighs (``EVIDENCE``) for the image at pose H (reference -> image) of a mark ``size``
    px long, sampled in ``frame`` by ``sampler`` (an ``ImageSampler``):

    - canonical, canonical_blurred, second_canonical: the first canonical correlation of the image's colours with
      the reference's features sharp and blurred, and the second one (a mark of several colours agrees in more
      than one colour direction; clutter rarely does);
    - gradient: the correlation of the gradients of the image's best colour projection and the reference's;
    - sharpness: how much the first correlation drops when the pose is shifted by SHIFT of the frame (a true
      pose is a sharp peak; clutter that fits a blob is a broad one);
    - edges: ``edge_agreement``, evidence that does not rest on the colours inside the mark (a print's ink is
      multiplied into the surface's texture and light).

    Dropped on the refit over tuning seeds 2-7 (``scripts/train_logo_verifier.py fit`` prints what each measure
    earns): the mark's log size (no true pose gained) and the correlation with the reference blurred by the
    capture's blur carried into the frame (1.5 image pixels; it earns what canonical_blurred earns, not more)."""
    compared = frame.compared.ravel()
    full = sampler.sample(frame, H, size)
    samples = full[compared]
    sharp, blurred = frame.features[0][0], frame.features[1][0]
    rho = correlations(samples, sharp)

    def shifted(dx: float, dy: float) -> float:  # the first correlation at the pose shifted (frame pixels)
        move = frame.to_ref @ np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]]) @ np.linalg.inv(frame.to_ref)
        return correlations(sampler.sample(frame, H @ move, size)[compared], sharp)[0]

    step = SHIFT * max(frame.shape)

    _, pa, pb = canonical(samples, sharp)
    mine = (full @ pa).reshape(frame.shape).astype(np.float32)
    theirs = np.zeros(compared.shape, np.float32)
    theirs[compared] = sharp.values @ pb
    theirs[~compared] = theirs[compared].mean()
    theirs = theirs.reshape(frame.shape)
    g = [np.stack([cv2.Sobel(m, cv2.CV_32F, 1, 0), cv2.Sobel(m, cv2.CV_32F, 0, 1)], axis=-1)[frame.compared].ravel()
         for m in (mine, theirs)]
    gradient = float(g[0] @ g[1] / max(np.linalg.norm(g[0]) * np.linalg.norm(g[1]), 1e-9))

    return np.array([rho[0], max(canonical(samples, blurred)[0], 0.0), rho[1], gradient,
                     rho[0] - max(shifted(*d) for d in ((step, 0), (-step, 0), (0, step), (0, -step))),
                     edge_agreement(full.reshape(*frame.shape, 3), frame)])


class Verifier:
    """The logistic model (detectors/logo_verifier.json) that turns the evidence into a probability that the pose
    lies on the mark."""

    def __init__(self, path: Path = MODEL_PATH):
        model = json.loads(path.read_text())
        if tuple(model["evidence"]) != EVIDENCE:
            raise ValueError(f"{path.name} weighs other evidence than this code computes")
        self.mean, self.std = np.array(model["mean"]), np.array(model["std"])
        self.weights, self.bias = np.array(model["weights"]), float(model["bias"])

    def probability(self, evidence: np.ndarray) -> float:
        z = (evidence - self.mean) / self.std
        return float(1 / (1 + np.exp(-(z @ self.weights + self.bias))))
