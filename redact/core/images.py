"""Small image helpers every layer uses: grey conversion, scaling to a longest side, telling pages from photos.

Images are RGB ``uint8`` numpy arrays of shape (H, W, 3) (grey ones (H, W)).
"""
from __future__ import annotations

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
