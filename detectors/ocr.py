"""OCR: tesseract word boxes for one page image, in that image's pixels.

One tesseract process per page with ``OMP_THREAD_LIMIT=1`` (tesseract's own threading is slower than running
pages side by side on few cores). Pages larger than ``MAX_SIDE`` are OCR'd at a reduced working resolution and the
boxes scaled back; pages too small to hold text give no words. A page that reads badly upright is checked with
tesseract's orientation detection (OSD) and read again turned upright; light skew (a few degrees) is left to
tesseract's own line finding, whose word boxes are axis-aligned boxes around the ink and so still cover it.
Ruled lines (table rules, form boxes) are painted out before OCR (``unruled``): text touching them is otherwise
skipped.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from redact.core.errors import DetectorError, squeeze
from redact.core.images import fit_side, percentiles
from redact.core.images import grey as to_grey
from redact.core.words import Word

# Tesseract's own threading is slower than pages in parallel, so its processes get OMP_THREAD_LIMIT=1, and only
# they do: in this process the variable would cap the OpenMP runtime that torch loads, and RFR-Net's bf16 kernels
# then return garbage where torch runs more threads than the cap allows (inpaint.rfrnet.keep_within_openmp_limit).
pytesseract.pytesseract.environ = {**os.environ, "OMP_THREAD_LIMIT": "1"}

MAX_SIDE = 4400  # longest side OCR'd at full resolution (A4 at ~370 dpi); larger pages are scaled down
MIN_SIDE = 8  # a page smaller than this holds no readable text
SECONDS_PER_MEGAPIXEL = 6.0  # timeout budget: ~10x what a clean page needs
MIN_TIMEOUT = 30.0
MIN_CONF = 0.0  # tesseract gives -1 for non-words; everything it calls a word is kept (recall first)
OSD_BELOW_CONF = 55.0  # a page whose words average less than this is checked for a turned orientation
RULE_SHARE = 1 / 30  # a straight run of ink this share of the page's side long is a rule, not a letter
FAINT_RULE_LEVEL = 0.6  # a faint rule's pixel is darker than this share of the way from Otsu's threshold to the paper
FAINT_RULE_DOWN = 0.5  # a faint rule down is this share of a dark one's length (a comb box's height)
REREAD_PAD = 0.4  # a word read again is cut out with this many of its heights of paper around it
REREAD_GAP = 1.5  # crops are stacked this many word heights apart, so tesseract reads each as its own line
REREAD_KEEP = 0.6  # a new reading is taken only with at least this share of the old one's letters and digits
# a reading taken in a second pass: a word of letters ("YOLANDA", "O'Neil", "Castillo,") or a number in its boxes
CLEAN_RE = re.compile(r"[A-Za-z][A-Za-z'’.\-]*,?|[(|\[]?\d[\d\-–/.)]*[|\]]?|[-–|]")


def _runs(binv: np.ndarray, kernels) -> np.ndarray | None:
    """The straight runs of ink in ``binv`` at least as long as one of ``kernels`` (an opening each: an erosion,
    then a dilation, the dilation skipped when nothing is left), or None when there is none."""
    rules = None
    for kernel in kernels:
        core = cv2.erode(binv, kernel)
        if cv2.countNonZero(core):
            run = cv2.dilate(core, kernel)
            rules = run if rules is None else rules | run
    return rules


def unruled(grey: np.ndarray) -> np.ndarray:
    """The page with its ruled lines painted paper-white: table rules and form boxes, the long straight runs of ink
    (at least ``RULE_SHARE`` of the page's width across, or of its height down). Tesseract skips or garbles text
    that touches a rule (a table's cells, a boxed form's values); the words' boxes are the same either way.

    Dark rules are found at Otsu's threshold and painted out whole. Faint ones (a form's light grey comb boxes,
    which Otsu counts as paper and which garble the digits typed in them: "nhesyt" for 137) are found at a
    threshold nearer the paper (``FAINT_RULE_LEVEL``), down to a comb box's height (``FAINT_RULE_DOWN``), and
    painted out only where lighter than Otsu's threshold: a digit's stroke across a comb's divider stays."""
    otsu, binv = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    h, w = grey.shape
    out = grey
    across = cv2.getStructuringElement(cv2.MORPH_RECT, (max(25, int(w * RULE_SHARE)), 1))
    down = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(25, int(h * RULE_SHARE * 0.75))))
    rules = _runs(binv, (across, down))
    paper = int(percentiles(grey, [90])[0])
    if rules is not None:
        out = grey.copy()
        out[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = paper
    # faint rules, looked for at half the resolution (each 2x2 block's darkest pixel, so a line one pixel wide
    # stays): what is painted is lighter than Otsu's threshold anyway, a pixel's more or less is no matter
    small = cv2.erode(grey, np.ones((2, 2), np.uint8))[::2, ::2]
    faint = (small < otsu + FAINT_RULE_LEVEL * (paper - otsu)).astype(np.uint8)
    rules = _runs(faint, (cv2.getStructuringElement(cv2.MORPH_RECT, (max(13, int(w * RULE_SHARE / 2)), 1)),
                          cv2.getStructuringElement(cv2.MORPH_RECT,
                                                    (1, max(8, int(h * RULE_SHARE * FAINT_RULE_DOWN / 2))))))
    if rules is not None:
        big = cv2.resize(rules, (w, h), interpolation=cv2.INTER_NEAREST)
        paint = cv2.dilate(big, np.ones((5, 5), np.uint8)) > 0
        paint &= out > otsu  # (a digit's stroke across a comb's divider stays)
        out = grey.copy() if out is grey else out
        out[paint] = paper
    return out


def _run_tesseract(grey: np.ndarray, timeout: float, psm: int = 3) -> dict:
    """tesseract's TSV output for a grey image (written as PGM: the cheapest format to write and read)."""
    with tempfile.TemporaryDirectory(prefix="redact-ocr-") as tmp:
        path = str(Path(tmp) / "page.pgm")
        cv2.imwrite(path, grey)
        try:
            return pytesseract.image_to_data(path, lang="eng", config=f"--psm {psm}", timeout=timeout,
                                             output_type=pytesseract.Output.DICT)
        except RuntimeError as exc:  # pytesseract's timeout
            raise DetectorError(f"OCR took longer than {timeout:.0f} s on a {grey.shape[1]}x{grey.shape[0]} page") \
                from exc
        except pytesseract.TesseractError as exc:
            raise DetectorError(f"OCR failed: {squeeze(exc.message, 200)}") from exc


def _orientation(grey: np.ndarray, timeout: float) -> int:
    """Degrees (0, 90, 180, 270) to turn the page clockwise to make it upright, per tesseract OSD; 0 if unsure."""
    with tempfile.TemporaryDirectory(prefix="redact-osd-") as tmp:
        path = str(Path(tmp) / "page.pgm")
        cv2.imwrite(path, grey)
        try:
            osd = pytesseract.image_to_osd(path, config="--psm 0", timeout=timeout,
                                           output_type=pytesseract.Output.DICT)
        except (RuntimeError, pytesseract.TesseractError, subprocess.SubprocessError, ValueError):
            return 0  # too little text to tell: keep the page as it is
    if float(osd.get("orientation_conf", 0)) < 1.5:
        return 0
    return int(osd.get("rotate", 0)) % 360


_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def _unrotate_box(box, rotate: int, w: int, h: int):
    """A box in the page turned by ``rotate`` degrees clockwise, back in the original page (w x h)."""
    x0, y0, x1, y1 = box
    if rotate == 90:  # original (x, y) -> turned (h - y, x)
        return (y0, h - x1, y1, h - x0)
    if rotate == 180:
        return (w - x1, h - y1, w - x0, h - y0)
    if rotate == 270:  # original (x, y) -> turned (y, w - x)
        return (w - y1, x0, w - y0, x1)
    return box


def _words(data: dict, scale: float) -> list[Word]:
    words = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < MIN_CONF:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        line = line_ids.setdefault(key, len(line_ids))
        x, y, w, h = (float(data[k][i]) for k in ("left", "top", "width", "height"))
        words.append(Word(text, (x * scale, y * scale, (x + w) * scale, (y + h) * scale), conf, line))
    return words


def mean_conf(words: list[Word]) -> float:
    longish = [w.conf for w in words if len(w.text) >= 3]
    return float(np.mean(longish)) if longish else 0.0


def ocr_page(image: np.ndarray, osd: bool = True) -> list[Word]:
    """Every word tesseract reads on the page, boxes in the page's pixels, words on one line sharing ``line``."""
    if image.ndim < 2 or min(image.shape[:2]) < MIN_SIDE:
        return []
    grey, s = fit_side(to_grey(image), MAX_SIDE)
    scale = 1 / s
    if float(grey.max()) - float(grey.min()) < 16:  # a blank page: nothing to read, no need to ask tesseract
        return []
    timeout = max(MIN_TIMEOUT, SECONDS_PER_MEGAPIXEL * grey.size / 1e6)
    grey = unruled(grey)
    words = _words(_run_tesseract(grey, timeout), scale)
    if osd and mean_conf(words) < OSD_BELOW_CONF:
        rotate = _orientation(grey, timeout)
        if rotate:
            turned = _words(_run_tesseract(cv2.rotate(grey, _ROTATE[rotate]), timeout), 1.0)
            if mean_conf(turned) > mean_conf(words):
                gh, gw = grey.shape
                words = [Word(t.text, tuple(v * scale for v in _unrotate_box(t.box, rotate, gw, gh)), t.conf, t.line)
                         for t in turned]
    return words


def reread(image: np.ndarray, words: list[Word], which: list[int]) -> list[Word]:
    """``words`` with those at indices ``which`` read again, each cut out of the page on its own (a second OCR
    pass over a form's field: tesseract's page layout can garble a short value between boxes and captions that
    it reads right alone). The cut-outs are stacked into one image and read in one call; a word's new reading
    replaces it only where tesseract is surer of it (a word read as several keeps their boxes)."""
    if not which or image.ndim < 2:
        return words
    grey = to_grey(image)
    H, W = grey.shape
    paper = int(percentiles(grey, [90])[0])
    crops = []
    for i in which:
        x0, y0, x1, y1 = words[i].box
        pad = REREAD_PAD * max(4.0, y1 - y0)
        box = (max(0, int(x0 - pad)), max(0, int(y0 - pad)), min(W, int(np.ceil(x1 + pad))),
               min(H, int(np.ceil(y1 + pad))))
        if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
            crops.append((i, box))
    if not crops:
        return words
    gap = int(REREAD_GAP * max(b[3] - b[1] for _, b in crops))
    stack = np.full((sum(b[3] - b[1] + gap for _, b in crops) + gap, max(b[2] - b[0] for _, b in crops) + 2 * gap),
                    paper, np.uint8)
    y, places = gap, []
    for i, (x0, y0, x1, y1) in crops:
        stack[y:y + y1 - y0, gap:gap + x1 - x0] = grey[y0:y1, x0:x1]
        places.append((i, y, y + y1 - y0, x0 - gap, y0 - y))
        y += y1 - y0 + gap
    try:
        found = _words(_run_tesseract(unruled(stack), max(MIN_TIMEOUT, SECONDS_PER_MEGAPIXEL * stack.size / 1e6),
                                      psm=6), 1.0)
    except DetectorError:
        return words
    out = list(words)
    extra: list[Word] = []
    for i, a, b, dx, dy in places:
        got = [w for w in found if a <= (w.box[1] + w.box[3]) / 2 < b]
        surer = bool(got) and min(w.conf for w in got) > words[i].conf
        # a clean reading only (letters, or a number's digits and separators), as long as the old one (not a box's
        # border read alone where the word was)
        if surer and all(CLEAN_RE.fullmatch(w.text) for w in got) \
                and _alnum(w.text for w in got) >= REREAD_KEEP * _alnum([words[i].text]):
            line = words[i].line
            got = [Word(w.text, (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy), w.conf, line)
                   for w in got]
            out[i] = got[0]
            extra += got[1:]
    return out + extra


def _alnum(texts) -> int:
    return sum(c.isalnum() for t in texts for c in t)
