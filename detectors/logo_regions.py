"""Pose proposals for one-colour logos from the image's colour regions.

A flat mark printed on a photo is a region (or a few regions, one per part) of one colour. The image is reduced
so that the smallest logo this stage looks for is ``WORK_SIDE`` px long, quantised to a few colours (k-means in
Lab, twice: ``COLOURS``), and split into connected regions of one colour. Each region is compared with each large
part of every reference by its **moment-normalised shape**: both are mapped to the frame in which their pixel
covariance is the identity (which removes scale, stretch and perspective's first-order effect), where shapes
related by an affine map differ only by a rotation; the rotation is found by comparing the region with the part
drawn at ``ROTATIONS`` angles. A region that matches a part well gives an affine pose of the whole reference,
which the detector's verification refines and checks like any other proposal.

This finds large marks that the templates propose poorly: a mark on strong texture (stripes, planks), or
turned and tilted between the templates' steps. Its cost hardly depends on the number of references (one
matrix product compares every region with every part at every angle). Textured (many-colour) references are left
to the templates and keypoints.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

WORK_SIDE = 24  # the smallest logo looked for is this long (pixels) in the reduced image
SMALLEST = 48  # smallest logo this stage proposes (longest side, image pixels)
COLOURS = (6, 12)  # the image is quantised to each of these numbers of colours
SAMPLES = 5000  # pixels k-means is fitted on (the rest are assigned to the nearest colour)
GRID = 32  # side of the moment-normalised shape images
EXTENT = 2.5  # they span this many standard deviations either side of the centroid
ROTATIONS = 36  # angles a part is compared at (every 10 degrees)
MIN_PART = 0.2  # a reference part must hold this fraction of its silhouette to be matched on its own
MAX_PARTS = 3  # largest parts matched per reference
MIN_REGION = 40  # least pixels of a region in the reduced image
MATCH = 0.8  # least shape agreement (Dice overlap of the normalised shapes) of a proposal
SECOND = 0.03  # other angles within this much of a pair's best are proposed too (symmetric parts)
POSES = 12  # poses proposed per reference and image (best agreement first, one per place)
ANGLES_PER_PAIR = 3  # of one region and one part, at most this many angles (a symmetric part fits at several)
# two poses of a reference are at one place when their centres are closer than SAME_PLACE of the larger one's size
# and their sizes are within SAME_SIZE of each other (the rule the detector's proposals are thinned by, too)
SAME_PLACE = 0.25
SAME_SIZE = 1.4
SAME_ANGLE = 20.0  # here poses at one place are kept apart when their angles differ by this many degrees or more


def same_place(centres: np.ndarray, sizes: np.ndarray, centre: np.ndarray, size: float) -> np.ndarray:
    """Which of the poses (centres (n, 2), sizes (n,)) are at the same place as the pose (centre, size)."""
    big, small = np.maximum(sizes, size), np.minimum(sizes, size)
    return (np.linalg.norm(centres - centre, axis=1) < SAME_PLACE * big) & (big < SAME_SIZE * small)


@dataclass
class Part:
    reference: int  # index of the reference
    shapes: np.ndarray  # float32 (ROTATIONS, GRID * GRID): the normalised part at every angle, flattened
    from_ref: list[np.ndarray]  # per angle, 3x3: reference pixels -> normalised (identity-covariance) coordinates


def moments_frame(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(centroid (2,), covariance square root (2, 2)) of a mask's pixels, or None for a degenerate one."""
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    if m["m00"] < 3:
        return None
    mu = np.array([m["m10"], m["m01"]]) / m["m00"]
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    values, vectors = np.linalg.eigh(cov)
    if values.min() <= 0.05 or values.max() / values.min() > 400:
        return None
    return mu, vectors @ np.diag(np.sqrt(values)) @ vectors.T


