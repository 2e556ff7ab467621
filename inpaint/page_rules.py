"""Page fills' finishing stages: rules continued through holes, and the fill's tone matched to the paper.

A removed value on a form usually sits on a line, and a removed table cell between ruled rows and bordered
columns. ``continue_rules`` finds the straight horizontal and vertical rules of the known page (segments of ink at
least ``MIN_RULE`` px long, each fitted with a straight line, its thickness and colour), joins two segments into
one rule where the gap between them is hole and their lines agree, and draws each rule over the hole pixels along
it: across the gaps it bridges and where it runs along a hole's edge. A rule that runs into a hole and does not
come out is not extended: nothing says where it ends. Everything drawn comes from pixels outside the holes.

``match_tone`` shifts each hole's fill so that its paper has the colour of the paper just around the hole: the page
model fills tiles normalised with their own statistics, which keeps the brightness but can lose a paper's tint,
and Telea smears the ink at a hole's edge into it.

``finish_fill`` runs both on the fills that restore a page's background (``inpaint``, ``telea``, ``ns``).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_BELOW_PAPER = 60  # grey levels under the page's paper that count as a rule's ink
MIN_RULE = 12  # px: straight ink runs at least this long are rule segments
AGREE = 1.5  # px: two segments are one rule when one's line passes this close to the other's start
GAP_IN_HOLE = 0.9  # share of a gap's track that must be hole for two segments to be joined across it
BAND = 3  # px either side of a segment's line where its ink is weighed
TONE_RING = 6  # px around a hole whose paper sets the fill's tone
TONE_INK = 25  # grey levels under a region's median that are ink, not paper, when the tone is measured
PAPER_SHARE = 0.7  # a hole is on paper when at least this share of its ring is paper...
PAPER_NOISE = 15.0  # ... with at most this spread (grey levels, per channel)


def finish_fill(image: np.ndarray, filled: np.ndarray, hole: np.ndarray, domain: str) -> np.ndarray:
    """A page's fill toned to its paper and with its rules drawn across the holes; other domains' as it is."""
    if domain != "page":
        return filled
    known = image * (~hole)[..., None]
    return continue_rules(known, match_tone(known, filled, hole), hole)


@dataclass
class Segment:
    """A straight piece of a horizontal rule: y = slope * x + offset from ``x0`` to ``x1``."""
    x0: int
    x1: int
    slope: float
    offset: float
    thickness: float
    colour: np.ndarray

    def y(self, x):
        return self.slope * x + self.offset


def continue_rules(image: np.ndarray, filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``filled`` with every rule of ``image`` (RGB, hole pixels unknown) drawn over the holes it crosses."""
    known = ~hole
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    paper = float(np.median(grey[known]))
    ink = known & (grey < paper - INK_BELOW_PAPER)
    out = filled.astype(np.float32)
    for transpose in (False, True):  # horizontal rules, then vertical ones on the transposed page
        t = (lambda a: a.swapaxes(0, 1)) if transpose else (lambda a: a)
        lines = cv2.morphologyEx(t(ink).astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, MIN_RULE), np.uint8))
        near = cv2.integral(cv2.dilate(t(hole).astype(np.uint8), np.ones((2 * BAND + 3, 8 * MIN_RULE + 1), np.uint8)))
        segments = _segments(lines, t(image), t(grey), t(known), near, paper)
        for a, b, x0, x1 in _spans(segments, t(hole)):
            _draw(t(out), t(hole), a, b, x0, x1)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _segments(lines: np.ndarray, image: np.ndarray, grey: np.ndarray, known: np.ndarray, near: np.ndarray,
              paper: float) -> list[Segment]:
    """The horizontal rule segments in ``lines`` (their ink) that are long or come near a hole (``near``: the
    integral image of the grown holes), each fitted with its line, thickness and colour; their slope is the
    page's (the median of the long segments')."""
    h, w = lines.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    out, centres, slopes = [], [], []
    for k in range(1, n):
        x, y, bw, bh = stats[k, :4]
        if bw < MIN_RULE or bh > max(8, bw // 4):  # long and flat: a rule, not a blot
            continue
        if bw < 4 * MIN_RULE and near[y + bh, x + bw] - near[y, x + bw] - near[y + bh, x] + near[y, x] == 0:
            continue  # a short stroke far from every hole (most are pieces of letters)
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == k)
        slope, offset = np.polyfit(xs + x, ys + y, 1)
        if bw >= 4 * MIN_RULE:
            slopes.append(slope)
        cols = np.arange(x, x + bw)
        rows = np.clip(np.round(slope * cols + offset).astype(int)[None] + np.arange(-BAND, BAND + 1)[:, None], 0, h - 1)
        g, ok = grey[rows, cols[None]], known[rows, cols[None]]
        darkest = g.min(axis=0)
        colour = np.median(image[rows[g.argmin(axis=0), np.arange(bw)], cols], axis=0)
        weight = np.where(ok, np.clip((paper - g) / max(1.0, paper - float(np.median(darkest))), 0, 1), 0)
        centre = (weight * rows).sum(axis=0) / np.maximum(weight.sum(axis=0), 1e-6)
        full = ok.all(axis=0) & (weight.sum(axis=0) > 0)  # columns whose whole band is known
        if not full.any():
            continue
        thickness = float(np.median(weight.sum(axis=0)[full]))
        out.append(Segment(int(x), int(x + bw - 1), float(slope), float(offset), max(1.0, thickness), colour))
        centres.append((cols[full], centre[full]))
    # every rule of a page is turned by the same angle: one slope (the long segments' median), fitted offsets
    slope = float(np.median(slopes)) if slopes else 0.0
    for sg, (cols, centre) in zip(out, centres):
        sg.slope, sg.offset = slope, float(np.median(centre - slope * cols))
    return out


