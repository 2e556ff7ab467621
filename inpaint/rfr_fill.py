"""The RFR-Net fill style (filled in by the RFR-Net engine)."""
from __future__ import annotations

from inpaint.base import Fill, InpaintError


class RFRFill(Fill):
    name = "inpaint"

    def __init__(self, device: str = "cpu", weights=None):
        raise InpaintError("the RFR-Net inpainting style is not available yet; use --style telea or box")
