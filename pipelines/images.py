"""Image files: every page of the file (one, or several in a TIFF) is redacted as one batch."""
from __future__ import annotations

from pathlib import Path

from pipelines.image_io import read_image, write_image
from pipelines.redactor import PAGE, PHOTO, looks_like_page


def redact_image_file(job, src: Path, dst: Path):
    """Redact ``src`` into ``dst`` (same format, no metadata). Returns the regions removed."""
    loaded = read_image(src)
    document = len(loaded.pages) > 1 or looks_like_page(loaded.pages[0])
    redactor = job.redactor
    regions = redactor.detect(loaded.pages, 0, document)
    outs = redactor.apply(loaded.pages, regions, PAGE if document else PHOTO)
    write_image(dst, outs, loaded.format, loaded.modes, loaded.durations)
    return [r for page in regions for r in page]
