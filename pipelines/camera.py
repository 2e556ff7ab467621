"""Camera motion between consecutive video frames: how far the picture's content shifted (a pan, a tilt, a shake).

The shift is the peak of the phase correlation of the two frames' small grey copies (the detectors' copies, so
it costs a few milliseconds a frame). The tracker moves its boxes by it: a face in a panning shot moves across
the frame at the pan's speed, and its box must follow the camera on the frames where the detector misses it
(a face entering or leaving the frame, cut by its border). A weak peak (a scene cut, a still camera over moving
subjects, a flat picture) is no camera motion.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_RESPONSE = 0.1  # the phase correlation peak's least strength for a shift to be trusted


class CameraMotion:
    """Feed the small copies of the frames in order; ``step`` gives each frame's content shift from the one
    before, in the small copy's pixels."""

    def __init__(self):
        self.previous: np.ndarray | None = None
        self.window: np.ndarray | None = None

    def step(self, small: np.ndarray) -> tuple[float, float]:
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) if small.ndim == 3 else \
            small.astype(np.float32)
        previous, self.previous = self.previous, grey
        if previous is None or previous.shape != grey.shape or min(grey.shape) < 16:
            return 0.0, 0.0
        if self.window is None or self.window.shape != grey.shape:
            self.window = cv2.createHanningWindow((grey.shape[1], grey.shape[0]), cv2.CV_32F)
        (dx, dy), response = cv2.phaseCorrelate(previous, grey, self.window)
        if response < MIN_RESPONSE:
            return 0.0, 0.0
        return float(dx), float(dy)
