"""Logo stage 2, proposals: where each reference may be in an image, as poses (3x3 homographies, reference
pixels -> image pixels), three ways.

- **Keypoints**, for marks of about 64 px and more: SIFT keypoints of the image (once per image, on a copy at
  most ``KEYPOINT_SIDE`` long, whatever the number of references) are matched to all references' descriptors at
  once, kept by Lowe's ratio test, and a similarity is fitted to each reference's matches by RANSAC (up to
  ``KEY_POSES`` instances). Alignment then takes up perspective.
- **Colour templates**, for small marks (``MIN_LOGO`` to ``TEMPLATE_LARGEST`` px, and a few larger poses),
  which have too few keypoints: the image is resized to a pyramid whose levels bring those sizes to the
  templates' size, each level's colours are whitened (each pixel's colour less its window's mean, decorrelated
  by the window's colour covariance), and each template's response is its correlation with the best combination
  of the three whitened channels: a mark in any colour or contrast responds as its grey reference does. The
  strongest local maxima, one per place, are poses. On the fine levels (marks under ``TURNED_EVERYWHERE`` px,
  most of the cost) the turned templates are correlated only near the upright template's strongest peaks.
- **Edge templates**, for marks from ``EDGE_SMALLEST`` px to the whole image: on the same pyramid, carried on
  down to a level where the mark is as long as the image, the orientation of the image's edges in log colour is
  compared with the upright template's edges (``edge_response``). Ink multiplied into a textured, lit surface
  (a print) keeps its edges where its colours and its keypoints' descriptors are lost.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from detectors.logo_references import SIFT, TEMPLATE_ANGLES, TEMPLATE_SIDE, Reference, Template, image_edges

KEYPOINT_SIDE = 1024  # keypoints are computed on a copy of the image at most this long (longest side)
KEY_RATIO = 0.8  # ratio test: a match is kept when its nearest reference descriptor is this much nearer than
# the nearest descriptor of another feature (among its KEY_NEIGHBOURS nearest; a feature's copies lie within
# SAME_FEATURE of the reference's longest side of it)
KEY_NEIGHBOURS = 8
SAME_FEATURE = 0.05
KEY_INLIERS = 5  # least RANSAC inliers of a keypoint pose
KEY_REPROJECTION = 0.02  # RANSAC inlier distance, as a fraction of the image's longest side
KEY_POSES = 2  # keypoint poses (instances) per reference and image
MIN_LOGO = 28  # smallest mark proposed (longest side, pixels)
TEMPLATE_LARGEST = 128  # largest *small* mark: template poses of marks up to this size are kept apart from
# larger ones (smooth large marks, which have too few keypoints, are proposed by templates too, on the coarse
# levels of the pyramid, down to a level two template sides short)
SCALE_STEP = 1.25  # between pyramid levels
WHITEN = 2.0  # a level's colours are whitened over windows this many template sides wide
WHITEN_FLOOR = 4.0  # added to each colour's local variance (8-bit units squared): flat areas stay flat
PEAKS_PER_MAP = 3  # strongest local maxima kept from one template on one level
TEMPLATE_POSES = 6  # template poses per reference and image (the strongest, one per place), for small marks
LARGE_TEMPLATE_POSES = 2  # and for marks larger than TEMPLATE_LARGEST
# On the levels of marks under TURNED_EVERYWHERE px (the fine levels, most of the cost), the turned templates are
# correlated only within NEAR level pixels of the upright template's CANDIDATES strongest local maxima.
TURNED_EVERYWHERE = 64
CANDIDATES = 12
NEAR = 3
EDGE_POSES = 1  # edge-template poses per reference, image and octave of mark sizes (from EDGE_SMALLEST): a fine
# level has more places, so more chance clutter, than a coarse one; kept apart from the colour templates' poses
EDGE_SMALLEST = 96  # smallest mark the edge templates look for (longest side, pixels): smaller ones are the colour
# templates' (from 28 px: more clutter proposed, on the logo-free photos and in the scenes, for no more marks)
EDGE_WEAK = 0.05  # a level's edge tensor is normalised per pixel by its strength plus this much of its mean


class KeypointIndex:
    """All references' SIFT descriptors in one brute-force matcher, built once per job."""

    def __init__(self, references: Sequence[Reference]):
        self.count = len(references)
        self.owner = np.concatenate([np.full(len(r.descriptors), i) for i, r in enumerate(references)] or [[]])
        self.points = np.vstack([r.keypoints for r in references]) if references else np.zeros((0, 2))
        self.sides = np.concatenate([np.full(len(r.descriptors), max(r.size)) for r in references] or [[]])
        descriptors = np.vstack([r.descriptors for r in references]) if references else np.zeros((0, 128))
        self.matcher = None
        if len(descriptors) >= 2:
            self.matcher = cv2.BFMatcher(cv2.NORM_L2)
            self.matcher.add([descriptors.astype(np.float32)])

    def poses(self, image: np.ndarray) -> list[list[np.ndarray]]:
        """Per reference: poses fitted by RANSAC to its ratio-tested matches."""
        out: list[list[np.ndarray]] = [[] for _ in range(self.count)]
        if self.matcher is None or min(image.shape[:2]) < 16:
            return out
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        s = min(1.0, KEYPOINT_SIDE / max(grey.shape))
        if s < 1:
            grey = cv2.resize(grey, (round(grey.shape[1] * s), round(grey.shape[0] * s)), interpolation=cv2.INTER_AREA)
        kps, desc = SIFT.detectAndCompute(grey, None)
        if desc is None or len(kps) < KEY_INLIERS:
            return out
        image_points = (np.float32([k.pt for k in kps]) + 0.5) / s - 0.5
        pairs: list[list[tuple[int, int]]] = [[] for _ in range(self.count)]
        for m in self.matcher.knnMatch(desc, k=KEY_NEIGHBOURS):
            if not m:
                continue
            first = m[0].trainIdx
            # the runner-up is the nearest descriptor of another feature: another reference's, or one elsewhere
            # in this reference (each reference is described several times over: its drawings and backgrounds)
            runner_up = next((n for n in m[1:] if self.owner[n.trainIdx] != self.owner[first] or np.linalg.norm(
                self.points[n.trainIdx] - self.points[first]) > SAME_FEATURE * self.sides[first]), None)
            if runner_up is None or m[0].distance < KEY_RATIO * runner_up.distance:
                pairs[int(self.owner[first])].append((first, m[0].queryIdx))
        tolerance = KEY_REPROJECTION * max(image.shape[:2])
        for ri, matched in enumerate(pairs):
            for _ in range(KEY_POSES):
                if len(matched) < KEY_INLIERS:
                    break
                src = self.points[[a for a, _ in matched]]
                dst = image_points[[b for _, b in matched]]
                A, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                         ransacReprojThreshold=tolerance, maxIters=1000)
                if A is None or int(inliers.sum()) < KEY_INLIERS:
                    break
                out[ri].append(np.vstack([A, [0, 0, 1]]).astype(np.float64))
                matched = [p for p, keep in zip(matched, inliers.ravel()) if not keep]
        return out


