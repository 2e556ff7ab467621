"""Manual redaction: the user gives the mask (white = remove); only masked pixels change.

This is also how inpainting quality is measured, so it does nothing else: no detectors, no padding. The job
around it (audit, fail-closed files) is ``redact.api.redact_with_masks``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.directory import check_paths, file_kind, same_file
from pipelines.image_io import read_image, write_image
from pipelines.redactor import PAGE, PHOTO
from redact.core.errors import InputError, UsageError
from redact.core.images import is_document
from redact.core.outcome import Outcome
from redact.core.regions import MANUAL, Region


def read_mask(path: Path, height: int, width: int) -> np.ndarray:
    try:
        mask = read_image(path).pages[0]
    except InputError as exc:
        raise InputError(f"mask {path}: {exc}") from exc
    if mask.shape[:2] != (height, width):
        raise InputError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]}, the image is {width}x{height}")
    return mask.max(axis=2) > 127


def mask_regions(mask: np.ndarray, index: int) -> list[Region]:
    """One audit region per connected part of the mask (its bounding box)."""
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [Region(MANUAL, (float(x), float(y), float(x + w), float(y + h)), 1.0, "mask", index)
            for x, y, w, h, _ in stats[1:]]


def mask_pipeline(mask_path: Path | None):
    """The pipeline that fills ``mask_path``'s white pixels in an image (None: the image has no mask)."""
    def pipeline(job, src: Path, dst: Path) -> Outcome:
        if mask_path is None:
            raise InputError("no mask with this image's name in --mask-dir")
        loaded = read_image(src)
        h, w = loaded.pages[0].shape[:2]
        mask = read_mask(mask_path, h, w)
        domain = PAGE if is_document(loaded.pages) else PHOTO
        outs = job.redactor.fill.fill(loaded.pages, [mask] * len(loaded.pages), domain)
        write_image(dst, outs, loaded.format, loaded.modes, loaded.durations)
        return Outcome(regions=[r for i in range(len(outs)) for r in mask_regions(mask, i)], pages=len(outs))

    return pipeline


def mask_pairs(image: Path, mask: Path | None, mask_dir: Path | None, out: Path) -> list[tuple[Path, Path, Path | None]]:
    """(image, output, its mask or None) for one image and ``mask``, or a folder of images and ``mask_dir``."""
    if mask is not None:
        if image.is_dir():
            raise UsageError("--mask takes one image; use --mask-dir for a folder")
        if same_file(out, image) or same_file(out, mask):
            raise UsageError("the output must not overwrite an input")
        return [(image, out, mask)]
    if not image.is_dir():
        raise UsageError("--mask-dir needs IMAGE to be a folder of images")
    check_paths([image, mask_dir], out)
    pairs = []
    for src in sorted(p for p in image.rglob("*") if p.is_file() and file_kind(p) == "image"):
        rel = src.relative_to(image)
        candidates = [mask_dir / rel] + sorted((mask_dir / rel.parent).glob(src.stem + ".*"))
        pairs.append((src, out / rel, next((c for c in candidates if c.is_file()), None)))
    return pairs
