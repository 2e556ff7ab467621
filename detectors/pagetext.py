"""A page's words as one text, so recognisers can work on text and their matches map back to word boxes.

Lines are joined by newlines and words by single spaces; ``word_at`` maps every character to its word. The
``digits`` and ``letters`` views have the same length as ``text`` with common OCR confusions undone inside
tokens that are mostly digits (O->0, l->1, S->5, B->8) or mostly letters (0->o, 1->l, 5->s), so offsets agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from detectors.base import Word


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of a page's text that must go, and what they are."""

    start: int
    end: int
    kind: str
    score: float = 1.0


_TO_DIGIT = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                           "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})
_TO_LETTER_LOWER = str.maketrans({"0": "o", "1": "l", "5": "s", "|": "l"})
_TO_LETTER_UPPER = str.maketrans({"0": "O", "1": "I", "5": "S", "|": "I"})
_TOKEN = re.compile(r"\S+")
GAP_BREAK = 2.0  # a gap between words wider than this many word heights breaks the line in the text


def _fix_token(tok: str) -> tuple[str, str]:
    """(digit view, letter view) of one token; both the token's length."""
    digits = sum(c.isdigit() for c in tok)
    letters = sum(c.isalpha() for c in tok)
    as_digits = tok.translate(_TO_DIGIT) if digits >= 2 and digits >= letters else tok
    if letters >= 2 and letters > digits and digits:
        upper = sum(c.isupper() for c in tok) * 2 > letters
        as_letters = tok.translate(_TO_LETTER_UPPER if upper else _TO_LETTER_LOWER)
    else:
        as_letters = tok
    return as_digits, as_letters


class PageText:
    def __init__(self, words: Sequence[Word]):
        self.words = list(words)
        order = sorted(range(len(self.words)), key=lambda i: (self.words[i].line, self.words[i].box[0]))
        parts: list[str] = []
        self.word_at: list[int] = []  # word index of every character (-1 for separators)
        self.word_start: dict[int, int] = {}
        prev_line, prev_box = None, None
        for i in order:
            w = self.words[i]
            if parts:
                # a wide gap inside a line (table columns, form label and value) separates like a line break
                gap = w.box[0] - prev_box[2] if w.line == prev_line else 0.0
                height = max(w.box[3] - w.box[1], prev_box[3] - prev_box[1], 1.0)
                sep = " " if w.line == prev_line and gap < GAP_BREAK * height else "\n"
                parts.append(sep)
                self.word_at.append(-1)
            self.word_start[i] = len(self.word_at)
            parts.append(w.text)
            self.word_at.extend([i] * len(w.text))
            prev_line, prev_box = w.line, w.box
        self.text = "".join(parts)
        self.order = order
        digit_view, letter_view = [], []
        pos = 0
        for m in _TOKEN.finditer(self.text):
            digit_view.append(self.text[pos:m.start()])
            letter_view.append(self.text[pos:m.start()])
            d, a = _fix_token(m.group())
            digit_view.append(d)
            letter_view.append(a)
            pos = m.end()
        digit_view.append(self.text[pos:])
        letter_view.append(self.text[pos:])
        self.digits = "".join(digit_view)
        self.letters = "".join(letter_view)

    def words_in(self, start: int, end: int) -> list[int]:
        """Indices of the words that any character of [start, end) belongs to, in reading order."""
        seen: dict[int, None] = {}
        for i in self.word_at[max(0, start):max(0, end)]:
            if i >= 0:
                seen[i] = None
        return list(seen)

    def line_of(self, pos: int) -> tuple[int, int]:
        """[start, end) of the text line holding character ``pos``."""
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return start, len(self.text) if end < 0 else end

    def right_of(self, pos: int) -> int | None:
        """Text position of the nearest word to the right of the word at ``pos`` on the same visual row, in
        another text line (a form's value beside its label, which OCR often reads as a separate block)."""
        i = self.word_at[pos] if 0 <= pos < len(self.word_at) else -1
        if i < 0:
            return None
        x0, y0, x1, y1 = self.words[i].box
        best, best_x = None, float("inf")
        for j, w in enumerate(self.words):
            if w.line == self.words[i].line or w.box[0] < x1:
                continue
            overlap = min(y1, w.box[3]) - max(y0, w.box[1])
            if overlap > 0.5 * min(y1 - y0, w.box[3] - w.box[1]) and w.box[0] < best_x:
                best, best_x = j, w.box[0]
        return None if best is None else self.word_start[best]

    def beside(self, pos: int) -> tuple[int, int] | None:
        """[start, end) of the word that continues the word at ``pos`` on its visual row but that OCR put in
        another text line: it starts at most a word height right of the word's end (or overlaps it)."""
        i = self.word_at[pos] if 0 <= pos < len(self.word_at) else -1
        if i < 0:
            return None
        x0, y0, x1, y1 = self.words[i].box
        h = y1 - y0
        best, best_x = None, float("inf")
        for j, w in enumerate(self.words):
            if w.line == self.words[i].line or not (x0 + 0.5 * (x1 - x0) < w.box[0] < x1 + h):
                continue
            overlap = min(y1, w.box[3]) - max(y0, w.box[1])
            if overlap > 0.5 * min(h, w.box[3] - w.box[1]) and w.box[0] < best_x:
                best, best_x = j, w.box[0]
        return None if best is None else (self.word_start[best], self.word_start[best] + len(self.words[best].text))
