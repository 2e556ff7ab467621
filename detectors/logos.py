"""Logo detection from the user's own reference images (``--logos DIR``: PNG, JPEG or SVG).

Two steps, each a handful of OpenCV calls over whole images:

1. **Propose** where each reference may be by matching its coarse shape directly across the image, with no
   segmentation first (so marks touching a background of their own brightness, thin strokes, outlines and
   multi-part marks are proposed like any other). Every reference is drawn once per job as banks of
   templates (``BANKS``): its silhouette (or its grey image, for a textured logo) 16 px on its longest side for
   logos up to 110 px, 32 px for larger ones (their levels are small, so a more telling template is cheap), at
   ``ROTATIONS`` rotations. The frame is resized to a pyramid (``SCALE_STEP`` apart) whose levels bring logos
   from ``MIN_LOGO`` px up to the whole frame to the bank's size; each level's colours are **whitened**: each
   pixel's colour less the mean of the window about it, decorrelated by that window's colour covariance
   (``WHITEN`` template sides wide), so every direction of colour contrast has unit variance. A template's
   response is its correlation with the best combination of the three whitened channels (three plain
   ``cv2.matchTemplate`` correlations), so a mark in any colour, or inverted, responds as its reference does,
   and a mark of low contrast on its background as strongly as a bold one; the strongest local maxima give poses
   (place, scale, rotation) of the whole logo. (Edge-map templates, the earlier method, proposed a pose near 371
   of 432 bench marks among the six best checked; these propose 413.) The poses kept are the strongest
   overall plus the strongest of every octave of logo size (so large logos are not crowded out by small-scale
   clutter), one per place and size.
   Beside them, **keypoints** propose poses of marks with corners and detail: SIFT keypoints of the frame
   (computed once per frame, whatever the number of references) are matched to every reference's descriptors
   (computed once per job, for the reference as drawn and inverted) with a ratio test, and a similarity is
   fitted to each reference's matches by RANSAC (up to ``KEY_POSES`` instances). These poses are usually close
   to the truth where the coarse templates are not (a 30-degree rotation step, a cluttered place), so they go
   straight to verification.
   And for one-colour marks, **colour regions** propose poses (``detectors/logo_regions.py``): the image
   quantised to a few colours, its regions matched to the references' large parts by their moment-normalised
   shapes. This finds large marks on strong texture (stripes, planks), and marks turned or tilted between the
   templates' steps.
2. **Verify**: every keypoint pose, the ``REFINE`` best template and colour-region poses by a cheap quick check
   (the reference's correlation with the image sampled in its frame, both blurred; the ``SEARCHED`` best are
   first turned and scaled a little, ``SEARCH_ROTATIONS`` and ``SEARCH_SCALES``, to the best quick score, as a
   template pose is up to half a step off), and the best colour-region pose whatever its rank, is verified
   against the whole reference: the image is sampled in the reference's frame, the colour direction that best
   explains the reference is fitted (a mark printed in any colour, or inverted, fits as well as the original),
   the pose is refined to a homography by ECC alignment (which also takes up perspective; a refinement is kept
   only when it raises the score), and the pose is kept when the correlation of that projection with the reference
   reaches the job's ``logo_threshold`` and, for a one-colour mark, the logo's colour covers its silhouette.
   The reference is compared sharp and blurred (``VERIFY_BLURS``: a small mark in a blurred or compressed image
   is only as sharp as its capture; a blurred template fits clutter more easily, so it must score higher), and
   each comparison counts only where the reference fits the image better than its own filled convex hull does
   (``HULL_MARGIN``): a mark whose outline is a plain shape (a rounded box, a pawn's triangle) is not reported
   on every object of that shape. How close ordinary objects come to a mark sets the score it needs
   (``LogoDetector.required``): a plain mark must clear the threshold by ``PLAIN_EXTRA``, a detailed one (a grid of
   dots, thin strokes) may fall ``DETAILED_DISCOUNT`` short of it.

The region is the reference's box (grown by 4%) carried through the refined homography: a polygon. References
are read and their templates drawn once per job (when the detector is built), never per frame.
"""
from __future__ import annotations

import hashlib
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from redact.core.errors import DetectorError
from detectors.logo_regions import RegionIndex, same_place
from redact.core.errors import InputError
from redact.core.regions import LOGO, Region

REFERENCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
ALGORITHM = "logos-v10"  # part of model_id: change when the method changes what is found