def whitened(level: np.ndarray, box: int) -> list[np.ndarray]:
    """The level's colours decorrelated by their local covariance: y = L^-1 (x - m), where m and C = L L^T are
    the mean and covariance of the colours in the ``box`` x ``box`` window about each pixel (C's Cholesky factor
    written out for 3x3)."""
    x = [np.ascontiguousarray(level[..., c]) for c in range(3)]

    def mean(image: np.ndarray) -> np.ndarray:
        return cv2.blur(image, (box, box), borderType=cv2.BORDER_REPLICATE)

    m = [mean(c) for c in x]

    def cov(a: int, b: int) -> np.ndarray:
        return mean(x[a] * x[b]) - m[a] * m[b] + (WHITEN_FLOOR if a == b else 0.0)

    l00 = np.sqrt(np.maximum(cov(0, 0), 1e-6))
    l10, l20 = cov(0, 1) / l00, cov(0, 2) / l00
    l11 = np.sqrt(np.maximum(cov(1, 1) - l10 * l10, 1e-6))
    l21 = (cov(1, 2) - l20 * l10) / l11
    l22 = np.sqrt(np.maximum(cov(2, 2) - l20 * l20 - l21 * l21, 1e-6))
    y0 = (x[0] - m[0]) / l00
    y1 = (x[1] - m[1] - l10 * y0) / l11
    y2 = (x[2] - m[2] - l20 * y0 - l21 * y1) / l22
    return [np.ascontiguousarray(y, dtype=np.float32) for y in (y0, y1, y2)]


def pyramid(image: np.ndarray) -> list[tuple[np.ndarray, tuple[float, float], bool]]:
    """(level, scale of the level relative to the image, whether colour templates look at it) bringing marks from
    MIN_LOGO px long to TEMPLATE_SIDE px, SCALE_STEP apart, down to a level where the mark is as long as the
    image; colour templates stop at a level two template sides short (a mark most of the image). Each level is
    float32, slightly blurred (as the templates are)."""
    h, w = image.shape[:2]
    scale = TEMPLATE_SIDE / MIN_LOGO
    levels = []
    while scale * max(w, h) >= TEMPLATE_SIDE:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        levels.append((cv2.GaussianBlur(level, (0, 0), 0.7), (size[0] / w, size[1] / h),
                       min(size) >= 2 * TEMPLATE_SIDE))
        scale /= SCALE_STEP
    return levels


