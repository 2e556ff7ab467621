"""The simple fill styles and the registry that maps a style name to a fill.

``box`` paints a solid colour; ``telea`` and ``ns`` are OpenCV's inpainting; ``blur`` and ``pixelate`` keep a
trace of what was under the mask (a blurred or pixelated word can often be read back) and warn about it;
``inpaint`` is RFR-Net (``inpaint.rfr_fill``).
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.base import Fill

STYLES = ("inpaint", "telea", "ns", "box", "blur", "pixelate")
WEAK_STYLE_WARNING = (
    "style '{style}' is reversible for text: blurred or pixelated words can often be recovered; "
    "use inpaint, telea or box for documents"
)


class BoxFill(Fill):
    name = "box"

    def __init__(self, color: tuple[int, int, int] = (0, 0, 0)):
        self.color = np.asarray(color, np.uint8)

    def fill_one(self, image, mask, domain):
        return np.broadcast_to(self.color, image.shape)


class BlurFill(Fill):
    name = "blur"
    weak_for_text = True

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
    """cv2.inpaint (Telea or Navier-Stokes). The masked pixels are zeroed first, so the result cannot depend on them."""

    def __init__(self, method: str = "telea", radius: int = 5):
        self.name = method
        self.flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        self.radius = radius

    def fill_one(self, image, mask, domain):
        m = mask.astype(np.uint8)
        known = image * (1 - m)[..., None]
        # Inpaint only a crop around the holes: cv2.inpaint's cost grows with the whole image otherwise.
        ys, xs = np.nonzero(m)
        pad = 4 * self.radius + 8
        y0, y1 = max(0, ys.min() - pad), min(image.shape[0], ys.max() + 1 + pad)
        x0, x1 = max(0, xs.min() - pad), min(image.shape[1], xs.max() + 1 + pad)
        out = known.copy()
        out[y0:y1, x0:x1] = cv2.inpaint(np.ascontiguousarray(known[y0:y1, x0:x1]), m[y0:y1, x0:x1], self.radius, self.flag)
        return out


def get_fill(style: str, **options) -> Fill:
    """The fill for a style name. ``options`` go to the fill (``device``, ``weights`` for inpaint)."""
    if style == "box":
        return BoxFill(tuple(options.get("color", (0, 0, 0))))
    if style == "blur":
        return BlurFill()
    if style == "pixelate":
        return PixelateFill()
    if style in ("telea", "ns"):
        return OpenCVFill(style)
    if style == "inpaint":
        from inpaint.rfr_fill import RFRFill  # torch-heavy; only when asked for

        return RFRFill(device=options.get("device", "cpu"), weights=options.get("weights"))
    raise ValueError(f"unknown fill style {style!r}; choose one of {', '.join(STYLES)}")
