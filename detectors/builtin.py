"""The built-in detectors' factories, registered by name in ``redact.core.registry.DETECTORS``."""
from __future__ import annotations


def faces(settings, device):
    from detectors.faces import FaceDetector

    return FaceDetector(device, settings.face_detect_side, settings.face_margin, settings.face_threshold,
                        settings.face_min_size)


def text(settings, device, wanted=("names", "pii")):
    """One OCR pass serves ``names`` and ``pii`` together."""
    from detectors.text import TextDetector

    return TextDetector(settings, names="names" in wanted, pii="pii" in wanted)


text.shared_pass = "text"  # registered under names and pii; the Redactor builds one for both


def logos(settings, device):
    from detectors.logos import LogoDetector

    return LogoDetector(settings)