def level_to_image(sx: float, sy: float, pad: int) -> np.ndarray:
    """Pixel centres of a level padded by ``pad`` (scale ``sx``, ``sy`` of the image) -> the image's."""
    return np.array([[1 / sx, 0, (0.5 - pad) / sx - 0.5], [0, 1 / sy, (0.5 - pad) / sy - 0.5], [0, 0, 1]])


def local_maxima(response: np.ndarray, count: int) -> list[tuple[float, int, int]]:
    """(value, x, y) of the ``count`` strongest local maxima of ``response``."""
    peaks = cv2.compare(response, cv2.dilate(response, np.ones((5, 5), np.uint8)), cv2.CMP_GE)
    where = cv2.findNonZero(peaks)
    if where is None:
        return []
    xs, ys = where.reshape(-1, 2).T
    if len(xs) > count:
        best = np.argpartition(-response[ys, xs], count)[:count]
        ys, xs = ys[best], xs[best]
    return [(float(response[y, x]), int(x), int(y)) for y, x in zip(ys, xs)]


def response(channels: list[np.ndarray], t: Template, x0: int = 0, y0: int = 0, w: int = 0,
             h: int = 0) -> np.ndarray:
    """The template's correlation with the best combination of the whitened channels, at each top-left place
    (of the ``w`` x ``h`` places from (x0, y0), or of all)."""
    th, tw = t.image.shape
    w = w or channels[0].shape[1] - tw + 1
    h = h or channels[0].shape[0] - th + 1
    squares = None
    for y in channels:
        r = cv2.matchTemplate(y[y0:y0 + h + th - 1, x0:x0 + w + tw - 1], t.image, cv2.TM_CCORR)
        if squares is None:
            squares = cv2.multiply(r, r)
        else:
            cv2.accumulateSquare(r, squares)
    return cv2.sqrt(cv2.multiply(squares, 1.0 / (th * tw)))


def level_edges(level: np.ndarray, pad: int) -> list[np.ndarray]:
    """The level's edge orientation (``image_edges``: log colour, doubled angle), each pixel's tensor divided by
    its strength (plus EDGE_WEAK of the level's mean strength, so a flat area's noise counts little), as two
    padded planes."""
    e = image_edges(level)
    strength = np.linalg.norm(e, axis=-1)
    e /= (strength + EDGE_WEAK * float(strength.mean()) + 1e-6)[..., None]
    return [cv2.copyMakeBorder(np.ascontiguousarray(e[..., k]), pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            for k in range(2)]


def edge_response(edges: list[np.ndarray], t: Template) -> np.ndarray:
    """How well the level's edge orientation follows the template's edges at each top-left place: the mean of
    the orientation agreement, weighed by the template's edge strength, in [-1, 1]."""
    return cv2.add(cv2.matchTemplate(edges[0], np.ascontiguousarray(t.edges[..., 0]), cv2.TM_CCORR),
                   cv2.matchTemplate(edges[1], np.ascontiguousarray(t.edges[..., 1]), cv2.TM_CCORR))


def turned_peaks(channels: list[np.ndarray], upright: Template, t: Template,
                 candidates: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """(value, x, y) of the turned template's PEAKS_PER_MAP strongest peaks, looked for within NEAR pixels of the
    upright template's candidate peaks (same centre) only."""
    (uh, uw), (th, tw) = upright.image.shape, t.image.shape
    rows, cols = channels[0].shape[0] - th + 1, channels[0].shape[1] - tw + 1
    peaks = {}
    for _, x, y in candidates:
        x0 = min(max(0, int(round(x + (uw - tw) / 2)) - NEAR), max(0, cols - 2 * NEAR - 1))
        y0 = min(max(0, int(round(y + (uh - th) / 2)) - NEAR), max(0, rows - 2 * NEAR - 1))
        r = response(channels, t, x0, y0, min(2 * NEAR + 1, cols - x0), min(2 * NEAR + 1, rows - y0))
        _, value, _, (bx, by) = cv2.minMaxLoc(r)
        peaks[(x0 + bx, y0 + by)] = float(value)
    return sorted(((v, x, y) for (x, y), v in peaks.items()), reverse=True)[:PEAKS_PER_MAP]


def template_poses(image: np.ndarray, references: Sequence[Reference], levels: list | None = None
                   ) -> list[list[np.ndarray]]:
    """Per reference: the TEMPLATE_POSES strongest colour template poses of marks up to TEMPLATE_LARGEST px, one
    per place, then the LARGE_TEMPLATE_POSES strongest of larger marks (kept apart: a large smooth mark's response
    is not crowded out by small clutter, nor the small marks' by it). On the levels of marks under
    TURNED_EVERYWHERE px (most of the cost), the turned templates are correlated only near the upright one's
    CANDIDATES peaks."""
    found: list[list[tuple[float, np.ndarray]]] = [[] for _ in references]
    large: list[list[tuple[float, np.ndarray]]] = [[] for _ in references]
    pad = TEMPLATE_SIDE // 2
    box = int(round(WHITEN * TEMPLATE_SIDE)) | 1
    for level, (sx, sy), coloured in pyramid(image) if levels is None else levels:
        if not coloured:
            continue
        mark = TEMPLATE_SIDE / max(sx, sy)  # the mark's longest side (image pixels) this level looks for
        small = mark <= TEMPLATE_LARGEST
        channels = [cv2.copyMakeBorder(y, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
                    for y in whitened(level, box)]
        to_image = level_to_image(sx, sy, pad)
        for ri, ref in enumerate(references):
            upright = ref.templates[TEMPLATE_ANGLES.index(0.0)]
            candidates = None
            for t in sorted(ref.templates, key=lambda t: t is not upright):  # the upright one first
                th, tw = t.image.shape
                if th > channels[0].shape[0] or tw > channels[0].shape[1]:
                    continue
                if t is upright or mark >= TURNED_EVERYWHERE or candidates is None:
                    r = response(channels, t)
                    peaks = local_maxima(r, PEAKS_PER_MAP)
                    if t is upright and mark < TURNED_EVERYWHERE:
                        candidates = local_maxima(r, CANDIDATES)
                else:
                    peaks = turned_peaks(channels, upright, t, candidates)
                for value, x, y in peaks:
                    shift = np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]])
                    (found if small else large)[ri].append((value, to_image @ shift @ t.to_template))
    return [strongest_apart(f, ref, TEMPLATE_POSES) + strongest_apart(g, ref, LARGE_TEMPLATE_POSES)
            for f, g, ref in zip(found, large, references)]


