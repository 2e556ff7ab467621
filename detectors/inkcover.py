"""The box that covers a run of OCR'd words' ink, ascenders and descenders included.

tesseract's word boxes are close to the ink but not exact: a sliver of a glyph can stick out (a descender, the
end of a long word on a slightly rotated line), and a long word on a rotated line gets a box much taller than its
text. So a region is not the OCR box padded by a share of its height (which both misses slivers and, for tall
boxes, reaches into the next line); it is the OCR box grown to the ink of the connected components that touch it:

- the page is binarised locally (in a window around the words) between its paper and ink levels, at a threshold
  near the paper so that the faint, anti-aliased edge of a glyph counts as ink;
- rules (straight runs of ink longer than a glyph's stroke: table rules, form frames, a comb's dividers,
  underlines) are taken out of the ink first, so a glyph that touches one is a component of its own and a frame
  cannot stretch the region to the window's edges, where it would touch the lines above and below (a rule holds
  no text, and an underline under a value looks the same as a form box's edge);
- every connected component of ink that overlaps the words' box is covered; components are clipped to the window
  (the box grown by about half a line height);
- the result is padded by a pixel or two plus a small share of the line's height, for what binarisation missed.

Where the window holds no clear ink (a text-layer word over an empty area, a blank page) the OCR box is padded by
a larger share of the line height instead.
"""
from __future__ import annotations

import cv2
import numpy as np

from redact.core.images import percentiles
from redact.core.regions import Box, padded

WINDOW_Y, WINDOW_X = 0.5, 1.0  # window around the words, in line heights
MIN_CONTRAST = 40  # paper minus ink grey levels below this: no clear ink in the window
INK_LEVEL = 0.22  # a pixel darker than paper by this share of (paper - ink) is ink
PAD_INK = 0.05  # padding around the found ink, in line heights (plus PAD_INK_PX)
PAD_INK_PX = 1.0
PAD_FALLBACK = 0.25  # padding around the OCR box where no ink could be measured
RULE_ACROSS, RULE_DOWN = 2.0, 1.5  # straight runs of ink this many line heights long are rules, not glyphs
RULE_LEVEL = 0.12  # rules are found at a threshold nearer the paper than glyphs (a form's light grey frames)
LETTER_GAP = 0.12  # ink this close (in line heights) beyond a word's end belongs to the word; a space is wider
LETTER_GAP_MAX = 0.4  # ... or as close as the word's own letters are spaced (1.5 times their median gap), up to this


def ink_box(grey: np.ndarray | None, box: Box, line_height: float) -> Box:
    """``box`` (words on one line) grown to cover their ink, padded; the padded box when no ink is found."""
    h = max(line_height, 4.0)
    if grey is None:
        return padded(box, PAD_FALLBACK * h)
    H, W = grey.shape
    x0, y0, x1, y1 = box
    wx0, wy0 = max(0, int(np.floor(x0 - WINDOW_X * h))), max(0, int(np.floor(y0 - WINDOW_Y * h)))
    wx1, wy1 = min(W, int(np.ceil(x1 + WINDOW_X * h))), min(H, int(np.ceil(y1 + WINDOW_Y * h)))
    if wx1 - wx0 < 2 or wy1 - wy0 < 2:
        return padded(box, PAD_FALLBACK * h)
    win = grey[wy0:wy1, wx0:wx1]
    paper, ink_level = percentiles(win, [75, 1])
    if paper - ink_level < MIN_CONTRAST:
        return padded(box, PAD_FALLBACK * h)
    ink = (win < paper - INK_LEVEL * (paper - ink_level)).astype(np.uint8)
    # the words' box in window coordinates
    bx0, by0, bx1, by1 = x0 - wx0, y0 - wy0, x1 - wx0, y1 - wy0
    gx0, gy0, gx1, gy1 = bx0, by0, bx1, by1
    rules = _rules((win < paper - RULE_LEVEL * (paper - ink_level)).astype(np.uint8), h) & ink
    ink[rules > 0] = 0  # glyphs that touch a rule are their own components, the rule no part of them
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    taken = set()
    for k in range(1, n):
        cx, cy, cw, ch, area = (int(v) for v in stats[k])
        if cx < bx1 and cx + cw > bx0 and cy < by1 and cy + ch > by0:
            taken.add(k)
            gx0, gy0 = min(gx0, cx), min(gy0, cy)
            gx1, gy1 = max(gx1, cx + cw), max(gy1, cy + ch)
    # glyphs just beyond either end of the box on its row (OCR's box cut off the last letter, "Anthon|y"): a
    # component within a letter gap of the covered ink, not a word space away, joins, one after another; a letter
    # gap is the font's own, measured between the covered glyphs (a typewriter font spaces its letters wide)
    spans = sorted((int(stats[k][0]), int(stats[k][0] + stats[k][2])) for k in taken)
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:]) if b[0] > a[1]]
    letter_gap = max(LETTER_GAP * h, min(LETTER_GAP_MAX * h, 1.5 * float(np.median(gaps)) if len(gaps) >= 3 else 0.0))
    grew = True
    while grew:
        grew = False
        for k in range(1, n):
            cx, cy, cw, ch, area = (int(v) for v in stats[k])
            if k in taken or not (cy < by1 and cy + ch > by0) or ch > 1.5 * (by1 - by0):  # a rule is no glyph
                continue
            if -1 <= cx - gx1 <= letter_gap or -1 <= gx0 - (cx + cw) <= letter_gap:
                taken.add(k)
                grew = True
                gx0, gy0 = min(gx0, cx), min(gy0, cy)
                gx1, gy1 = max(gx1, cx + cw), max(gy1, cy + ch)
    pad = PAD_INK_PX + PAD_INK * h
    return (wx0 + gx0 - pad, wy0 + gy0 - pad, wx0 + gx1 + pad, wy0 + gy1 + pad)


def _rules(ink: np.ndarray, h: float) -> np.ndarray:
    """The straight runs of ``ink`` longer than any glyph stroke: across, ``RULE_ACROSS`` line heights; down,
    ``RULE_DOWN`` (table rules, form frames, a comb's dividers), a speck of paper in them closed first (a light
    grey rule on a noisy scan)."""
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    across = cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(RULE_ACROSS * h)), 1))
    down = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(RULE_DOWN * h))))
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, across) | cv2.morphologyEx(ink, cv2.MORPH_OPEN, down)
