"""The text detector (``--detect names`` and/or ``--detect pii``): OCR, recognisers, and regions around the words.

One ``TextDetector`` serves both (the pipeline builds one with ``names=`` and ``pii=`` as asked), so each page is
OCR'd once. Several pages are OCR'd side by side, one tesseract process each (tesseract does the work in its own
process; a thread here only waits for it).

A matched span becomes one region per text line it touches, covering every word of the span on that line grown to
the words' ink (``detectors.inkcover``), so that no ascender, descender or underline of those words is left.
Regions carry the kind, never the text. ``--terms`` always go; ``--allow`` keeps what it names.
"""
from __future__ import annotations

import os
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import pytesseract

from detectors.base import Word
from detectors.inkcover import ink_box
from redact.core.images import grey as grey_of
from detectors.ocr import ocr_page, reread
from detectors.pagetext import PageText, Span
from redact.core.regions import PERSON, TERM, Region

OCR_WORKERS = max(1, min(4, os.cpu_count() or 1))
JOIN_GAP = 1.0  # boxes of one kind closer than this many line heights on a row are one region
TEXT_LAYER_LINE_OFFSET = 1_000_000  # OCR'd words merged with a text layer get line ids apart from its lines


def ocr_many(images: Sequence[np.ndarray]) -> list[list[Word]]:
    """Every page's OCR words, several pages side by side (one tesseract process each)."""
    if len(images) <= 1:
        return [ocr_page(im) for im in images]
    with ThreadPoolExecutor(max_workers=min(OCR_WORKERS, len(images)), thread_name_prefix="ocr") as pool:
        return list(pool.map(ocr_page, images))


def merge_text_layer(layer: Sequence[Word], ocr: Sequence[Word]) -> list[Word]:
    """Text-layer words, plus the OCR'd words that no text-layer word covers (text drawn as an image)."""
    merged = list(layer)
    for w in ocr:
        cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
        if not any(b.box[0] <= cx <= b.box[2] and b.box[1] <= cy <= b.box[3] for b in layer):
            merged.append(Word(w.text, w.box, w.conf, w.line + TEXT_LAYER_LINE_OFFSET))
    return merged


