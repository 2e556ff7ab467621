"""The interface every fill style implements."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from redact.core.errors import InpaintError

__all__ = ["Fill", "InpaintError", "composite"]


def composite(image: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pixels of ``filled`` inside ``mask`` and of ``image`` outside it: only masked pixels ever change."""
    return np.where(mask[..., None], filled, image).astype(np.uint8)


class Fill:
    """Replaces the masked pixels of RGB uint8 images.

    ``domain`` says what the images are ("page" for document pages, "photo" for photos and video frames) so a
    fill with per-domain models can choose one. Subclasses implement ``fill_one`` or override ``fill`` to batch.
    """

    name = "fill"
    weak_for_text = False  # True for fills whose output still depends on the removed pixels (blur, pixelate)
    model_id = ""  # the weights' id for the audit, where the fill has a model

    def fill(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray], domain: str = "photo") -> list[np.ndarray]:
        out = []
        for image, mask in zip(images, masks):
            if not mask.any():
                out.append(image)
                continue
            out.append(composite(image, self.fill_one(image, mask, domain), mask))
        return out

    def fill_one(self, image: np.ndarray, mask: np.ndarray, domain: str) -> np.ndarray:
        raise NotImplementedError