REF_SIDE = 256  # references are rendered/resized so their longest side is this
# proposal template banks: (longest side of the templates, smallest and largest logo they propose, in pixels).
# Small logos are matched with small templates over large levels; large logos, whose levels are small and cheap,
# with larger, more telling templates.
BANKS = ((16, 28, 110), (32, 110, float("inf")))
ROTATIONS = 12  # template rotations (every 30 degrees)
SCALE_STEP = 1.25  # between pyramid levels
MIN_LOGO = BANKS[0][1]  # smallest logo proposed (longest side, pixels); the benchmark's smallest band starts at 32
# a pose smaller than this is no logo looked for: not checked, and not reported when alignment shrinks a pose to it
SMALLEST_KEPT = 0.8 * MIN_LOGO
BLUR = 0.7  # Gaussian sigma (template pixels) on templates and levels before they are correlated
WHITEN = 2.0  # a level's colours are whitened over windows this many template sides wide
WHITEN_FLOOR = 4.0  # added to each colour's local variance (8-bit units squared): flat areas stay flat, not noise
PROPOSE = 0.3  # least response of a proposal
PEAKS_PER_MAP = 4  # strongest local maxima kept from one template on one level
MAX_VERIFY = 40  # proposals quick-checked per reference and image (strongest first, one per place)
PER_OCTAVE = 8  # and at least this many of every octave of logo size
REFINE = 3  # of those, the best by quick check are refined and verified
CHECK_SIDE = 32  # the quick check samples the reference frame at this size (longest side, without margin)
FINE_SIDES = (32, 48, 64, 96)  # the final check and the homography refinement run at the nearest of these
MARGIN = 0.2  # background ring around the reference in the checks, as a fraction of its size
QUICK_FACTOR = 0.55  # a pose is refined when its quick score reaches this fraction of the threshold
QUICK_BLUR = 1.5  # Gaussian sigma (check-frame pixels) on both sides of the quick check
MIN_COLOUR_IOU = 0.1  # a flat mark's colour must cover at least this IoU of its silhouette
KEY_RATIO = 0.85  # SIFT ratio test: a match is kept when its nearest reference descriptor is this much nearer
KEY_INLIERS = 4  # least RANSAC inliers of a keypoint pose
KEY_REPROJECTION = 4.0  # RANSAC inlier distance, image pixels
KEY_POSES = 2  # keypoint poses (instances) tried per reference and image
# the final check's template blurs: (Gaussian sigma in frame pixels, score penalty). A blurred template fits
# clutter more easily (measured on logo-free photos), so its score must clear the threshold by more.
VERIFY_BLURS = ((0.0, 0.0), (0.7, 0.03), (1.2, 0.07))
# ECC alignment steps: (motion, iterations, Gaussian smoothing size): a smoothed affine step first widens the
# reach from a coarse proposal (30-degree rotation steps, 1.25 scale steps), then sharp affine and homography
ALIGNMENT = ((cv2.MOTION_AFFINE, 30, 7), (cv2.MOTION_AFFINE, 30, 3), (cv2.MOTION_HOMOGRAPHY, 40, 3))
HULL_MARGIN = 0.02  # the reference must fit the samples this much better than its convex hull does
# a reference whose own convex hull fits it this well (sharp, ``plainness``) is a plain shape (a rounded box, a
# thick arc, a pawn): countless objects come close to it, so it must score PLAIN_EXTRA above the threshold
PLAIN = 0.83
PLAIN_EXTRA = 0.05
CONVEX = 0.97  # and one this close is convex: it never fits better than its hull, so it is never found (a warning)
# one whose hull fits it less than DETAILED (a grid of dots, thin strokes, a letter's outline) is a shape ordinary
# objects do not come close to: it may score DETAILED_DISCOUNT below the threshold
DETAILED = 0.6
DETAILED_DISCOUNT = 0.05
# a template proposal is a coarse pose (a ROTATIONS step, a SCALE_STEP step); before alignment it is searched at
# these rotations (degrees) and scales about its centre, by quick score, so ECC starts within its reach
SEARCH_ROTATIONS = (-20.0, -10.0, 0.0, 10.0, 20.0)
SEARCH_SCALES = (0.9, 1.0, 1.1)
SEARCHED = 6  # proposals searched per reference and image (the best by quick score)
# a mark that looks like itself turned (three strokes turned by 120 degrees) is also searched at those turns: at
# template size the turns are one shape, so a proposal may be the wrong one
SELF_SIMILAR = 0.5  # least correlation of the reference with itself turned for the turn to be searched
SELF_TURNS = 2  # at most this many turns (the most similar), each searched both ways


@dataclass
class Template:
    image: np.ndarray  # float32 (th, tw), zero mean and unit norm (the numerator of normalised correlation)
    to_template: np.ndarray  # 3x3: reference pixels -> template pixels


@dataclass
class Reference:
    name: str  # file name: the region label
    silhouette: np.ndarray  # bool (h, w): the logo's pixels
    hull: np.ndarray  # bool (h, w): the silhouette's convex hull
    template: np.ndarray  # float32 (h, w) in [0, 1]: what the logo looks like (the silhouette for flat marks)
    flat: bool = True  # a one-colour mark
    banks: list[list[Template]] = field(default_factory=list)  # one per BANKS entry
    turns: tuple[np.ndarray, ...] = ()  # 3x3 turns of reference pixels under which it looks like itself
    plainness: float = 0.0  # how well its filled convex hull fits it (fit_score, sharp): PLAIN, CONVEX
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # reference pixels
    descriptors: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), np.float32))  # SIFT, both polarities

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.silhouette.shape
        return w, h


# ---------------------------------------------------------------- references


def reference_files(folder: str | Path) -> list[Path]:
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"logo folder {folder} does not exist or is not a folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in REFERENCE_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise InputError(f"logo folder {folder} holds no PNG, JPEG or SVG reference logos")
    return files


def read_reference_rgba(path: Path) -> np.ndarray:
    """The reference as RGBA uint8, longest side REF_SIDE (SVG rendered with cairosvg)."""
    try:
        if path.suffix.lower() == ".svg":
            import cairosvg

            data = path.read_bytes()
            probe = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=data)))
            w, h = probe.size
            scale = REF_SIDE / max(w, h)
            png = cairosvg.svg2png(bytestring=data, output_width=max(1, round(w * scale)),
                                   output_height=max(1, round(h * scale)))
            img = Image.open(io.BytesIO(png)).convert("RGBA")
        else:
            img = Image.open(path)
            img.load()
            img = img.convert("RGBA")
            scale = REF_SIDE / max(img.size)
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise InputError(f"logo {path.name}: cannot read it as an image ({' '.join(str(exc).split())[:120]})") from exc
    except Exception as exc:  # cairosvg raises its own parse errors
        raise InputError(f"logo {path.name}: cannot render it ({exc.__class__.__name__})") from exc
    return np.asarray(img)