def normalised_shape(mask: np.ndarray, mu: np.ndarray, root: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """The mask drawn in its identity-covariance frame turned by ``turn`` (2x2), GRID px square, flattened."""
    k = GRID / (2 * EXTENT)
    A = k * turn @ np.linalg.inv(root)
    M = np.hstack([A, (GRID / 2 - 0.5 - A @ mu)[:, None]])
    pixels_per_cell = 1.0 / max(float(np.sqrt(abs(np.linalg.det(A)))), 1e-9)
    image = mask.astype(np.float32)
    if pixels_per_cell > 1.5:  # many mask pixels per grid cell: smooth first so the drawing does not alias
        image = cv2.GaussianBlur(image, (0, 0), 0.5 * pixels_per_cell)
    return cv2.warpAffine(image, M, (GRID, GRID), flags=cv2.INTER_LINEAR, borderValue=0).ravel()


def reference_parts(index: int, silhouette: np.ndarray) -> list[Part]:
    """The reference's largest connected parts, each drawn normalised at every angle."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(silhouette.astype(np.uint8), connectivity=8)
    total = float(silhouette.sum())
    order = sorted(range(1, count), key=lambda j: -stats[j, cv2.CC_STAT_AREA])
    parts = []
    for j in order[:MAX_PARTS]:
        if stats[j, cv2.CC_STAT_AREA] < MIN_PART * total:
            break
        mask = labels == j
        frame = moments_frame(mask)
        if frame is None:
            continue
        mu, root = frame
        shapes, from_ref = [], []
        for r in range(ROTATIONS):
            a = 2 * np.pi * r / ROTATIONS
            turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            shapes.append(normalised_shape(mask, mu, root, turn))
            # normalised coordinates u = turn @ root^-1 @ (y - mu)
            B = turn @ np.linalg.inv(root)
            from_ref.append(np.vstack([np.hstack([B, (-B @ mu)[:, None]]), [0, 0, 1]]))
        parts.append(Part(index, np.float32(shapes), from_ref))
    return parts


def quantise(lab: np.ndarray, colours: int, rng: np.random.Generator) -> np.ndarray:
    """Labels (H, W) of the image's pixels after k-means in Lab fitted on a sample (deterministic: fixed seed)."""
    pixels = lab.reshape(-1, 3)
    sample = np.ascontiguousarray(pixels[rng.choice(len(pixels), min(SAMPLES, len(pixels)), replace=False)])
    centres = sample[[0]]
    for _ in range(colours - 1):  # k-means++ initialisation (our own generator: the same image, the same colours)
        d = ((sample[:, None, :] - centres[None]) ** 2).sum(-1).min(1)
        centres = np.vstack([centres, sample[rng.choice(len(sample), p=d / d.sum()) if d.sum() > 0 else 0]])
    initial = ((sample[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1).astype(np.int32)[:, None]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 0.5)
    _, _, centres = cv2.kmeans(sample, len(centres), initial, criteria, 1, cv2.KMEANS_USE_INITIAL_LABELS)
    # nearest centre of every pixel: |p|^2 - 2 p.c + |c|^2, the |p|^2 term dropped
    scores = pixels @ (-2 * centres.T) + (centres ** 2).sum(1)
    return scores.argmin(1).reshape(lab.shape[:2]).astype(np.uint8)


class RegionIndex:
    """Every flat reference's large parts, drawn normalised at every angle once per job."""

    def __init__(self, silhouettes: Sequence[np.ndarray], flat: Sequence[bool]):
        self.count = len(silhouettes)
        self.sizes = [(s.shape[1], s.shape[0]) for s in silhouettes]
        self.parts = [p for i, (s, f) in enumerate(zip(silhouettes, flat)) if f for p in reference_parts(i, s)]
        self.bank = np.vstack([p.shapes for p in self.parts]) if self.parts else np.zeros((0, GRID * GRID))
        self.bank_norms = (self.bank ** 2).sum(1)

    def poses(self, image: np.ndarray) -> list[list[np.ndarray]]:
        """Per reference: up to POSES affine poses (3x3, reference pixels -> image pixels), best first."""
        out: list[list[tuple[float, np.ndarray]]] = [[] for _ in range(self.count)]
        h, w = image.shape[:2]
        if not self.parts or max(h, w) < SMALLEST:  # no logo this stage looks for fits
            return [[] for _ in range(self.count)]
        scale = min(1.0, WORK_SIDE / SMALLEST)
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        sx, sy = w / small.shape[1], h / small.shape[0]
        to_image = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
        lab = cv2.cvtColor(cv2.GaussianBlur(small, (0, 0), 0.7).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        rng = np.random.default_rng(0)
        shapes, frames = [], []
        largest = 0.5 * small.shape[0] * small.shape[1]
        for colours in COLOURS:
            labels = quantise(lab, colours, rng)
            for c in range(colours):
                n, comp, stats, _ = cv2.connectedComponentsWithStats((labels == c).astype(np.uint8), connectivity=8)
                for j in range(1, n):
                    x, y, bw, bh, area = stats[j]
                    if area < MIN_REGION or area > largest:
                        continue
                    mask = comp[y:y + bh, x:x + bw] == j
                    frame = moments_frame(mask)
                    if frame is None:
                        continue
                    mu, root = frame
                    shapes.append(normalised_shape(mask, mu, root, np.eye(2)))
                    frames.append((mu + [x, y], root))
        if not shapes:
            return [[] for _ in range(self.count)]
        regions = np.float32(shapes)
        dot = regions @ self.bank.T  # (regions, parts * ROTATIONS)
        dice = 2 * dot / ((regions ** 2).sum(1)[:, None] + self.bank_norms[None] + 1e-9)
        dice = dice.reshape(len(regions), len(self.parts), ROTATIONS)
        best_angle = dice.max(2)
        for ri, pi in zip(*np.nonzero(best_angle >= MATCH)):
            part, row = self.parts[pi], dice[ri, pi]
            mu, root = frames[ri]
            # region pixels: x = mu + root @ u for normalised coordinates u
            from_normal = np.vstack([np.hstack([root, mu[:, None]]), [0, 0, 1]])
            best = float(row.max())
            peaks = [r for r in range(ROTATIONS) if row[r] >= best - SECOND
                     and row[r] >= row[r - 1] and row[r] >= row[(r + 1) % ROTATIONS]]
            for r in sorted(peaks, key=lambda r: -row[r])[:ANGLES_PER_PAIR]:
                H = to_image @ from_normal @ part.from_ref[r]
                out[part.reference].append((float(row[r]), H))
        return [distinct(found, *size) for found, size in zip(out, self.sizes)]


def distinct(found: list[tuple[float, np.ndarray]], w: int, h: int) -> list[np.ndarray]:
    """The POSES best poses (reference w x h px) that differ in place, size or angle."""
    centres, sizes, angles = [], [], []
    poses = []
    for _, H in sorted(found, key=lambda f: -f[0]):
        c = H @ [w / 2, h / 2, 1.0]
        centre, size = c[:2] / c[2], float(np.sqrt(abs(np.linalg.det(H[:2, :2])))) * max(w, h)
        angle = float(np.degrees(np.arctan2(H[1, 0], H[0, 0])))
        if poses and (same_place(np.array(centres), np.array(sizes), centre, size)
                      & (np.abs((angle - np.array(angles) + 180) % 360 - 180) < SAME_ANGLE)).any():
            continue
        centres.append(centre), sizes.append(size), angles.append(angle)
        poses.append(H)
        if len(poses) == POSES:
            break
    return poses
