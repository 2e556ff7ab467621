"""The one mechanism every pipeline uses: detect regions in a batch of images, then fill them.

A page and a video frame are both images; PDFs and multi-page TIFFs are lists of pages, videos streams of
frames. Detectors and the fill are built once per job (models load once) and reused for every image.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from inpaint.fills import WEAK_STYLE_WARNING, get_fill
from redact.device import resolve_device
from redact.regions import Region, masks_for
from redact.settings import Settings

PAGE, PHOTO = "page", "photo"


def looks_like_page(image: np.ndarray) -> bool:
    """A scanned or rendered document page: mostly pale, low-saturation background around dark marks."""
    small = image[:: max(1, image.shape[0] // 256), :: max(1, image.shape[1] // 256)].astype(np.int16)
    grey = small.mean(axis=2)
    sat = small.max(axis=2) - small.min(axis=2)
    return bool(((grey > 170) & (sat < 40)).mean() > 0.6)


class Redactor:
    def __init__(self, settings: Settings, console=None):
        self.settings = settings
        self.console = console
        self.device = resolve_device(settings.device)
        self._detectors: dict[str, object] = {}
        self.fill = get_fill(settings.style, device=self.device, weights=settings.weights)
        if self.fill.weak_for_text and console is not None:
            console.warn(WEAK_STYLE_WARNING.format(style=settings.style))

    def detector(self, name: str):
        """The detector for a name from ``detector_names``, built on first use and kept for the job."""
        if name not in self._detectors:
            s = self.settings
            if name == "faces":
                from detectors.faces import FaceDetector

                self._detectors[name] = FaceDetector(self.device, s.face_detect_side, s.face_margin,
                                                     s.face_threshold, s.face_min_size)
            elif name.startswith("text:"):  # one OCR pass serves names and PII together
                from detectors.text import TextDetector

                wanted = name[5:].split("+")
                self._detectors[name] = TextDetector(s, names="names" in wanted, pii="pii" in wanted)
            elif name == "logos":
                from detectors.logos import LogoDetector

                self._detectors[name] = LogoDetector(s)
                for warning in self._detectors[name].warnings if self.console is not None else ():
                    self.console.warn(warning)
            else:
                raise ValueError(f"unknown detector {name!r}")
        return self._detectors[name]

    def detector_names(self, document: bool) -> list[str]:
        """The detectors a page (``document``) or a photo/frame gets; ``names`` and ``pii`` share one ``text:``."""
        wanted = self.settings.detectors_for(document)
        text = [n for n in ("names", "pii") if n in wanted]
        out = [n for n in wanted if n not in ("names", "pii")]
        if text:
            out.insert(0, "text:" + "+".join(text))
        return out

    def model_ids(self) -> dict[str, str]:
        """Which models and weights this job's output depends on (for the audit and the job state)."""
        ids = {"fill": f"{self.fill.name}:{self.fill.model_id}" if self.fill.model_id else self.fill.name}
        for name, det in sorted(self._detectors.items()):  # the detectors used so far
            ids[name] = getattr(det, "model_id", name)
        return ids

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0, document: bool | None = None,
               words=None, only: Sequence[str] | None = None) -> list[list[Region]]:
        """Regions per image from every detector the settings ask for.

        ``document`` chooses the default detectors (None: decide from the first image). ``words`` (per image,
        from a PDF text layer) goes to the text detectors. ``only`` (names from ``detector_names``) runs just
        those of them (a video runs the logo detector on other copies of its frames than the rest).
        """
        if document is None:
            document = bool(images) and looks_like_page(images[0])
        regions: list[list[Region]] = [[] for _ in images]
        for name in self.detector_names(document):
            if only is not None and name not in only:
                continue
            det = self.detector(name)
            if words is not None and name.startswith("text:"):
                found = det.detect(images, start_index, words=words)
            else:
                found = det.detect(images, start_index)
            for acc, r in zip(regions, found):
                acc.extend(r)
        return regions

    def apply(self, images: Sequence[np.ndarray], regions: Sequence[Sequence[Region]], domain: str) -> list[np.ndarray]:
        """Fill every image's regions (grown by the job's padding)."""
        masks = masks_for(images, regions, self.settings.pad)
        return self.fill.fill(images, masks, domain)

    def redact(self, images: Sequence[np.ndarray], start_index: int = 0, document: bool | None = None):
        if document is None:
            document = bool(images) and looks_like_page(images[0])
        regions = self.detect(images, start_index, document)
        return self.apply(images, regions, PAGE if document else PHOTO), regions
