"""The simple fill styles and the registry that maps a style name to a fill.

``box`` paints a solid colour; ``telea`` and ``ns`` are OpenCV's inpainting; ``blur`` and ``pixelate`` keep a
trace of what was under the mask (a blurred or pixelated word can often be read back) and warn about it;
``inpaint`` is RFR-Net (``inpaint.rfr_fill``). Each is registered by name in ``redact.core.registry.FILLS``
through a factory ``(settings, device) -> Fill`` defined here.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from inpaint.base import Fill
from inpaint.page_rules import finish_fill

WEAK_STYLE_WARNING = (
    "style '{style}' is reversible for text: blurred or pixelated words can often be recovered; "
    "use inpaint, telea or box for documents"
)


class BoxFill(Fill):
    name = "box"

    def __init__(self, color: tuple[int, int, int] = (0, 0, 0)):
        self.color = np.asarray(color, np.uint8)

    @classmethod
    def from_settings(cls, settings, device):
        return cls()

    def fill_one(self, image, mask, domain):
        return np.broadcast_to(self.color, image.shape)


class BlurFill(Fill):
    name = "blur"
    weak_for_text = True

    @classmethod
    def from_settings(cls, settings, device):
        return cls()

    def fill_one(self, image, mask, domain):
        ys, xs = np.nonzero(mask)
        size = max(np.ptp(ys) + 1, np.ptp(xs) + 1)
        k = max(3, int(size // 4) | 1)
        return cv2.GaussianBlur(image, (k, k), 0)


class PixelateFill(Fill):
    name = "pixelate"
    weak_for_text = True

    def __init__(self, cells: int = 8):
        self.cells = cells

    @classmethod
    def from_settings(cls, settings, device):
        return cls()

    def fill_one(self, image, mask, domain):
        out = image.copy()
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        for i in range(1, n):
            x, y, w, h, _ = stats[i]
            patch = image[y : y + h, x : x + w]
            small = cv2.resize(patch, (max(1, w // max(1, w // self.cells)), max(1, h // max(1, h // self.cells))),
                               interpolation=cv2.INTER_AREA)
            out[y : y + h, x : x + w] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        return out


class OpenCVFill(Fill):
    """cv2.inpaint (Telea or Navier-Stokes), hole by hole, from the known pixels only.

    Each hole (a connected part of the mask) is filled in a crop around it: cv2.inpaint's cost grows with the
    image handed to it. These fills are smooth and their cost grows with the hole's area (a close-up face is a
    third of a frame), so a hole whose longest side exceeds ``max_hole_side`` is filled at the size where it is
    that long and scaled back into the mask. The masked pixels are zeroed before anything is read, so the result
    never depends on them. Pages are then finished (``inpaint.page_rules.finish_fill``: paper tone, rules).
    """

    def __init__(self, method: str = "telea", radius: int = 5, max_hole_side: int = 48):
        self.name = method
        self.flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        self.radius = radius
        self.max_hole_side = max_hole_side

    @classmethod
    def telea(cls, settings, device):
        return cls("telea")

    @classmethod
    def navier_stokes(cls, settings, device):
        return cls("ns")

    def fill_one(self, image, mask, domain):
        out = image * (~mask)[..., None]  # known pixels only, from here on
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
        for x, y, w, h, _ in stats[1:count]:
            self._fill_hole(out, mask, x, y, w, h)
        return finish_fill(image, out, mask, domain)

    def _fill_hole(self, out: np.ndarray, mask: np.ndarray, x: int, y: int, w: int, h: int) -> None:
        """Fill, in place, the masked pixels of a crop around the hole whose box is (x, y, w, h)."""
        m = max(w, h) // 2 + 4 * self.radius + 8  # context the fill looks at beyond the hole's edge
        y0, y1 = max(0, y - m), min(mask.shape[0], y + h + m)
        x0, x1 = max(0, x - m), min(mask.shape[1], x + w + m)
        crop, hole = out[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        hole8 = hole.view(np.uint8)
        s = self.max_hole_side / max(w, h)
        if s >= 0.75:
            filled = cv2.inpaint(np.ascontiguousarray(crop), np.ascontiguousarray(hole8), self.radius, self.flag)
        else:
            ch, cw = hole.shape
            size = (max(1, math.ceil(cw * s)), max(1, math.ceil(ch * s)))
            small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            small_hole = (cv2.resize(hole8, size, interpolation=cv2.INTER_AREA) > 0).view(np.uint8)  # any overlap
            filled = cv2.resize(cv2.inpaint(small, small_hole, self.radius, self.flag), (cw, ch),
                                interpolation=cv2.INTER_LINEAR)
        np.copyto(crop, filled, where=hole[..., None])


def get_fill(style: str, settings=None, device: str = "cpu") -> Fill:
    """The fill registered under ``style`` (``redact.core.registry.FILLS``), built for these settings."""
    from redact.core.registry import FILLS
    from redact.core.settings import Settings

    return FILLS.factory(style)(settings or Settings(style=style), device)


def rfr_fill(settings, device) -> Fill:
    """RFR-Net (``--style inpaint``) with the settings' weights; torch-heavy, so imported only when asked for."""
    from inpaint.rfr_fill import RFRFill

    return RFRFill(device=device, weights=settings.weights)
