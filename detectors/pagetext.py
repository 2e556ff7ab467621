"""A page's words as one text, so recognisers can work on text and their matches map back to word boxes.

Lines are joined by newlines and words by single spaces; ``word_at`` maps every character to its word. The
``digits`` and ``letters`` views have the same length as ``text`` with common OCR confusions undone inside
tokens that are mostly digits (O/©->0, l->1, S/$->5, B/&->8, A->4, G->6, T->7) or mostly letters (0->o, 1->l,
5->s; a bar or backslash between letters -> I or l: "F\\RST"; "0." alone is an initial O), so offsets agree.
``row_cells`` and ``column_under`` read the page as a table: the cells of a visual row, and the cells under a
column header (for the recognisers' column rules: a column headed Name, Phone, Email ...).
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


TO_DIGIT = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                           "!": "1", "S": "5", "s": "5", "$": "5", "B": "8", "Z": "2", "z": "2", "A": "4", "G": "6",
                           "T": "7", "©": "0", "&": "8"})
_TO_LETTER_LOWER = str.maketrans({"0": "o", "1": "l", "5": "s", "|": "l", "\\": "l"})
_TO_LETTER_UPPER = str.maketrans({"0": "O", "1": "I", "5": "S", "|": "I", "\\": "I"})
_STROKE_INSIDE = re.compile(r"[A-Za-z][|\\][A-Za-z]")  # "F\RST": OCR's bar or backslash for an I between letters
_TOKEN = re.compile(r"\S+")
_EDGE_SPECK = re.compile(r"^[°º˚^`*\"“”]+(?=\d)|(?<=\d)[°º˚^`*\"“”]+$")
GAP_BREAK = 2.0  # a gap between words wider than this many word heights breaks the line in the text
COLUMN_GAP = 1.5  # a table cell is set off from its row neighbours by at least this many text heights
MAX_ROW_GAP = 3.0  # a table column ends at a vertical gap of more than this many row heights
MAX_ROWS = 80
PROSE_WORDS = 5  # a run of text with this many words in lower case is a sentence, not a table's row
BLOB_HEIGHT = 1.6  # a word this many times as tall as the next on its line may be two lines read as one
UNSURE_CONF = 50  # a word tesseract read with less confidence than this is one it was unsure of (garbled, often)


def _fix_token(tok: str) -> tuple[str, str]:
    """(digit view, letter view) of one token; both the token's length."""
    digits = sum(c.isdigit() for c in tok)
    letters = sum(c.isalpha() for c in tok)
    as_digits = tok.translate(TO_DIGIT) if digits >= 2 and digits >= letters else tok
    if digits >= 2:  # a speck OCR glued to a number's edge ("°10" in "+34 750 °10 52 89"): a space in this view
        as_digits = _EDGE_SPECK.sub(lambda m: " " * len(m.group()), as_digits)
    if letters >= 2 and letters > digits and (digits or _STROKE_INSIDE.search(tok)):
        upper = sum(c.isupper() for c in tok) * 2 > letters
        as_letters = tok.translate(_TO_LETTER_UPPER if upper else _TO_LETTER_LOWER)
        if re.match(r"0['’][A-Z]", tok):
            as_letters = "O" + as_letters[1:]  # "0'Neil": an Irish name's O, capital before its apostrophe
    elif tok == "0.":
        as_letters = "O."  # an initial O read as a zero ("T. 0. Lefebvre")
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

    def unsure(self, idx) -> bool:
        """Whether OCR was unsure of every word at ``idx`` that holds a letter or digit (a value it garbled)."""
        confs = [self.words[i].conf for i in idx if any(c.isalnum() for c in self.words[i].text)]
        return bool(confs) and max(confs) < UNSURE_CONF

    def caption_blob(self, i: int) -> bool:
        """Whether word ``i`` is a small caption of two lines that OCR read as one garbled word ("eae" for "No. &" /
        "Street" before a typed street): the first word of its OCR line, read unsure, with no digit, and at least
        ``BLOB_HEIGHT`` times as tall as the next word on its line (the value, read sure)."""
        w = self.words[i]
        k = self.order.index(i)
        if w.conf >= UNSURE_CONF or any(c.isdigit() for c in w.text) or k + 1 >= len(self.order) \
                or (k > 0 and self.words[self.order[k - 1]].line == w.line):
            return False
        nxt = self.words[self.order[k + 1]]
        return nxt.line == w.line and nxt.conf >= UNSURE_CONF and sum(c.isalnum() for c in nxt.text) >= 2 \
            and w.box[3] - w.box[1] >= BLOB_HEIGHT * (nxt.box[3] - nxt.box[1])

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

    def row_cells(self, y0: float, y1: float) -> list[list[int]]:
        """The words on the visual row [y0, y1) grouped into cells (runs of words with no wide gap), left to right."""
        row = sorted((i for i, w in enumerate(self.words)
                      if min(w.box[3], y1) - max(w.box[1], y0) > 0.5 * min(w.box[3] - w.box[1], y1 - y0)),
                     key=lambda i: self.words[i].box[0])
        cells: list[list[int]] = []
        for i in row:
            w = self.words[i]
            if cells:
                last = self.words[cells[-1][-1]]
                height = max(w.box[3] - w.box[1], last.box[3] - last.box[1], 1.0)
                if w.box[0] - last.box[2] < COLUMN_GAP * height:
                    cells[-1].append(i)
                    continue
            cells.append([i])
        return cells

    def column_under(self, h: int) -> list[list[int]]:
        """The cells (word indices, top to bottom) of the table column whose header is word ``h``; none when ``h``
        heads no column (a header row has several cells of a word or a few each, none a form label ending in
        ":"). A cell is held to the header's x range (from the header to the next header); the column ends at a
        wide vertical gap or at a line of running text."""
        hx0, hy0, hx1, hy1 = self.words[h].box
        height = max(hy1 - hy0, 1.0)
        row = self.row_cells(hy0, hy1)
        cell = next((c for c in row if h in c), None)
        if cell is None or len(row) < 2 or any(len(c) > 3 or self.words[c[-1]].text.endswith(":") for c in row):
            return []
        k = row.index(cell)
        starts = [self.words[c[0]].box[0] for c in row]
        left = self.words[cell[0]].box[0] - 0.5 * height
        if k > 0:
            left = max(left, self.words[row[k - 1][-1]].box[2])
        right = self.words[row[k + 1][0]].box[0] - 0.3 * height if k + 1 < len(row) else float("inf")
        below = sorted((i for i, w in enumerate(self.words) if w.box[1] > hy1 - 0.2 * height
                        and left <= w.box[0] < right), key=lambda i: self.words[i].box[1])
        y, out = hy1, []
        for i in below:
            w = self.words[i]
            if w.box[1] < y - 0.3 * height:
                continue  # a word of a row already taken
            if w.box[1] - y > MAX_ROW_GAP * height or len(out) >= MAX_ROWS:
                break
            run = next((c for c in self.row_cells(w.box[1], w.box[3]) if i in c), [i])
            x0, x1 = min(self.words[j].box[0] for j in run), max(self.words[j].box[2] for j in run)
            crossed = [x for x in starts if x0 < x - height < x + height < x1]
            prose = sum(re.fullmatch(r"[a-z]+[.,;]?", self.words[j].text) is not None for j in run) >= PROSE_WORDS
            if len(crossed) >= 2 and (prose or not all(any(abs(self.words[j].box[0] - x) < 0.6 * height
                                                           for j in run) for x in crossed)):
                break  # a line of running text under the table: it runs across two columns' starts (a row
                # whose columns OCR ran together still has a word starting at each column's start, but not as
                # many words in lower case as a sentence: a long sentence has a word near any column's start)
            mine = [j for j in run if left <= self.words[j].box[0] < right]
            y = max(self.words[j].box[3] for j in mine)
            out.append(mine)
        return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance of ``a`` and ``b``, or ``limit`` + 1 as soon as it is known to be more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]
