"""Training masks drawn on the fly (True = hole): free-form strokes, streaks, rectangles, and the shapes real
redactions remove: word boxes, text-line boxes and face-sized ellipses.

``random_mask(rng, h, w)`` picks one or two kinds and draws until the hole covers a random share of the image
(5-60 %, the range of the paper's evaluation buckets). Everything is numpy + OpenCV, seeded by ``rng``.
"""
from __future__ import annotations

import cv2
import numpy as np

KINDS = ("strokes", "streaks", "rectangles", "words", "lines", "ellipses")


def strokes(rng: np.random.Generator, h: int, w: int, mask: np.ndarray) -> None:
    """A free-form brush stroke: a random walk of thick line segments."""
    s = min(h, w)
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    thick = int(rng.uniform(0.02, 0.08) * s) + 2
    angle = rng.uniform(0, 2 * np.pi)
    for _ in range(rng.integers(3, 10)):
        angle += rng.normal(0, 0.9)
        step = rng.uniform(0.05, 0.25) * s
        nx, ny = np.clip(x + step * np.cos(angle), 0, w - 1), np.clip(y + step * np.sin(angle), 0, h - 1)
        cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 1, thick)
        cv2.circle(mask, (int(nx), int(ny)), thick // 2, 1, -1)
        x, y = nx, ny


def streaks(rng, h, w, mask) -> None:
    """A long thin straight line across much of the image (scratches, scan lines)."""
    s = min(h, w)
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    angle, length = rng.uniform(0, np.pi), rng.uniform(0.5, 1.2) * max(h, w)
    x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
    cv2.line(mask, (int(x0), int(y0)), (int(x1), int(y1)), 1, int(rng.uniform(0.005, 0.03) * s) + 1)


def rectangles(rng, h, w, mask) -> None:
    bw, bh = int(rng.uniform(0.1, 0.5) * w), int(rng.uniform(0.1, 0.5) * h)
    x, y = int(rng.uniform(0, w - bw)), int(rng.uniform(0, h - bh))
    mask[y:y + bh, x:x + bw] = 1


def words(rng, h, w, mask) -> None:
    """A run of word boxes on one baseline (what a name or an e-mail address redaction looks like)."""
    line_h = int(rng.uniform(0.03, 0.09) * h) + 3
    y = int(rng.uniform(0, h - line_h))
    x = int(rng.uniform(0, 0.6) * w)
    for _ in range(rng.integers(1, 5)):
        ww = int(line_h * rng.uniform(1.5, 6))
        if x + ww >= w:
            break
        mask[y:y + line_h, x:x + ww] = 1
        x += ww + int(line_h * rng.uniform(0.3, 0.8))


def lines(rng, h, w, mask) -> None:
    """Whole text lines (one or several consecutive)."""
    line_h = int(rng.uniform(0.03, 0.08) * h) + 3
    gap = int(line_h * rng.uniform(0.3, 0.9))
    y = int(rng.uniform(0, h - line_h))
    x0, x1 = int(rng.uniform(0, 0.3) * w), int(rng.uniform(0.6, 1.0) * w)
    for _ in range(rng.integers(1, 4)):
        if y + line_h >= h:
            break
        mask[y:y + line_h, x0:x1] = 1
        y += line_h + gap


def ellipses(rng, h, w, mask) -> None:
    """A face-sized upright ellipse (a face box grown by a margin)."""
    s = min(h, w)
    ax = int(rng.uniform(0.08, 0.3) * s) + 2
    ay = int(ax * rng.uniform(1.1, 1.4))
    cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
    cv2.ellipse(mask, (cx, cy), (ax, ay), float(rng.normal(0, 10)), 0, 360, 1, -1)


DRAW = {"strokes": strokes, "streaks": streaks, "rectangles": rectangles, "words": words, "lines": lines,
        "ellipses": ellipses}


def random_mask(rng: np.random.Generator, h: int, w: int, kinds: tuple[str, ...] = KINDS,
                ratio: tuple[float, float] = (0.05, 0.6)) -> np.ndarray:
    """A hole mask (bool, True = hole) of one or two random kinds covering a random share in ``ratio``."""
    target = rng.uniform(*ratio)
    chosen = rng.choice(kinds, size=int(rng.integers(1, 3)))
    mask = np.zeros((h, w), np.uint8)
    for _ in range(200):
        DRAW[str(rng.choice(chosen))](rng, h, w, mask)
        if mask.mean() >= target:
            break
    if not mask.any():
        rectangles(rng, h, w, mask)
    if mask.all():
        mask[: h // 8] = 0
    return mask.astype(bool)


def ratio_mask(rng: np.random.Generator, h: int, w: int, low: float, high: float, tries: int = 200) -> np.ndarray:
    """A random mask whose hole ratio lies in [low, high) (for evaluation buckets)."""
    for _ in range(tries):
        m = random_mask(rng, h, w, ratio=(low, high))
        if low <= m.mean() < high:
            return m
        if m.mean() >= high:  # overshoot: erase random rectangles until in range
            for _ in range(50):
                y, x = rng.integers(0, h), rng.integers(0, w)
                m[y:y + h // 10, x:x + w // 10] = False
                if m.mean() < high:
                    break
            if low <= m.mean() < high:
                return m
    raise RuntimeError(f"could not draw a mask with hole ratio in [{low}, {high})")