def silhouette_of(rgba: np.ndarray) -> np.ndarray:
    """The logo's pixels: opaque ones where the reference has transparency, else those unlike its border."""
    alpha = rgba[..., 3]
    if (alpha < 128).mean() > 0.02:
        return alpha >= 128
    grey = cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), cv2.COLOR_RGB2GRAY)
    _, binary = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([binary[0], binary[-1], binary[:, 0], binary[:, -1]])
    background = 1 if border.mean() > 0.5 else 0
    return binary != background


def is_flat(rgba: np.ndarray, silhouette: np.ndarray) -> bool:
    """A mark of (nearly) one colour: its silhouette says everything about it."""
    rgb = rgba[..., :3][silhouette].astype(np.float32)
    return rgb.size == 0 or float(rgb.std(axis=0).max()) < 20.0


def drawn_at(image: np.ndarray, side: int) -> np.ndarray:
    """The reference image resized so its longest side is ``side`` px (at least 2 px each way)."""
    h, w = image.shape[:2]
    s = side / max(w, h)
    return cv2.resize(image, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)


def template_bank(template: np.ndarray, background: float, side: int) -> list[Template]:
    """The reference drawn ``side`` px long at every rotation, inside a margin of its background, blurred by BLUR."""
    h, w = template.shape
    small = drawn_at(template, side)
    sy, sx = small.shape[0] / h, small.shape[1] / w
    margin = max(2, round(0.15 * side))
    bank = []
    for k in range(ROTATIONS):
        a = 2 * np.pi * k / ROTATIONS
        c, s_ = np.cos(a), np.sin(a)
        rot = np.array([[c, -s_], [s_, c]])
        corners = np.array([[0, 0], [small.shape[1], 0], [small.shape[1], small.shape[0]], [0, small.shape[0]]],
                           np.float64) @ rot.T
        lo = corners.min(axis=0) - margin
        size = np.ceil(corners.max(axis=0) + margin - lo).astype(int)
        A = np.hstack([rot, -lo[:, None]])  # small-template pixels -> bank template pixels
        image = cv2.warpAffine(small, A, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=background)
        to_small = np.diag([sx, sy, 1.0])
        image = cv2.GaussianBlur(image, (0, 0), BLUR, borderType=cv2.BORDER_REPLICATE)
        image = image - image.mean()
        image /= max(float(np.linalg.norm(image)), 1e-9)
        bank.append(Template(image.astype(np.float32), np.vstack([A, [0, 0, 1]]) @ to_small))
    return bank


def load_reference(path: Path) -> Reference:
    rgba = read_reference_rgba(path)
    silhouette = silhouette_of(rgba)
    if silhouette.sum() < 50:
        raise InputError(f"logo {path.name}: no logo shape found in it (empty or blank image)")
    ys, xs = np.nonzero(silhouette)  # crop to the logo itself
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgba, silhouette = rgba[y0:y1, x0:x1], silhouette[y0:y1, x0:x1]
    flat = is_flat(rgba, silhouette)
    if not flat and (rgba[..., 3] < 128).mean() <= 0.02:  # a textured logo without transparency: all of its box
        silhouette = np.ones_like(silhouette)
    if flat:
        template = silhouette.astype(np.float32)
        background = 0.0
    else:
        grey = cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        template = np.where(silhouette, grey, 1.0).astype(np.float32)
        background = float(template.mean())
    if float(template.std()) < 0.02:
        raise InputError(f"logo {path.name}: it is one flat box, with no shape or texture to find it by")
    keypoints, descriptors = reference_features(template, background)
    hull = np.zeros(silhouette.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(silhouette.astype(np.uint8))), 1)
    banks = [template_bank(template, background, side) for side, _, _ in BANKS]
    ref = Reference(path.name, silhouette, hull.astype(bool), template, flat, banks,
                    turns=self_similar_turns(template), keypoints=keypoints, descriptors=descriptors)
    frame = Frame.of(ref, FINE_SIDES[-2])
    ref.plainness = fit_score(np.repeat(frame.hulls[0][:, None], 3, axis=1), frame.template.ravel())[0]
    return ref


