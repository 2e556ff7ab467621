"""Helpers of the text tests: words laid out as OCR gives them, and what a detector finds in them."""
from __future__ import annotations

from detectors.base import Word
from detectors.pagetext import PageText


def words_of(lines: list[str]) -> list[Word]:
    """Words laid out as lines of text (12 px per character, 30 px per line) as OCR would give them."""
    out = []
    for n, line in enumerate(lines):
        x = 10
        for t in line.split():
            out.append(Word(t, (x, 30 * n + 5, x + 12 * len(t), 30 * n + 25), 95.0, n))
            x += 12 * len(t) + 12
    return out


def found(detector, lines):
    page = PageText(words_of(lines))
    return [(s.kind, page.text[s.start:s.end]) for s in detector.spans(page)]
