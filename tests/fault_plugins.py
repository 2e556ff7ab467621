"""A small third-party package, installed for the tests: a detector and a fill that fail on purpose.

``install(folder)`` writes the module and a ``.dist-info`` with its entry points (groups ``redact.detectors`` and
``redact.fills``, name ``failing``) into ``folder``; with that folder on ``sys.path`` (or ``PYTHONPATH``) redact
finds them the way it finds any installed plugin, through the package metadata. ``REDACT_TEST_FAIL_AT`` (in the
environment) is the index of the page or frame where they fail; before it the detector finds a box in each
image's top-left corner and the fill paints boxes black.

For the cluster tests three more detectors find the same box and misbehave once per job, which
``REDACT_TEST_CONTROL`` (a folder every worker sees) coordinates: ``crash_once`` kills its own worker process
(SIGKILL) on the first image any worker sees; ``stall_once`` writes the id of its Ray node to ``stalled`` and then
waits (for its node to be removed); ``slow`` sleeps a second on every image.
"""
from __future__ import annotations

from pathlib import Path

FAIL_AT_VARIABLE = "REDACT_TEST_FAIL_AT"
MODULE = '''
import os
import signal
import time

from inpaint.fills import BoxFill
from redact.core.errors import DetectorError, InpaintError
from redact.core.regions import FACE, Region


def fail_at():
    return int(os.environ.get("REDACT_TEST_FAIL_AT", "0"))


class FailingDetector:
    name = "failing"
    model_id = "failing-1"

    def detect(self, images, start_index=0):
        for i in range(len(images)):
            if start_index + i == fail_at():
                raise DetectorError(f"planted detector failure at image {fail_at()}")
        return self.boxes(images, start_index)

    def boxes(self, images, start_index):
        """A box over each image's top-left sixteenth."""
        return [[Region(FACE, (0, 0, image.shape[1] / 4, image.shape[0] / 4), 1.0, self.name, start_index + i)]
                for i, image in enumerate(images)]


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


def _claim(name):
    """True for the one caller that creates the control file ``name`` first."""
    try:
        fd = os.open(os.path.join(os.environ["REDACT_TEST_CONTROL"], name), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


class CrashOnce(FailingDetector):
    name = "crash_once"

    def detect(self, images, start_index=0):
        if _claim("crashed"):
            os.kill(os.getpid(), signal.SIGKILL)
        return self.boxes(images, start_index)


class StallOnce(FailingDetector):
    name = "stall_once"

    def detect(self, images, start_index=0):
        if _claim("stalled"):
            import ray

            path = os.path.join(os.environ["REDACT_TEST_CONTROL"], "stalled")
            with open(path, "w") as f:
                f.write(ray.get_runtime_context().get_node_id())
            time.sleep(600)
        return self.boxes(images, start_index)


class Slow(FailingDetector):
    name = "slow"

    def detect(self, images, start_index=0):
        time.sleep(1.0)
        return self.boxes(images, start_index)


def crash_once(settings, device):
    return CrashOnce()


def stall_once(settings, device):
    return StallOnce()


def slow(settings, device):
    return Slow()


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
    (info / "entry_points.txt").write_text(
        "[redact.detectors]\nfailing = redact_test_faults:failing_detector\ncrash_once = redact_test_faults:crash_once\n"
        "stall_once = redact_test_faults:stall_once\nslow = redact_test_faults:slow\n\n"
        "[redact.fills]\nfailing = redact_test_faults:failing_fill\n")
    return folder