def self_similar_turns(template: np.ndarray) -> tuple[np.ndarray, ...]:
    """The turns (3x3 maps of reference pixels, each a rotation by a multiple of 15 degrees and a shift) under which
    the reference correlates with itself by at least SELF_SIMILAR (local maxima over the angle, the SELF_TURNS
    most similar). The shift puts the turn about the mark's own centre of symmetry, not its box's."""
    h, w = template.shape
    s = 48 / max(w, h)
    small = drawn_at(template, 48)
    side = int(np.ceil(np.hypot(*small.shape))) + 2
    background = float(np.median(np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])))
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    square = cv2.GaussianBlur(cv2.copyMakeBorder(small, top, side - small.shape[0] - top, left,
                                                 side - small.shape[1] - left, cv2.BORDER_CONSTANT,
                                                 value=background), (0, 0), 1.0).astype(np.float32)
    centre = (left + small.shape[1] / 2 - 0.5, top + small.shape[0] / 2 - 0.5)
    to_square = np.array([[s, 0, left + 0.5 * s - 0.5], [0, s, top + 0.5 * s - 0.5], [0, 0, 1.0]])

    def turned(degrees: float) -> tuple[float, np.ndarray]:
        """(correlation, 3x3 map in square pixels) of the square turned by ``degrees`` and shifted back onto
        itself."""
        M = np.vstack([cv2.getRotationMatrix2D(centre, degrees, 1.0), [0, 0, 1]])
        image = cv2.warpAffine(square, M[:2], (side, side), borderMode=cv2.BORDER_CONSTANT, borderValue=background)
        (dx, dy), _ = cv2.phaseCorrelate(square, image)
        M = np.array([[1, 0, -dx], [0, 1, -dy], [0, 0, 1.0]]) @ M
        image = cv2.warpAffine(square, M[:2], (side, side), borderMode=cv2.BORDER_CONSTANT, borderValue=background)
        a, b = square - square.mean(), image - image.mean()
        return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9)), M

    angles = np.arange(0, 360, 15, dtype=float)
    results = [(1.0, np.eye(3))] + [turned(a) for a in angles[1:]]
    values = [v for v, _ in results]
    peaks = [i for i in range(1, len(angles)) if values[i] >= SELF_SIMILAR
             and values[i] >= values[i - 1] and values[i] >= values[(i + 1) % len(angles)]]
    # the square's turn M maps the reference drawn in the square onto itself: in reference pixels, to_square^-1 M
    # to_square (a pose H fits the image as well as H @ that map)
    return tuple(np.linalg.inv(to_square) @ results[i][1] @ to_square
                 for i in sorted(peaks, key=lambda i: -values[i])[:SELF_TURNS])


def reference_features(template: np.ndarray, background: float) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints (reference pixels) and descriptors of the reference drawn as it is and inverted (a mark may
    be printed darker or lighter than what is around it), inside a margin of its background and blurred as a
    capture blurs it."""
    pad = int(round(MARGIN * max(template.shape)))
    image = np.pad(template, pad, constant_values=background)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    points, descriptors = [], []
    for drawn in (image, 1.0 - image):
        kps, desc = SIFT.detectAndCompute(np.clip(drawn * 255 + 0.5, 0, 255).astype(np.uint8), None)
        if desc is not None:
            points += [np.float32(k.pt) - pad for k in kps]
            descriptors.append(desc)
    if not descriptors:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    return np.float32(points).reshape(-1, 2), np.vstack(descriptors).astype(np.float32)


# ---------------------------------------------------------------- proposals

SIFT = cv2.SIFT_create()


class KeypointIndex:
    """All references' SIFT descriptors in one brute-force matcher, built once per job: a frame's keypoints are
    computed once and matched against every reference at once (exact, so the same frame always gives the same
    poses), so the cost hardly grows with the number of references."""

    def __init__(self, references: Sequence[Reference]):
        self.owner = np.concatenate([np.full(len(r.descriptors), i) for i, r in enumerate(references)] or [[]])
        self.points = np.vstack([r.keypoints for r in references]) if references else np.zeros((0, 2), np.float32)
        descriptors = np.vstack([r.descriptors for r in references]) if references else np.zeros((0, 128))
        self.matcher = None
        if len(descriptors) >= 2:
            self.matcher = cv2.BFMatcher(cv2.NORM_L2)
            self.matcher.add([descriptors.astype(np.float32)])
        self.count = len(references)

    def poses(self, image: np.ndarray) -> list[list[np.ndarray]]:
        """Per reference: 3x3 poses reference -> image fitted by RANSAC to its ratio-tested matches."""
        out: list[list[np.ndarray]] = [[] for _ in range(self.count)]
        if self.matcher is None:
            return out
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        kps, desc = SIFT.detectAndCompute(grey, None)
        if desc is None or len(kps) < KEY_INLIERS:
            return out
        frame_points = np.float32([k.pt for k in kps])
        pairs: list[list[tuple[int, int]]] = [[] for _ in range(self.count)]
        for m in self.matcher.knnMatch(desc, k=2):
            if len(m) == 2 and m[0].distance < KEY_RATIO * m[1].distance:
                pairs[int(self.owner[m[0].trainIdx])].append((m[0].trainIdx, m[0].queryIdx))
        for ri, matched in enumerate(pairs):
            matched = list(set(matched))
            for _ in range(KEY_POSES):
                if len(matched) < KEY_INLIERS:
                    break
                src = self.points[[a for a, _ in matched]]
                dst = frame_points[[b for _, b in matched]]
                # a similarity (4 degrees of freedom) is stable from a few matches; verification's alignment then
                # takes up the perspective
                A, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                         ransacReprojThreshold=KEY_REPROJECTION, maxIters=500)
                if A is None or int(inliers.sum()) < KEY_INLIERS:
                    break
                out[ri].append(np.vstack([A, [0, 0, 1]]).astype(np.float64))
                matched = [p for p, keep in zip(matched, inliers.ravel()) if not keep]
        return out


def pyramid(image: np.ndarray, side: int, smallest: float, largest: float):
    """(level, scale of the level relative to the image) bringing logos ``smallest``..``largest`` px long (and no
    longer than the image) to ``side`` px, SCALE_STEP apart."""
    scale = side / smallest
    h, w = image.shape[:2]
    largest = min(largest, float(max(h, w)))
    level = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    while side / scale <= largest * SCALE_STEP and min(level.shape[:2]) >= side:
        yield level, (level.shape[1] / w, level.shape[0] / h)
        scale /= SCALE_STEP
        level = cv2.resize(level, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def local_maxima(response: np.ndarray, floor: float, count: int) -> list[tuple[float, int, int]]:
    """(value, x, y) of the ``count`` strongest local maxima of ``response`` at or above ``floor``."""
    peaks = cv2.bitwise_and(cv2.compare(response, floor, cv2.CMP_GE),
                            cv2.compare(response, cv2.dilate(response, np.ones((5, 5), np.uint8)), cv2.CMP_GE))
    where = cv2.findNonZero(peaks)
    if where is None:
        return []
    xs, ys = where.reshape(-1, 2).T
    if len(xs) > count:
        best = np.argpartition(-response[ys, xs], count)[:count]
        ys, xs = ys[best], xs[best]
    return [(float(response[y, x]), int(x), int(y)) for y, x in zip(ys, xs)]


def whitened(level: np.ndarray, box: int) -> list[np.ndarray]:
    """The level's colours decorrelated by their local covariance: y = L^-1 (x - m), where m and C = L L^T are
    the mean and covariance of the colours in the ``box`` x ``box`` window about each pixel (C's Cholesky factor
    written out for 3x3). Each y channel has unit local variance, so a mark correlates with its template
    whatever its colour, polarity and contrast against what is around it, and texture does not outweigh
    shape."""
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


def prepare_level(level: np.ndarray, side: int, pad: int) -> list[np.ndarray]:
    """A pyramid level (RGB float) as the templates (``side`` px) are matched against: blurred like them, its
    colours whitened over windows WHITEN template sides wide, padded so a logo at the image's edge still fits a
    template."""
    level = cv2.GaussianBlur(level, (0, 0), BLUR)
    box = int(round(WHITEN * side)) | 1
    return [cv2.copyMakeBorder(y, pad, pad, pad, pad, cv2.BORDER_REPLICATE) for y in whitened(level, box)]


def propose(image: np.ndarray, references: Sequence[Reference]) -> list[list[tuple[float, np.ndarray]]]:
    """Per reference: (correlation, 3x3 homography reference -> image) of the places its templates match."""
    out: list[list[tuple[float, np.ndarray]]] = [[] for _ in references]
    image = image.astype(np.float32)
    for bank, (side, smallest, largest) in enumerate(BANKS):
        pad = side // 2
        for level, (sx, sy) in pyramid(image, side, smallest, largest):
            channels = prepare_level(level, side, pad)
            # padded level pixel centres -> image pixel centres
            to_image = np.array([[1 / sx, 0, (0.5 - pad) / sx - 0.5], [0, 1 / sy, (0.5 - pad) / sy - 0.5],
                                 [0, 0, 1]])
            match_level(channels, to_image, [ref.banks[bank] for ref in references], out)
    return out


def match_level(channels: Sequence[np.ndarray], to_image: np.ndarray, banks: Sequence[Sequence[Template]],
                out: list[list[tuple[float, np.ndarray]]]) -> None:
    """Correlate every reference's templates over one prepared level; append the poses of their strongest local
    maxima to ``out`` (per reference). The response is the template's correlation with the best combination
    of the whitened channels: the root of the sum of their squared correlations, divided by the root of the
    template's area (each channel has unit variance), so about the correlation of the template with the mark."""
    height, width = channels[0].shape
    for ri, bank in enumerate(banks):
        for t in bank:
            th, tw = t.image.shape
            if th > height or tw > width:
                continue
            squares = None
            for y in channels:
                r = cv2.matchTemplate(y, t.image, cv2.TM_CCORR)
                if squares is None:
                    squares = cv2.multiply(r, r)
                else:
                    cv2.accumulateSquare(r, squares)
            response = cv2.sqrt(cv2.multiply(squares, 1.0 / (th * tw)))
            for value, x, y in local_maxima(response, PROPOSE, PEAKS_PER_MAP):
                shift = np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]])
                out[ri].append((value, to_image @ shift @ t.to_template))


