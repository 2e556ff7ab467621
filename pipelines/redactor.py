"""The one mechanism every pipeline uses: detect regions in a batch of images, then fill them.

A page and a video frame are both images; PDFs and multi-page TIFFs are lists of pages, videos streams of
frames. Detectors and the fill are built once per job (models load once) and reused for every image.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from inpaint.fills import WEAK_STYLE_WARNING, get_fill
from redact.core.device import resolve_device
from redact.core.registry import DETECTORS
from redact.core.regions import Region, masks_for
from redact.core.settings import Settings

PAGE, PHOTO = "page", "photo"


class Redactor:
    def __init__(self, settings: Settings, console=None):
        self.settings = settings
        self.console = console
        self.device = resolve_device(settings.device)
        self._detectors: dict[str, object] = {}
        self._names: dict[bool, list[str]] = {}  # detector_names per document or not (reads package metadata)
        self.fill = get_fill(settings.style, settings, self.device)
        if self.fill.weak_for_text and console is not None:
            console.warn(WEAK_STYLE_WARNING.format(style=settings.style))

    def detector(self, name: str):
        """The detector for a name from ``detector_names``, built on first use and kept for the job.

        A name is a registry key (``faces``), or ``<shared_pass>:<key>+<key>`` for detectors whose factory
        serves several keys in one pass (``text:names+pii``: one OCR pass)."""
        if name not in self._detectors:
            prefix, _, keys = name.rpartition(":")
            wanted = tuple(keys.split("+"))
            factory = DETECTORS.factory(wanted[0])
            if prefix:
                det = factory(self.settings, self.device, wanted=wanted)
            else:
                det = factory(self.settings, self.device)
            self._detectors[name] = det
            for warning in getattr(det, "warnings", ()) if self.console is not None else ():
                self.console.warn(warning)
        return self._detectors[name]

    def detector_names(self, document: bool) -> list[str]:
        """The detectors a page (``document``) or a photo/frame gets; keys served by one shared pass (``names``
        and ``pii``) are joined into one name, first. Worked out once per job (the registry reads the installed
        packages' metadata: some milliseconds a call)."""
        if document not in self._names:
            self._names[document] = self._detector_names(document)
        return list(self._names[document])

    def _detector_names(self, document: bool) -> list[str]:
        wanted = self.settings.detectors_for(document)
        shared: dict[str, list[str]] = {}
        out = []
        for name in wanted:
            prefix = getattr(DETECTORS.factory(name), "shared_pass", None)
            if prefix:
                shared.setdefault(prefix, []).append(name)
            else:
                out.append(name)
        order = DETECTORS.names()
        return [f"{prefix}:" + "+".join(sorted(keys, key=order.index)) for prefix, keys in shared.items()] + out

    def model_ids(self) -> dict[str, str]:
        """Which models and weights this job's output depends on (for the audit and the job state)."""
        ids = {"fill": f"{self.fill.name}:{self.fill.model_id}" if self.fill.model_id else self.fill.name}
        for name, det in sorted(self._detectors.items()):  # the detectors used so far
            ids[name] = getattr(det, "model_id", name)
        return ids

    def detect(self, images: Sequence[np.ndarray], start_index: int, document: bool, words=None,
               only: Sequence[str] | None = None) -> list[list[Region]]:
        """Regions per image from every detector the settings ask for.

        ``document`` chooses the default detectors (``redact.core.images.is_document``). ``words`` (per image,
        from a PDF text layer) goes to the text detectors. ``only`` (names from ``detector_names``) runs just
        those of them (a video runs the logo detector on other copies of its frames than the rest).
        """
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