def _spans(segments: list[Segment], hole: np.ndarray):
    """(segment, next segment or None, x0, x1): each segment over its own extent, and each gap between two
    segments of one rule that is hole, bridged from the end of the first to the start of the second."""
    h, w = hole.shape
    for a in segments:
        cols = np.arange(a.x0, a.x1 + 1)
        if hole[np.clip(np.round(a.y(cols)).astype(int), 0, h - 1), cols].any():  # it runs along or into a hole
            yield a, None, a.x0, a.x1
    for a in segments:
        if not hole[int(np.clip(round(a.y(a.x1)), 0, h - 1)), min(w - 1, a.x1 + 2)]:
            continue  # its end does not meet a hole
        best = None
        for b in segments:
            gap = b.x0 - a.x1
            if gap < 2:
                continue
            miss = abs(b.y(b.x0) - a.y(b.x0))
            if miss > AGREE:
                continue
            xs = np.arange(a.x1 + 1, b.x0)
            ys = np.clip(np.round(a.y(xs)).astype(int), 0, h - 1)
            if hole[ys, xs].mean() >= GAP_IN_HOLE and (best is None or miss < best[0]):
                best = miss, b
        if best is not None:
            yield a, best[1], a.x1 + 1, best[1].x0 - 1


def _draw(out: np.ndarray, hole: np.ndarray, a: Segment, b: Segment | None, x0: int, x1: int) -> None:
    """Blend the rule over the hole pixels of columns ``x0..x1``: along ``a``, or from ``a``'s end to ``b``'s
    start; anti-aliased edges, as thick and as dark as the segments."""
    h = hole.shape[0]
    cols = np.arange(x0, x1 + 1)
    if b is None:
        centre, half, colour = a.y(cols), np.full(cols.shape, a.thickness / 2), a.colour
    else:
        f = (cols - a.x1) / max(1, b.x0 - a.x1)
        centre = a.y(a.x1) + f * (b.y(b.x0) - a.y(a.x1))
        half, colour = (a.thickness + f * (b.thickness - a.thickness)) / 2, (a.colour + b.colour) / 2
    r0 = max(0, int(centre.min() - half.max()) - 1)
    r1 = min(h, int(centre.max() + half.max()) + 2)
    if r0 >= r1:
        return
    rows = np.arange(r0, r1)[:, None]
    cover = np.clip(half[None] + 0.5 - np.abs(rows - centre[None]), 0.0, 1.0)
    inside = hole[r0:r1, x0:x1 + 1] & (cover > 0)
    if not inside.any():
        return
    region = out[r0:r1, x0:x1 + 1]
    alpha = cover[inside][:, None]
    region[inside] = (1 - alpha) * region[inside] + alpha * colour


def match_tone(image: np.ndarray, filled: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``filled`` with each hole on paper toned to it: the fill shifted (per channel) so that its paper matches
    the paper around the hole, and nothing in it darker than that paper's noise (a removed word leaves no smear).
    Rules are drawn afterwards (``continue_rules``)."""
    out = filled.astype(np.float32)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.int16)
    grey_fill = cv2.cvtColor(filled, cv2.COLOR_RGB2GRAY).astype(np.int16)
    near = np.ones((2 * TONE_RING + 1,) * 2, np.uint8)
    h, w = hole.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)))
    for k in range(1, n):  # one region per line of words (nearby holes grouped), its paper ring around it
        x, y, bw, bh = stats[k, :4]
        y0, y1, x0, x1 = max(0, y - TONE_RING), min(h, y + bh + TONE_RING), max(0, x - TONE_RING), min(w, x + bw + TONE_RING)
        region = labels[y0:y1, x0:x1] == k
        inside = region & hole[y0:y1, x0:x1]
        ring = (cv2.dilate(region.astype(np.uint8), near) > 0) & ~region & ~hole[y0:y1, x0:x1]
        paper_ring, paper_fill = _paper(grey[y0:y1, x0:x1], ring), _paper(grey_fill[y0:y1, x0:x1], inside)
        if paper_ring.sum() < max(20, PAPER_SHARE * ring.sum()) or paper_fill.sum() < 20:
            continue  # not a hole on paper (a picture on the page, or too little around it to tell)
        paper = image[y0:y1, x0:x1][paper_ring].astype(np.float32)
        if paper.std(axis=0).max() > PAPER_NOISE:
            continue
        colour = np.median(paper, 0)
        fill = out[y0:y1, x0:x1]
        shifted = fill[inside] + colour - np.median(filled[y0:y1, x0:x1][paper_fill].astype(np.float32), 0)
        # removed text becomes paper: nothing darker than the paper's own noise (Telea smears edge ink inwards)
        fill[inside] = np.maximum(shifted, colour - 2.5 * paper.std(axis=0))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _paper(grey: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The pixels of ``where`` that are paper: not darker than its median by more than ``TONE_INK``."""
    paper = where.copy()
    if where.any():
        paper[where] = grey[where] > np.median(grey[where]) - TONE_INK
    return paper