# ---------------------------------------------------------------- verification


@dataclass
class Frame:
    """The reference drawn at ``side`` px (longest side) inside a background margin, and the 3x3 map from the
    frame's pixels to reference pixels."""

    template: np.ndarray  # float32 (fh, fw)
    to_ref: np.ndarray  # 3x3
    blurred: tuple[tuple[np.ndarray, float], ...] = ()  # (the template blurred by VERIFY_BLURS, flattened; penalty)
    hulls: tuple[np.ndarray, ...] = ()  # the reference's convex hull, filled, drawn and blurred the same way

    @classmethod
    def of(cls, ref: Reference, side: int) -> "Frame":
        w, h = ref.size
        pad = int(round(MARGIN * side))
        small = drawn_at(ref.template, side)
        th, tw = small.shape
        bg = 0.0 if ref.flat else 1.0
        template = np.pad(small, pad, constant_values=bg).astype(np.float32)
        sx, sy = w / tw, h / th
        hull = np.pad(cv2.resize(ref.hull.astype(np.float32), (tw, th), interpolation=cv2.INTER_AREA), pad)

        def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
            return (cv2.GaussianBlur(image, (0, 0), sigma) if sigma else image).ravel()

        return cls(template, np.array([[sx, 0, -pad * sx], [0, sy, -pad * sy], [0, 0, 1]]),
                   tuple((blurred(template, b), penalty) for b, penalty in VERIFY_BLURS),
                   tuple(blurred(hull, b) for b, _ in VERIFY_BLURS))

    def scores(self, samples: np.ndarray) -> list[tuple[float, float, float]]:
        """Per blur level: (the samples' ``fit_score`` against the template, against the hull, the penalty)."""
        return [(fit_score(samples, t)[0], fit_score(samples, hull)[0], penalty)
                for (t, penalty), hull in zip(self.blurred, self.hulls)]

    def score(self, samples: np.ndarray) -> float:
        """The best ``fit_score`` of the samples against the template at any of the blur levels, less that
        level's penalty (a small mark in a blurred or compressed image is as sharp as its capture, not as its
        reference), among the levels where the reference explains the samples better than its own convex hull
        does by HULL_MARGIN (a plain blob of the mark's outline, the shape of countless objects, is no mark);
        -1 when there is none."""
        return max([s - penalty for s, hull, penalty in self.scores(samples) if s - hull >= HULL_MARGIN],
                   default=-1.0)


