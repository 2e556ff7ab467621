"""What every pipeline returns for one file."""
from __future__ import annotations

from dataclasses import dataclass, field

from redact.core.regions import Region


@dataclass
class Outcome:
    """What a pipeline removed from one file: regions (images, pages) or track records (videos)."""

    regions: list[Region] = field(default_factory=list)
    tracks: list[dict] = field(default_factory=list)
    pages: int = 0
