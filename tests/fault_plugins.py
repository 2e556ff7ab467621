"""A small third-party package, installed for the tests: a detector and a fill that fail on purpose.

``install(folder)`` writes the module and a ``.dist-info`` with its entry points (groups ``redact.detectors`` and
``redact.fills``, name ``failing``) into ``folder``; with that folder on ``sys.path`` (or ``PYTHONPATH``) redact
finds them the way it finds any installed plugin, through the package metadata. ``REDACT_TEST_FAIL_AT`` (in the
environment) is the index of the page or frame where they fail; before it the detector finds a box in each
image's top-left corner and the fill paints boxes black.
"""
from __future__ import annotations

from pathlib import Path

FAIL_AT_VARIABLE = "REDACT_TEST_FAIL_AT"
MODULE = '''
import os

from inpaint.fills import BoxFill
from redact.core.errors import DetectorError, InpaintError
from redact.core.regions import FACE, Region


def fail_at():
    return int(os.environ.get("REDACT_TEST_FAIL_AT", "0"))


class FailingDetector:
    name = "failing"
    model_id = "failing-1"

    def detect(self, images, start_index=0):
        found = []
        for i, image in enumerate(images):
            if start_index + i == fail_at():
                raise DetectorError(f"planted detector failure at image {fail_at()}")
            h, w = image.shape[:2]
            found.append([Region(FACE, (0, 0, w / 4, h / 4), 1.0, self.name, start_index + i)])
        return found


class FailingFill(BoxFill):
    name = "failing"

    def __init__(self):
        super().__init__()
        self.seen = 0

    def fill(self, images, masks, domain="photo"):
        if self.seen <= fail_at() < self.seen + len(images):
            raise InpaintError(f"planted fill failure at image {fail_at()}")
        self.seen += len(images)
        return super().fill(images, masks, domain)


def failing_detector(settings, device):
    return FailingDetector()


def failing_fill(settings, device):
    return FailingFill()
'''


def install(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "redact_test_faults.py").write_text(MODULE)
    info = folder / "redact_test_faults-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: redact-test-faults\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[redact.detectors]\nfailing = redact_test_faults:failing_detector\n\n"
                                           "[redact.fills]\nfailing = redact_test_faults:failing_fill\n")
    return folder
