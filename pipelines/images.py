"""Image files: every page of the file (one, or several in a TIFF) is redacted as one batch."""
from __future__ import annotations

from pathlib import Path

from pipelines.image_io import read_image, write_image
from pipelines.redactor import PAGE, PHOTO
from redact.core.images import is_document
from redact.core.outcome import Outcome


def redact_image_file(job, src: Path, dst: Path):
    """Redact ``src`` into ``dst`` (same format, no metadata). Returns the regions removed."""
    loaded = read_image(src)
    document = is_document(loaded.pages)
    redactor = job.redactor
    regions = redactor.detect(loaded.pages, 0, document)
    outs = redactor.apply(loaded.pages, regions, PAGE if document else PHOTO)
    write_image(dst, outs, loaded.format, loaded.modes, loaded.durations)
    return Outcome(regions=[r for page in regions for r in page])