def merge_spans(spans: Sequence[Span]) -> list[Span]:
    """Overlapping spans of one kind as one span (the highest score kept)."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.kind, s.start, -s.end)):
        if out and out[-1].kind == s.kind and s.start <= out[-1].end:
            last = out[-1]
            out[-1] = Span(last.start, max(last.end, s.end), s.kind, max(last.score, s.score))
        else:
            out.append(s)
    return sorted(out, key=lambda s: s.start)


def spans_to_regions(page: PageText, spans: Sequence[Span], detector: str, index: int,
                     grey: np.ndarray | None = None) -> list[Region]:
    """One region per (span, text line): the union of the span's words on that line grown to their ink in the
    grey page (``detectors.inkcover``; without the page, padded by a share of the line height). Boxes of one kind
    side by side on a visual row (the pieces of an address OCR split into words of different lines) are joined
    first, so that the ink between them goes too."""
    line_height: dict[int, float] = {}
    for line in {w.line for w in page.words}:
        heights = [w.box[3] - w.box[1] for w in page.words if w.line == line and len(w.text) >= 2]
        line_height[line] = float(np.median(heights)) if heights else 0.0
    boxes: list[tuple[str, list[float], float, float]] = []  # kind, box, line height, score
    for span in spans:
        by_line: dict[int, list[Word]] = {}
        for i in page.words_in(span.start, span.end):
            by_line.setdefault(page.words[i].line, []).append(page.words[i])
        for line, words in by_line.items():
            box = [min(w.box[0] for w in words), min(w.box[1] for w in words),
                   max(w.box[2] for w in words), max(w.box[3] for w in words)]
            boxes.append((span.kind, box, line_height.get(line, 0.0) or (box[3] - box[1]), span.score))
    merged = _join_side_by_side(boxes)
    return [Region(kind, ink_box(grey, tuple(box), h), score, detector, index) for kind, box, h, score in merged]


def _join_side_by_side(boxes):
    """Boxes of one kind that overlap or sit side by side on one row (a gap under ``JOIN_GAP`` line heights)
    joined into one."""
    out: list[tuple[str, list[float], float, float]] = []
    for kind, box, h, score in sorted(boxes, key=lambda b: (b[0], b[1][0])):
        for k, (kind2, box2, h2, score2) in enumerate(out):
            overlap = min(box[3], box2[3]) - max(box[1], box2[1])
            gap = max(box[0], box2[0]) - min(box[2], box2[2])
            if kind2 == kind and overlap > 0.5 * min(box[3] - box[1], box2[3] - box2[1]) \
                    and gap < JOIN_GAP * max(h, h2):
                out[k] = (kind, [min(box[0], box2[0]), min(box[1], box2[1]), max(box[2], box2[2]),
                                 max(box[3], box2[3])], max(h, h2), max(score, score2))
                break
        else:
            out.append((kind, list(box), h, score))
    return out


def _inside(a, b) -> bool:
    """Whether box ``a`` lies within box ``b``."""
    return b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def _tesseract_version() -> str:
    try:
        return str(pytesseract.get_tesseract_version()).split()[0]
    except Exception:  # noqa: BLE001 - tesseract missing: OCR will fail with its own message
        return "?"


class TextDetector:
    """Names (``names=True``) and/or other personal data (``pii=True``) in page images."""

    def __init__(self, settings, names: bool, pii: bool):
        self.settings = settings
        self.names = names
        self.pii = pii
        self.name = "names" if names and not pii else "pii" if pii and not names else "text"
        self.terms = tuple(settings.terms)
        self.allow = tuple(settings.allow)
        parts = [f"tesseract-{_tesseract_version()}"]
        self.finder = None
        if names:
            from detectors.names import NameFinder

            self.finder = NameFinder()
            parts.append(self.finder.model_id)
        if pii:
            import phonenumbers

            parts.append(f"phonenumbers-{phonenumbers.__version__}")
        self.model_id = "+".join(parts)

    def spans(self, page: PageText) -> list[Span]:
        """Every span to remove from one page (after --allow)."""
        return self._kept(page, self._found(page))

    def _found(self, page: PageText) -> list[Span]:
        from detectors.fields import find_fields
        from detectors.pii import find_pii

        found: list[Span] = find_fields(page, self.names, self.pii)
        if self.finder is not None:
            found += self.finder.find(page)
        if self.pii:
            found += find_pii(page)
        return found

    def _kept(self, page: PageText, found: list[Span]) -> list[Span]:
        """``found`` less what --allow keeps, plus the --terms."""
        from detectors.names import find_phrases

        if self.allow and found:
            allowed = {i for s in find_phrases(page, self.allow) for i in page.words_in(s.start, s.end)}
            found = [s for s in found if not set(page.words_in(s.start, s.end)) <= allowed]
        if self.terms:
            found += find_phrases(page, self.terms, TERM)
        return found

    def regions_from_words(self, images: Sequence[np.ndarray], words: Sequence[Sequence[Word]],
                           start_index: int = 0) -> list[list[Region]]:
        """Regions per image from that image's words (OCR'd or from a text layer). A name found on one page of
        the batch is looked for on the others too (a surname alone on page 2 of a letter)."""
        pages = [PageText(w) for w in words]
        found = [self._found(page) for page in pages]
        if self.finder is not None and len(pages) > 1:
            from detectors.names import name_words, propagate

            known = set().union(*(name_words(p, f, self.finder.english) for p, f in zip(pages, found)))
            found = [f + propagate(p, known) for p, f in zip(pages, found)]
        out = []
        for k, (image, page, spans) in enumerate(zip(images, pages, found)):
            grey = grey_of(image) if image.ndim >= 2 and image.size else None
            spans = merge_spans(self._kept(page, spans))
            out.append([replace(r, detector=self.key_of(r.kind))
                        for r in spans_to_regions(page, spans, self.name, start_index + k, grey)])
        return out

    def key_of(self, kind: str) -> str:
        """The registry key a region of ``kind`` was asked for by: ``names`` for people, ``pii`` for the rest
        (one OCR pass serves both keys)."""
        if self.names and self.pii:
            return "names" if kind == PERSON else "pii"
        return self.name

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0, words=None) -> list[list[Region]]:
        """Regions per image. ``words`` (optional, per image) are words from a PDF text layer; the page is OCR'd
        as well and OCR'd words the text layer does not cover are added (text drawn as pictures)."""
        from detectors.deskew import region_back, upright

        layer = [words is not None and k < len(words) and bool(words[k]) for k in range(len(images))]
        # a scanned page is read upright (its skew taken out) and its regions carried back; a page with a text
        # layer is read as it is (its words are in its own coordinates)
        turned = [(image, None) if layer[k] else upright(image) for k, image in enumerate(images)]
        pages = [t[0] for t in turned]
        ocr = ocr_many(pages)
        first = ocr
        if words is not None:
            ocr = [merge_text_layer(words[k], w) if layer[k] else w for k, w in enumerate(ocr)]
        out = self.regions_from_words(pages, ocr, start_index)
        for k, (image, page_words) in enumerate(zip(pages, first)):
            if not layer[k]:
                out[k] += self._second_pass(image, page_words, out[k], start_index + k)
        for k, (image, (_, back)) in enumerate(zip(images, turned)):
            if back is not None:
                out[k] = [region_back(r, back, image.shape[1], image.shape[0]) for r in out[k]]
        return out

    def _second_pass(self, image: np.ndarray, words: list[Word], regions: list[Region], index: int) -> list[Region]:
        """Regions a second OCR pass adds: the weak words of a person's, an SSN's, a date of birth's or a phone's
        field (``detectors.fields.weak_field_words``) read again on their own, in one tesseract call, a new reading
        taken only when clean (``detectors.ocr.reread``); the fields found again over the new readings add the
        regions of values that hold one of them. Nothing the first pass found is dropped."""
        from detectors.fields import _same_row, find_fields, weak_field_words

        which = weak_field_words(PageText(words))
        if not which:
            return []
        again = reread(image, words, which)
        new = {i for i in which if again[i] is not words[i]} | set(range(len(words), len(again)))
        if not new:
            return []
        page = PageText(again)
        found = find_fields(page, self.names, self.pii)  # (one span a word)
        hits = [(s.kind, page.words[i].box) for s in found for i in page.words_in(s.start, s.end) if i in new]
        # a value holding a new reading, whole: its other words on that row too ("fiat 15 —|1966": only "15" new)
        spans = [s for s in found if any(k == s.kind and _same_row(page.words[i].box, b)
                                         for i in page.words_in(s.start, s.end) for k, b in hits)]
        spans = merge_spans(self._kept(page, spans))
        if not spans:
            return []
        grey = grey_of(image) if image.ndim >= 2 and image.size else None
        have = [r.box for r in regions]
        return [replace(r, detector=self.key_of(r.kind)) for r in spans_to_regions(page, spans, self.name, index, grey)
                if not any(_inside(r.box, b) for b in have)]
