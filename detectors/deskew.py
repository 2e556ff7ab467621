"""A scanned page's skew: measured, taken out before OCR, and put back into the regions found.

A scan turned by a degree or so drifts a text row by more than a line height across the page, so a form's
caption, its boxes and the value in them no longer share a row (``detectors.fields`` reads rows). The page is
turned upright first (``upright``), everything is found on the upright page, and each region is carried back
(``region_back``) as the rotated rectangle it covers (a polygon: no wider than the words it covers, whatever the
skew).

The skew is the angle at which the page's ink, projected onto the vertical, piles up into the sharpest rows (text
lines and rules): the sum of squares of the row profile is largest. It is measured on a reduced page, coarse then
fine, within ``MAX_SKEW`` degrees; pages turned by 90 degrees are ``detectors.ocr``'s (OSD).
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from redact.core.images import fit_side, grey as to_grey, percentiles
from redact.core.regions import Region

MAX_SKEW = 3.0  # degrees either way looked at
MIN_SKEW = 0.2  # a page turned by less than this is read as it is (a drift of under a third of a line on A4)
MEASURE_SIDE = 1200  # the page is measured at this longest side
MAX_POINTS = 200_000  # ink pixels sampled for the measure
COARSE, FINE = 0.25, 0.025  # step of the two searches, degrees
PLATEAU = 0.999  # angles scoring within this share of the best are equally sharp: their middle is taken


def _score(xs: np.ndarray, ys: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Per angle, the sharpness of the ink's row profile when the page is turned by that angle."""
    out = np.empty(len(degrees))
    for k, a in enumerate(np.radians(degrees)):
        rows = np.round(ys * np.cos(a) + xs * np.sin(a)).astype(np.int64)
        counts = np.bincount(rows - rows.min(), minlength=1)
        out[k] = float(np.dot(counts, counts))
    return out


def skew_angle(grey: np.ndarray) -> float:
    """The page's skew in degrees, counter-clockwise as seen (cv2.getRotationMatrix2D's sense); 0.0 when there
    is too little ink to tell."""
    small, _ = fit_side(grey, MEASURE_SIDE)
    binv = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    ys, xs = np.nonzero(binv)
    if len(xs) < 500 or len(xs) > 0.5 * binv.size:
        return 0.0
    if len(xs) > MAX_POINTS:
        pick = np.random.default_rng(0).choice(len(xs), MAX_POINTS, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64)
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, COARSE)
    best = float(coarse[int(np.argmax(_score(xs, ys, coarse)))])
    fine = np.arange(best - COARSE, best + COARSE + 1e-9, FINE)
    score = _score(xs, ys, fine)
    return float(np.mean(fine[score >= PLATEAU * score.max()]))  # (thick strokes: the middle of a flat top)


def upright(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The page in grey levels turned upright (on a canvas large enough to hold all of it, paper-grey at the
    edges), and the 2x3 matrix that takes the upright page's points back to the page's; ``(image, None)`` for a
    page whose skew is under ``MIN_SKEW``. (Grey only: OCR and the regions' ink measure read grey levels.)"""
    if image.ndim < 2 or min(image.shape[:2]) < 32:
        return image, None
    grey = to_grey(image)
    angle = skew_angle(grey)
    if abs(angle) < MIN_SKEW:
        return image, None
    h, w = grey.shape
    rad = np.radians(abs(angle))
    nw, nh = int(np.ceil(w * np.cos(rad) + h * np.sin(rad))), int(np.ceil(h * np.cos(rad) + w * np.sin(rad)))
    M = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    M[0, 2] += (nw - w) / 2
    M[1, 2] += (nh - h) / 2
    paper = int(percentiles(grey[:: max(1, h // 200), :: max(1, w // 200)], [90])[0])
    turned = cv2.warpAffine(grey, M, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=paper)
    return turned, cv2.invertAffineTransform(M)


def region_back(region: Region, back: np.ndarray, width: int, height: int) -> Region:
    """A region found on the upright page, on the page as scanned: its box's corners carried back (a polygon,
    grown by half a pixel so that rounding loses no pixel of it), and the box around them, within the page."""
    x0, y0, x1, y1 = region.box
    corners = np.array([[x0 - 0.5, y0 - 0.5, 1], [x1 + 0.5, y0 - 0.5, 1], [x1 + 0.5, y1 + 0.5, 1],
                        [x0 - 0.5, y1 + 0.5, 1]], np.float64) @ back.T
    bx0, by0 = max(0.0, float(corners[:, 0].min())), max(0.0, float(corners[:, 1].min()))
    bx1, by1 = min(float(width), float(corners[:, 0].max())), min(float(height), float(corners[:, 1].max()))
    return replace(region, box=(bx0, by0, bx1, by1), polygon=tuple((float(x), float(y)) for x, y in corners))
