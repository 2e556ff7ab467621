"""Job settings: everything the command-line options (and the TOML config) hold, in one type.

The settings that change what a file's output would be are hashed into ``fingerprint()``: a file is redone when
they change. Add new options here, not as loose arguments, so every pipeline and the job state see them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

DEFAULT_IMAGE_DETECT = ("faces",)
DEFAULT_DOCUMENT_DETECT = ("names", "pii", "faces")


@dataclass
class Settings:
    # what to find
    detect: tuple[str, ...] | None = None  # None: faces for photos/videos, names+pii+faces for documents
    # how to remove it
    style: str = "inpaint"  # RFR-Net with the shipped page and photo models (telea: OpenCV, 10-80x faster)
    device: str = "auto"  # auto | cpu | cuda
    pad: float = 2.0  # pixels added around every region's box (text detectors add their own padding)
    # faces
    face_margin: float = 0.3  # fraction of the face box added on every side
    face_threshold: float = 0.7  # minimum MTCNN probability kept (redaction favours recall)
    face_detect_side: int = 1280  # longest side of the image the face detector sees
    face_min_size: int = 16  # smallest face (pixels, at detection resolution)
    # text (names, PII)
    terms: tuple[str, ...] = ()  # strings that must always go
    allow: tuple[str, ...] = ()  # strings that must stay
    # PDF
    dpi: int = 200
    password: str | None = field(default=None, repr=False)
    ocr_layer: bool = False
    # video
    crf: int = 18
    audio: bool = True
    video_detect_side: int = 480  # longest side of the frame the detectors see in videos (speed; 0: full size)
    video_logo_side: int = 0  # longest side of the frame the logo detector sees in videos (0: full size)
    video_logo_every: float = 0.2  # seconds between the video frames the logo detector sees (keyframes)
    # logos
    logos: str | None = None  # folder of reference logos
    logo_threshold: float = 0.9  # minimum probability of the logo verifier (detectors/logo_verifier.json) kept
    # inpainting model weights (None: the shipped defaults)
    weights: str | None = None

    def detectors_for(self, document: bool) -> tuple[str, ...]:
        if self.detect is not None:
            return self.detect
        defaults = DEFAULT_DOCUMENT_DETECT if document else DEFAULT_IMAGE_DETECT
        return defaults + ("logos",) if self.logos else defaults  # --logos DIR asks for the logos too

    def to_record(self) -> dict:
        """The settings for the audit (the PDF password is never written)."""
        rec = asdict(self)
        rec.pop("password")
        rec["detect"] = list(self.detect) if self.detect is not None else None
        return rec

    def fingerprint(self, model_ids: dict[str, str] | None = None) -> str:
        """Hash of the settings that decide the output (and the model weights' ids)."""
        rec = self.to_record()
        rec.pop("device")  # the device does not change what is removed
        rec["models"] = model_ids or {}
        return hashlib.sha256(json.dumps(rec, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def parse_detect(value: str | None) -> tuple[str, ...] | None:
    """``--detect faces,names``: detector names, each registered (UsageError naming the unknown ones)."""
    from redact.core.registry import DETECTORS

    if value is None or value == "":
        return None
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    DETECTORS.check(names)
    return names