class ColourPyramid:
    """The image as float32 at every octave, built on first use."""

    def __init__(self, image: np.ndarray):
        self.levels = [image.astype(np.float32)]

    def level_for(self, size: float, side: int) -> tuple[np.ndarray, float]:
        depth = max(0, int(np.floor(np.log2(max(size, 1.0) / side))))
        while len(self.levels) <= depth and min(self.levels[-1].shape[:2]) >= 16:
            last = self.levels[-1]
            self.levels.append(cv2.resize(last, (last.shape[1] // 2, last.shape[0] // 2),
                                          interpolation=cv2.INTER_AREA))
        depth = min(depth, len(self.levels) - 1)
        return self.levels[depth], float(2 ** depth)

    def sample(self, frame: Frame, H: np.ndarray, size: float) -> np.ndarray:
        """(n, 3) the image's pixels at the frame's pixels, for the pose H (reference -> image)."""
        level, scale = self.level_for(size, max(frame.template.shape))
        to_level = np.array([[1 / scale, 0, 0.5 / scale - 0.5], [0, 1 / scale, 0.5 / scale - 0.5], [0, 0, 1]])
        fh, fw = frame.template.shape
        out = cv2.warpPerspective(level, to_level @ H @ frame.to_ref, (fw, fh),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(-1, 3)


def fit_score(samples: np.ndarray, template: np.ndarray) -> tuple[float, np.ndarray]:
    """How well the best colour projection of the pixels (n, 3) fits the template (n,): the multiple
    correlation (0..1), and the projected pixels. A mark printed in another colour, or inverted, fits as well
    as the original."""
    x = samples.astype(np.float32)
    x = x - x.mean(axis=0)
    t = template.astype(np.float32)
    t = t - t.mean()
    b = (x.T @ t).astype(np.float64)
    w = np.linalg.solve((x.T @ x).astype(np.float64) + np.eye(3) * (1e-2 * len(x)), b)
    fitted = x @ w.astype(np.float32)
    return float(np.sqrt(max(0.0, float(w @ b)) / (float(t @ t) + 1e-9))), fitted


def colour_iou(samples: np.ndarray, template: np.ndarray) -> float:
    """The IoU of the template's silhouette and the pixels of the logo's colour (the median colour well inside
    the silhouette), ignoring the blurred band along its edge. A flat mark is one colour over exactly its
    silhouette; a textured patch or a blob of another shape is not."""
    inside, outside = template >= 0.85, template <= 0.15
    if inside.sum() < 6:
        inside = template >= template.max() * 0.7
    colour = np.median(samples[inside], axis=0)
    dist = np.linalg.norm(samples - colour, axis=1)
    tau = float(np.clip(0.5 * np.percentile(dist[outside], 75), 20.0, 80.0))
    seg = dist < tau
    return float((seg & inside).sum() / max(1, inside.sum() + (seg & outside).sum()))


def quick_score(samples: np.ndarray, template: np.ndarray) -> float:
    """``fit_score`` of the sampled check frame and its template, both blurred by QUICK_BLUR: a coarse pose
    (a 30-degree rotation step, a pyramid step, perspective) still scores near its truth when the image is
    sharp, as large logos are."""
    shape = template.shape
    blurred = cv2.GaussianBlur(samples.reshape(*shape, 3), (0, 0), QUICK_BLUR).reshape(-1, 3)
    return fit_score(blurred, cv2.GaussianBlur(template, (0, 0), QUICK_BLUR).ravel())[0]


def best_with_a_region(ranked: list, count: int) -> list:
    """The first ``count`` of the ranked (score, H, from a colour region) poses, and the best colour-region one if
    none of those is: a region pose is precise but on strong texture clutter can outscore it."""
    top = ranked[:count]
    if not any(c[2] for c in top):
        top += [c for c in ranked[count:] if c[2]][:1]
    return top


def _sane(H: np.ndarray, w: int, h: int) -> bool:
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])[None]
    q = cv2.perspectiveTransform(corners, H)[0]
    if not cv2.isContourConvex(q.astype(np.float32)):
        return False
    edges = np.linalg.norm(q - np.roll(q, 1, axis=0), axis=1)
    return cv2.contourArea(q) >= 64 and edges.min() >= 4 and edges.max() / edges.min() < 12 * max(w, h) / min(w, h)


def _size(H: np.ndarray, ref: Reference) -> float:
    """The logo's longest side in the image at pose H (pixels, approximately)."""
    w, h = ref.size
    return float(np.sqrt(abs(np.linalg.det(H[:2, :2])))) * max(w, h)


