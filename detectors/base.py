"""What every detector offers, and the word type shared by OCR and PDF text layers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from redact.regions import Region


@dataclass(frozen=True)
class Word:
    """A word on a page with its box in page-image pixels (from OCR or from a PDF text layer)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    conf: float = 100.0  # 0-100, tesseract's scale; text-layer words are 100
    line: int = 0  # words sharing a line number are on one text line (block/par/line folded into one id)


class Detector(Protocol):
    """Finds regions in a batch of images. ``start_index`` is the page/frame index of ``images[0]``."""

    name: str

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0) -> list[list[Region]]: ...


class DetectorError(RuntimeError):
    """A detector could not process an image; the file it belongs to must not be written."""
