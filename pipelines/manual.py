"""Manual redaction: the user gives the mask (white = remove); only masked pixels change.

This is also how inpainting quality is measured, so it does nothing else: no detectors, no padding.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.directory import check_paths, file_kind
from pipelines.image_io import read_image, write_image
from pipelines.redactor import PAGE, PHOTO, looks_like_page
from redact.errors import ExitCode, InputError, UsageError
from redact.job import Job, Outcome
from redact.regions import MANUAL, Region


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


def _pipeline_for(mask_path: Path):
    def pipeline(job: Job, src: Path, dst: Path) -> Outcome:
        loaded = read_image(src)
        h, w = loaded.pages[0].shape[:2]
        mask = read_mask(mask_path, h, w)
        domain = PAGE if looks_like_page(loaded.pages[0]) else PHOTO
        outs = job.redactor.fill.fill(loaded.pages, [mask] * len(loaded.pages), domain)
        write_image(dst, outs, loaded.format, loaded.modes, loaded.durations)
        return Outcome(regions=[r for i in range(len(outs)) for r in mask_regions(mask, i)], pages=len(outs))

    return pipeline


def redact_with_masks(image: Path, mask: Path | None, mask_dir: Path | None, out: Path, settings, audit_path,
                      console) -> ExitCode:
    settings.detect = ()  # the mask says what goes
    if mask is not None:
        if image.is_dir():
            raise UsageError("--mask takes one image; use --mask-dir for a folder")
        if out.resolve() in (image.resolve(), mask.resolve()):
            raise UsageError("the output must not overwrite an input")
        pairs = [(image, out, mask)]
    else:
        if not image.is_dir():
            raise UsageError("--mask-dir needs IMAGE to be a folder of images")
        check_paths([image, mask_dir], out)
        pairs = []
        for src in sorted(p for p in image.rglob("*") if p.is_file() and file_kind(p) == "image"):
            rel = src.relative_to(image)
            candidates = [mask_dir / rel] + sorted((mask_dir / rel.parent).glob(src.stem + ".*"))
            m = next((c for c in candidates if c.is_file()), None)
            pairs.append((src, out / rel, m))
    default_audit = (out if mask is None else out.parent) / ("audit.jsonl" if mask is None else out.name + ".audit.jsonl")
    job = Job(settings, Path(audit_path) if audit_path else default_audit, console, "inpaint")
    for src, dst, m in pairs:
        if m is None:
            job.process(src, dst, _missing_mask)
        else:
            job.process(src, dst, _pipeline_for(m))
    return job.finish()


def _missing_mask(job, src, dst):
    raise InputError("no mask with this image's name in --mask-dir")
