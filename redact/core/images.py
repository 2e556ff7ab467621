"""Small image helpers every layer uses: grey conversion, scaling to a longest side, grey-level percentiles,
telling pages from photos.

Images are RGB ``uint8`` numpy arrays of shape (H, W, 3) (grey ones (H, W)).
"""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np


def grey(image: np.ndarray) -> np.ndarray:
    """The image in grey levels (a grey image as it is)."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def fit_side(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image scaled down so its longest side is at most ``side`` (0: as it is), and that copy's scale."""
    h, w = image.shape[:2]
    s = min(1.0, side / max(h, w)) if side else 1.0
    if s == 1.0:
        return image, 1.0
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA), s


HIST_ROWS_PIXELS = 1 << 24  # cv2.calcHist counts in float32: exact up to 2**24 a bin, so a page is counted in parts


def percentiles(grey: np.ndarray, qs: Sequence[float]) -> list[float]:
    """``np.percentile(grey, q)`` for each q (its default, linear method; the same floats) of a ``uint8`` image,
    read off the image's histogram: one pass over the pixels, where ``np.percentile`` partitions a copy of them
    per call (a 90th percentile of a 300-dpi page: about 3 ms against 20-50 ms)."""
    grey = np.ascontiguousarray(grey) if grey.strides[-1] != grey.itemsize else grey
    rows = max(1, HIST_ROWS_PIXELS // max(1, grey.shape[1]))
    counts = sum(cv2.calcHist([grey[r:r + rows]], [0], None, [256], [0, 256]).ravel().astype(np.int64)
                 for r in range(0, grey.shape[0], rows))
    below = np.cumsum(counts)  # below[v]: pixels at or under level v
    n = grey.size
    out = []
    for q in qs:
        at = (n - 1) * (q / 100)  # the place in the sorted pixels, between two of them (numpy's arithmetic)
        lo = math.floor(at)
        t = at - lo
        a = int(np.searchsorted(below, lo, side="right"))
        b = int(np.searchsorted(below, min(lo + 1, n - 1), side="right"))
        out.append(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)  # (numpy's _lerp)
    return out


def looks_like_page(image: np.ndarray) -> bool:
    """A scanned or rendered document page: mostly pale, low-saturation background around dark marks."""
    small = image[:: max(1, image.shape[0] // 256), :: max(1, image.shape[1] // 256)].astype(np.int16)
    grey_level = small.mean(axis=2)
    sat = small.max(axis=2) - small.min(axis=2)
    return bool(((grey_level > 170) & (sat < 40)).mean() > 0.6)


def is_document(pages: Sequence[np.ndarray]) -> bool:
    """Whether a file's images are document pages (the one rule every pipeline uses): several pages (a
    multi-page TIFF), or one that looks like a page."""
    return len(pages) > 1 or (len(pages) == 1 and looks_like_page(pages[0]))
