"""Core types shared by every detector, fill and pipeline.

A *region* is something found in one image (a page or a video frame): what it is, where it is, how sure the
detector was and which detector found it. A *mask* is the boolean image built from a list of regions: True
where pixels are removed. Pages and frames are plain RGB ``uint8`` numpy arrays of shape (H, W, 3).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import cv2
import numpy as np

# Kinds of region. Detectors may add their own (a logo is labelled with its reference file in ``label``).
FACE = "face"
PERSON = "person"
EMAIL = "email"
PHONE = "phone"
SSN = "ssn"
CARD = "payment_card"
IBAN = "iban"
DATE_OF_BIRTH = "date_of_birth"
ADDRESS = "address"
TERM = "term"
LOGO = "logo"
MANUAL = "manual"

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels, x1/y1 exclusive


def padded(box: Box, pad: float) -> Box:
    """``box`` grown by ``pad`` pixels on every side."""
    x0, y0, x1, y1 = box
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


@dataclass(frozen=True)
class Region:
    """One thing to remove from one image."""

    kind: str
    box: Box
    score: float = 1.0
    detector: str = ""
    index: int = 0  # page or frame index within its file
    polygon: tuple[tuple[float, float], ...] | None = None  # exact outline when the detector has one
    label: str = ""  # e.g. the reference logo's file name; never recognised text

    def padded(self, pad: float) -> "Region":
        """The region grown by ``pad`` pixels on every side (polygons grow by their box only at mask time)."""
        return replace(self, box=padded(self.box, pad))

    def scaled(self, sx: float, sy: float | None = None) -> "Region":
        """The region in an image scaled by (sx, sy) relative to the one it was found in."""
        sy = sx if sy is None else sy
        x0, y0, x1, y1 = self.box
        poly = None if self.polygon is None else tuple((x * sx, y * sy) for x, y in self.polygon)
        return replace(self, box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy), polygon=poly)

    def clipped(self, width: int, height: int) -> "Region":
        x0, y0, x1, y1 = self.box
        return replace(self, box=(max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)))

    def to_record(self) -> dict:
        """The audit form: geometry, kind, score and detector. Never any content."""
        rec = {
            "kind": self.kind,
            "box": [round(float(v), 1) for v in self.box],
            "score": round(float(self.score), 4),
            "detector": self.detector,
            "index": self.index,
        }
        if self.polygon is not None:
            rec["polygon"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.polygon]
        if self.label:
            rec["label"] = self.label
        return rec


def build_mask(regions: Iterable[Region], height: int, width: int, pad: float = 0.0) -> np.ndarray:
    """Boolean mask (H, W), True where pixels are removed. ``pad`` grows every region by that many pixels."""
    mask = np.zeros((height, width), np.uint8)
    for region in regions:
        if region.polygon is not None:
            pts = np.round(np.asarray(region.polygon, np.float64)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 1)
            if pad > 0:
                cv2.polylines(mask, [pts], True, 1, thickness=max(1, int(round(2 * pad))))
            continue
        x0, y0, x1, y1 = region.padded(pad).box
        # floor/ceil so a box never loses a partly covered pixel
        ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        ix1, iy1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
        if ix1 > ix0 and iy1 > iy0:
            mask[iy0:iy1, ix0:ix1] = 1
    return mask.astype(bool)


def masks_for(images: Sequence[np.ndarray], regions: Sequence[Sequence[Region]], pad: float = 0.0) -> list[np.ndarray]:
    """One mask per image from that image's regions."""
    return [build_mask(r, img.shape[0], img.shape[1], pad) for img, r in zip(images, regions)]