def edge_poses(image: np.ndarray, references: Sequence[Reference], levels: list | None = None
               ) -> list[list[np.ndarray]]:
    """Per reference: where its upright template's edges agree with the image's (``edge_response``), for marks
    from EDGE_SMALLEST px to the whole image: the EDGE_POSES strongest poses of each octave of sizes, one per
    place.
    Edges in log colour hold for ink multiplied into a textured, lit surface, where neither the colours nor the
    keypoints' descriptors do."""
    found: list[dict[int, list[tuple[float, np.ndarray]]]] = [{} for _ in references]
    pad = TEMPLATE_SIDE // 2
    for level, (sx, sy), _ in pyramid(image) if levels is None else levels:
        mark = TEMPLATE_SIDE / max(sx, sy)
        if mark < EDGE_SMALLEST:
            continue
        octave = int(np.log2(mark / EDGE_SMALLEST))
        edges = level_edges(level, pad)
        to_image = level_to_image(sx, sy, pad)
        for ri, ref in enumerate(references):
            t = ref.templates[TEMPLATE_ANGLES.index(0.0)]
            if t.edges.shape[0] > edges[0].shape[0] or t.edges.shape[1] > edges[0].shape[1]:
                continue
            for value, x, y in local_maxima(edge_response(edges, t), PEAKS_PER_MAP):
                shift = np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]])
                found[ri].setdefault(octave, []).append((value, to_image @ shift @ t.to_template))
    return [[H for poses in by_octave.values() for H in strongest_apart(poses, ref, EDGE_POSES)]
            for by_octave, ref in zip(found, references)]


def centre_and_size(H: np.ndarray, ref: Reference) -> tuple[np.ndarray, float]:
    """The pose's centre in the image and the mark's longest side there (pixels, approximately)."""
    w, h = ref.size
    c = H @ np.array([w / 2, h / 2, 1.0])
    return c[:2] / c[2], float(np.sqrt(abs(np.linalg.det(H[:2, :2])))) * max(w, h)


def same_place(a: tuple[np.ndarray, float], b: tuple[np.ndarray, float]) -> bool:
    """Two (centre, size) poses at one place: centres within a quarter of the larger size, sizes within 1.4x."""
    (ca, sa), (cb, sb) = a, b
    return bool(np.linalg.norm(ca - cb) < 0.25 * max(sa, sb)) and max(sa, sb) < 1.4 * min(sa, sb)


def strongest_apart(poses: list[tuple[float, np.ndarray]], ref: Reference, count: int) -> list[np.ndarray]:
    """The ``count`` strongest poses, one per place."""
    kept: list[tuple[np.ndarray, tuple[np.ndarray, float]]] = []
    for _, H in sorted(poses, key=lambda p: -p[0]):
        if len(kept) >= count:
            break
        place = centre_and_size(H, ref)
        if not any(same_place(place, other) for _, other in kept):
            kept.append((H, place))
    return [H for H, _ in kept]
