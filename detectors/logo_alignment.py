"""Logo stage 3, alignment: a proposed pose refined to a homography that lays the reference onto the image.

A pose is first searched over a few turns and scales (``search``: a template pose is up to half a rotation step
and half a pyramid step off, further than ECC reaches on a small mark). The image is sampled in the reference's
frame at the pose (``ImageSampler``), projected on the colour direction
that best matches the reference (the canonical direction of verification), and aligned to the reference's own
projection by ECC: first an affine step on a smoothed small frame (it reaches a template pose that is a
rotation step or a pyramid step off), then a homography at the mark's own size (it takes up perspective). A
step is kept only when it raises the verification score.
"""
from __future__ import annotations

import cv2
import numpy as np

from detectors.logo_references import Reference
from detectors.logo_verification import Frame, canonical, score

COARSE_SIDE = 32  # the search's and the affine step's frame (longest side of the reference in it)
# before ECC, a template pose (up to half a rotation step and half a pyramid step off) is searched over these
# turns (degrees) and scales about its centre, for the best score at COARSE_SIDE
SEARCH_TURNS = (-8.0, 0.0, 8.0)
SEARCH_SCALES = (0.9, 1.0, 1.1)
FINE_SIDES = (32, 48, 64, 96)  # the homography step and the final score run at the nearest to the mark's size
# ECC steps: (frame, motion, iterations, Gaussian smoothing size)
STEPS = (("coarse", cv2.MOTION_AFFINE, 30, 5), ("fine", cv2.MOTION_HOMOGRAPHY, 20, 3))


class ImageSampler:
    """The image as float32 at every octave (built on first use), sampled in a frame at a pose."""

    def __init__(self, image: np.ndarray):
        self.levels = [image.astype(np.float32)]

    def sample(self, frame: Frame, H: np.ndarray, size: float) -> np.ndarray:
        """(n, 3): the image at the frame's pixels for the pose H (reference -> image) of a mark ``size`` px long,
        read from the octave nearest the frame's resolution."""
        depth = max(0, int(np.floor(np.log2(max(size, 1.0) / frame.side))))
        while len(self.levels) <= depth and min(self.levels[-1].shape[:2]) >= 16:
            last = self.levels[-1]
            self.levels.append(cv2.resize(last, (last.shape[1] // 2, last.shape[0] // 2),
                                          interpolation=cv2.INTER_AREA))
        depth = min(depth, len(self.levels) - 1)
        scale = float(2 ** depth)
        to_level = np.array([[1 / scale, 0, 0.5 / scale - 0.5], [0, 1 / scale, 0.5 / scale - 0.5], [0, 0, 1]])
        fh, fw = frame.shape
        out = cv2.warpPerspective(self.levels[depth], to_level @ H @ frame.to_ref, (fw, fh),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(-1, 3)


def mark_size(H: np.ndarray, ref: Reference) -> float:
    """The mark's longest side in the image at pose H (pixels, approximately)."""
    w, h = ref.size
    return float(np.sqrt(abs(np.linalg.det(H[:2, :2])))) * max(w, h)


def plausible(H: np.ndarray, ref: Reference) -> bool:
    """A pose that is a convex quadrilateral of sensible proportions."""
    w, h = ref.size
    q = cv2.perspectiveTransform(np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), H)[0]
    if not np.isfinite(q).all() or not cv2.isContourConvex(q.astype(np.float32)):
        return False
    edges = np.linalg.norm(q - np.roll(q, 1, axis=0), axis=1)
    return edges.min() >= 4 and edges.max() / edges.min() < 4 * max(w, h) / min(w, h)


def ecc_step(frame: Frame, samples: np.ndarray, H: np.ndarray, motion: int, iterations: int,
             smoothing: int) -> np.ndarray | None:
    """H refined by ECC alignment of the samples' best colour projection to the reference's; None when ECC does
    not converge."""
    compared = frame.compared.ravel()
    _, a, b = canonical(samples[compared], frame.features[0][0])
    template = np.zeros(compared.shape, np.float32)
    template[compared] = frame.features[0][0].values @ b
    template[~compared] = template[compared].mean()
    template = np.ascontiguousarray(template.reshape(frame.shape))
    image = np.ascontiguousarray((samples @ a).reshape(frame.shape).astype(np.float32))
    warp = np.eye(3 if motion == cv2.MOTION_HOMOGRAPHY else 2, 3, dtype=np.float32)
    try:
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-4)
        _, warp = cv2.findTransformECC(template, image, warp, motion, criteria, None, smoothing)
    except cv2.error:
        return None
    if warp.shape[0] == 2:
        warp = np.vstack([warp, [0, 0, 1]])
    return H @ frame.to_ref @ warp.astype(np.float64) @ np.linalg.inv(frame.to_ref)


def fine_frame(frames: dict[int, Frame], size: float) -> Frame:
    """The frame of FINE_SIDES nearest a mark ``size`` px long."""
    return frames[min(FINE_SIDES, key=lambda s: abs(s - min(size, FINE_SIDES[-1])))]


def search(sampler: ImageSampler, ref: Reference, frame: Frame, H: np.ndarray) -> np.ndarray:
    """The pose among H turned by SEARCH_TURNS and scaled by SEARCH_SCALES about the mark's centre that scores
    best at the coarse frame."""
    w, h = ref.size
    to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    best, best_H = -2.0, H
    for degrees in SEARCH_TURNS:
        a = np.deg2rad(degrees)
        for s in SEARCH_SCALES:
            turn = np.array([[s * np.cos(a), -s * np.sin(a), 0], [s * np.sin(a), s * np.cos(a), 0], [0, 0, 1.0]])
            H2 = H @ np.linalg.inv(to_centre) @ turn @ to_centre
            value = score(sampler.sample(frame, H2, mark_size(H2, ref)), frame)
            if value > best:
                best, best_H = value, H2
    return best_H


def align(sampler: ImageSampler, ref: Reference, frames: dict[int, Frame], H: np.ndarray) -> tuple[float, np.ndarray]:
    """(verification score, pose) after the alignment steps, each kept only when it raises the score at the
    mark's own size."""

    def fine(H: np.ndarray) -> Frame:
        return fine_frame(frames, mark_size(H, ref))

    def scored(H: np.ndarray) -> float:
        f = fine(H)
        return score(sampler.sample(f, H, mark_size(H, ref)), f)

    best_H, best = search(sampler, ref, frames[COARSE_SIDE], H), -1.0
    best = scored(best_H)
    for which, motion, iterations, smoothing in STEPS:
        frame = frames[COARSE_SIDE] if which == "coarse" else fine(best_H)
        H2 = ecc_step(frame, sampler.sample(frame, best_H, mark_size(best_H, ref)), best_H, motion, iterations,
                      smoothing)
        if H2 is None or not plausible(H2, ref):
            continue
        s = scored(H2)
        if s > best:
            best_H, best = H2, s
    return best, best_H
