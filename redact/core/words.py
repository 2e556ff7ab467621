"""Words on a page, shared by OCR, PDF text layers and the PDF writer's invisible text layer."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """A word on a page with its box in page-image pixels (from OCR or from a PDF text layer)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    conf: float = 100.0  # 0-100, tesseract's scale; text-layer words are 100
    line: int = 0  # words sharing a line number are on one text line (block/par/line folded into one id)
