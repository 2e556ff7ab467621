"""What every detector offers. ``Word`` and ``DetectorError`` live in the core layer and are named here too."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from redact.core.errors import DetectorError
from redact.core.regions import Region
from redact.core.words import Word

__all__ = ["Detector", "DetectorError", "Word"]


class Detector(Protocol):
    """Finds regions in a batch of images. ``start_index`` is the page/frame index of ``images[0]``.

    ``name`` is the key the detector is registered under (``redact.core.registry.DETECTORS``)."""

    name: str

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0) -> list[list[Region]]: ...