def _ecc(frame: Frame, samples: np.ndarray, H: np.ndarray, motion: int, iterations: int,
         smoothing: int = 3) -> np.ndarray | None:
    """``H`` refined by ECC alignment of the image (projected on its best colour direction) to the frame's
    template; None when ECC does not converge."""
    _, fitted = fit_score(samples, frame.template.ravel())
    proj = np.ascontiguousarray(fitted.reshape(frame.template.shape).astype(np.float32))
    warp = np.eye(3 if motion == cv2.MOTION_HOMOGRAPHY else 2, 3, dtype=np.float32)
    try:
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-4)
        _, warp = cv2.findTransformECC(frame.template, proj, warp, motion, criteria, None, smoothing)
    except cv2.error:
        return None
    if warp.shape[0] == 2:
        warp = np.vstack([warp, [0, 0, 1]])
    return H @ frame.to_ref @ warp.astype(np.float64) @ np.linalg.inv(frame.to_ref)


class LogoDetector:
    name = "logos"

    def __init__(self, settings):
        if not settings.logos:
            raise InputError("the logos detector needs reference logos: give --logos DIR")
        files = reference_files(settings.logos)
        self.threshold = float(settings.logo_threshold)
        self.references = [load_reference(p) for p in files]
        digest = hashlib.sha256(ALGORITHM.encode())
        for p in files:
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        self.model_id = f"{ALGORITHM}:{digest.hexdigest()[:16]}"
        self.keypoint_index = KeypointIndex(self.references)
        self.region_index = RegionIndex([r.silhouette for r in self.references], [r.flat for r in self.references])
        self._frames = {id(r): {s: Frame.of(r, s) for s in (CHECK_SIDE,) + FINE_SIDES} for r in self.references}
        # a convex mark (a plain parallelogram or disc) is one of the boxes and discs in every photo: tested on
        # logo-free photos without the hull test, a parallelogram matched dozens of them at 0.9-0.99
        self.warnings = [f"logo {r.name} is a plain convex shape (its convex hull fits it {r.plainness:.2f}): it "
                         "cannot be told from ordinary objects and will not be found; give a reference with more "
                         "detail (a wordmark beside it, its inner lines)" for r in self.references
                         if r.plainness >= CONVEX]

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0) -> list[list[Region]]:
        out = []
        for offset, image in enumerate(images):
            try:
                found = self.detect_one(image)
            except cv2.error as exc:
                raise DetectorError(f"logo detection failed: {' '.join(str(exc).split())[:160]}") from exc
            out.append([Region(LOGO, r.box, r.score, self.name, start_index + offset, r.polygon, r.label)
                        for r in found])
        return out

    def detect_one(self, image: np.ndarray) -> list[Region]:
        proposals = propose(image, self.references)
        keypoint_poses = self.keypoint_index.poses(image)
        region_poses = self.region_index.poses(image)
        pyr = ColourPyramid(image)
        found: list[Region] = []
        for ref, poses, keyed, shaped in zip(self.references, proposals, keypoint_poses, region_poses):
            found += self._confirmed(pyr, ref, poses, keyed, shaped)
        h, w = image.shape[:2]
        return [r.clipped(w, h) for r in found]

    def _distinct(self, ref: Reference, poses) -> list[np.ndarray]:
        """The strongest proposals, one per place: the MAX_VERIFY strongest overall and the PER_OCTAVE strongest
        of every size octave (large logos match the coarse templates less sharply than small clutter does, so a
        global ranking alone would leave them out)."""
        if not poses:
            return []
        w, h = ref.size
        order = sorted(range(len(poses)), key=lambda i: -poses[i][0])
        Hs = np.stack([poses[i][1] for i in order])
        centres = Hs @ np.array([w / 2, h / 2, 1.0])
        centres = centres[:, :2] / centres[:, 2:]
        sizes = np.sqrt(np.abs(np.linalg.det(Hs[:, :2, :2]))) * max(w, h)
        octaves = np.log2(np.maximum(sizes, MIN_LOGO) / MIN_LOGO).astype(int)
        kept: list[int] = []
        per_octave: dict[int, int] = {}
        for i in range(len(order)):
            octave = int(octaves[i])
            if len(kept) >= MAX_VERIFY and per_octave.get(octave, 0) >= PER_OCTAVE:
                continue
            if kept and same_place(centres[kept], sizes[kept], centres[i], sizes[i]).any():
                continue
            kept.append(i)
            per_octave[octave] = per_octave.get(octave, 0) + 1
        return [Hs[i] for i in kept]

    def _confirmed(self, pyr: ColourPyramid, ref: Reference, poses, fitted=(), shaped=()) -> list[Region]:
        """Quick-check the colour-region poses (``shaped``) and the strongest distinct template proposals of one
        reference, refine and verify the REFINE best of them (and the best colour-region pose, whatever its rank:
        on strong texture clutter can outscore it) and every keypoint pose (``fitted``); one region per place it
        is found."""
        w, h = ref.size
        centre = np.array([w / 2, h / 2, 1.0])
        checked = []  # (quick score, H, from a colour region)
        for H, from_region in [(H, True) for H in shaped] + [(H, False) for H in self._distinct(ref, poses)]:
            quick = self._quick(pyr, ref, H)
            if quick is not None:
                checked.append((quick, H, from_region))
        checked.sort(key=lambda c: -c[0])
        searched = sorted(((*self._search(pyr, ref, H, quick), from_region)
                           for quick, H, from_region in best_with_a_region(checked, SEARCHED)), key=lambda c: -c[0])
        kept = []  # (score, centre, size, H)
        for H in list(fitted) + [H for _, H, _ in best_with_a_region(searched, REFINE)]:
            if not _sane(H, w, h) or _size(H, ref) < SMALLEST_KEPT:
                continue
            result = self._refine(pyr, ref, H)
            if result is None:
                continue
            score, H = result
            c = H @ centre
            c = c[:2] / c[2]
            size = _size(H, ref)
            if any(np.linalg.norm(c - kc) < 0.3 * max(ks, size) for _, kc, ks, _ in kept):
                continue
            kept.append((score, c, size, H))
        regions = []
        for score, _, _, H in kept:
            outline = cv2.perspectiveTransform(self._outline(ref), H)[0]
            xs, ys = outline[:, 0], outline[:, 1]
            if max(np.ptp(xs), np.ptp(ys)) < SMALLEST_KEPT:  # alignment shrank it onto a speck
                continue
            regions.append(Region(LOGO, (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                                  round(float(score), 4), self.name, 0,
                                  tuple((float(x), float(y)) for x, y in outline), ref.name))
        return regions

    @staticmethod
    def _outline(ref: Reference) -> np.ndarray:
        """The reference's box grown by 4% so blur and alignment error stay inside it."""
        w, h = ref.size
        g = 0.04 * max(w, h)
        return np.float32([[-g, -g], [w + g, -g], [w + g, h + g], [-g, h + g]])[None]

    def required(self, ref: Reference) -> float:
        """The score a detection of ``ref`` must reach: the job's threshold, raised for a plain mark and lowered
        for a detailed one (how close ordinary objects come to it)."""
        if ref.plainness >= PLAIN:
            return self.threshold + PLAIN_EXTRA
        if ref.plainness < DETAILED:
            return self.threshold - DETAILED_DISCOUNT
        return self.threshold

    def _quick(self, pyr: ColourPyramid, ref: Reference, H: np.ndarray) -> float | None:
        """The quick score of a proposed pose, or None when the pose is implausible or scores too low."""
        quick = self._quick_score(pyr, ref, H)
        return quick if quick >= QUICK_FACTOR * self.threshold else None

    def _quick_score(self, pyr: ColourPyramid, ref: Reference, H: np.ndarray) -> float:
        """``quick_score`` of the image sampled at pose H; -1 when the pose is implausible or too small."""
        w, h = ref.size
        size = _size(H, ref)
        if not _sane(H, w, h) or size < SMALLEST_KEPT:
            return -1.0
        check = self._frames[id(ref)][CHECK_SIDE]
        return quick_score(pyr.sample(check, H, size), check.template)

    def _search(self, pyr: ColourPyramid, ref: Reference, H: np.ndarray, quick: float) -> tuple[float, np.ndarray]:
        """(quick score, pose) of the best of the proposal turned by SEARCH_ROTATIONS and scaled by SEARCH_SCALES
        about the reference's centre (a proposal is up to half a template rotation and half a pyramid step off,
        further than ECC reaches for a large mark), and turned by the reference's self-similar turns."""
        w, h = ref.size
        check = self._frames[id(ref)][CHECK_SIDE]
        to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
        # the proposal or one of its self-similar turns (either way), whichever fits best: compared sharp, as the
        # turns differ only in detail
        best = (quick, H)
        if ref.turns:
            looks = [H] + [H @ A for T in ref.turns for A in (T, np.linalg.inv(T))]
            sharp = [fit_score(pyr.sample(check, H2, _size(H2, ref)), check.template.ravel())[0] for H2 in looks]
            chosen = looks[int(np.argmax(sharp))]
            if chosen is not H:
                best = (self._quick_score(pyr, ref, chosen), chosen)
        base = best[1]
        for degrees, scale in itertools.product(SEARCH_ROTATIONS, SEARCH_SCALES):
            if degrees == 0 and scale == 1:
                continue
            a = np.deg2rad(degrees)
            turn = np.array([[scale * np.cos(a), -scale * np.sin(a), 0], [scale * np.sin(a), scale * np.cos(a), 0],
                             [0, 0, 1.0]])
            H2 = base @ np.linalg.inv(to_centre) @ turn @ to_centre
            score = self._quick_score(pyr, ref, H2)
            if score > best[0]:
                best = (score, H2)
        return best

    def _refine(self, pyr: ColourPyramid, ref: Reference, H: np.ndarray):
        """(score, homography) after ECC alignment (affine at the check size, then a homography at the logo's
        own size), or None when the image does not agree with the reference there. Each alignment is kept only
        when it raises the score at the logo's own size (ECC can slide off a thin or detailed mark)."""
        w, h = ref.size
        frames = self._frames[id(ref)]

        def fine_frame(H: np.ndarray) -> Frame:
            return frames[min(FINE_SIDES, key=lambda s: abs(s - min(_size(H, ref), FINE_SIDES[-1])))]

        def scored(H: np.ndarray) -> tuple[float, np.ndarray, Frame]:
            fine = fine_frame(H)
            samples = pyr.sample(fine, H, _size(H, ref))
            return fine.score(samples), samples, fine

        best_H, (best, samples, fine) = H, scored(H)
        for motion, iters, smoothing in ALIGNMENT:
            frame = frames[CHECK_SIDE] if motion == cv2.MOTION_AFFINE else fine_frame(best_H)
            H2 = _ecc(frame, pyr.sample(frame, best_H, _size(best_H, ref)), best_H, motion, iters, smoothing)
            if H2 is None or not _sane(H2, w, h):
                continue
            result = scored(H2)
            if result[0] > best:
                best_H, (best, samples, fine) = H2, result
        if best < self.required(ref):
            return None
        if ref.flat and colour_iou(samples, fine.template.ravel()) < MIN_COLOUR_IOU:
            return None
        return best, best_H
