"""Shared fixtures: paths to real data, and models loaded once per test session."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared" / "data"


def shared(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"shared data {rel} not present beside the checkout")
    return path


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="session")
def face_detector():
    from detectors.faces import FaceDetector

    return FaceDetector("cpu")


@pytest.fixture(scope="session")
def cli_runner():
    from click.testing import CliRunner

    return CliRunner()
