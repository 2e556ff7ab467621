"""Logo detection from the user's own reference images (``--logos DIR``: PNG, JPEG or SVG), in four stages, each
in its own module:

1. **references** (``detectors/logo_references.py``): each reference read once per job, its inside (the mark's
   pixels, or the whole box of an opaque reference: a logo on its card), its SIFT features and small templates;
2. **proposals** (``detectors/logo_proposals.py``): poses where a reference may be, from SIFT keypoints matched
   with a RANSAC similarity (marks of about 64 px and more), from whitened-colour templates (small marks) and
   from edge templates (the orientation of edges in log colour; large and printed marks);
3. **alignment** (``detectors/logo_alignment.py``): each proposal refined to a homography by ECC;
4. **verification** (``detectors/logo_verification.py``): an aligned pose whose canonical correlation of the
   image's colours with the reference reaches a gate is weighed by a small logistic model (a few measures of
   agreement, ``detectors/logo_verifier.json``, trained by ``scripts/train_logo_verifier.py`` on the realistic
   bench's tuning seeds), and kept when its probability reaches the job's ``logo_threshold``.

The region is the reference's box (grown by 4%) carried through the pose: a polygon. docs/logo-bench.md has the
realistic bench these stages were measured on.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

import cv2
import numpy as np

from detectors.logo_alignment import COARSE_SIDE, FINE_SIDES, ImageSampler, align, mark_size, plausible
from detectors.logo_proposals import (MIN_LOGO, KeypointIndex, centre_and_size, edge_poses, pyramid, same_place,
                                     template_poses)
from detectors.logo_references import Reference, load_reference, reference_files
from detectors.logo_verification import GATE, MODEL_PATH, VERIFY_SIDE, Frame, Verifier, evidence
from redact.core.errors import DetectorError, InputError
from redact.core.regions import LOGO, Region

ALGORITHM = "logos-v17"  # part of model_id: change when the method changes what is found
SMALLEST_KEPT = 0.8 * MIN_LOGO  # a pose smaller than this (longest side, pixels) is no logo looked for
OUTLINE_GROWTH = 0.04  # the region is the reference's box grown by this fraction of its longest side


class LogoDetector:
    name = "logos"

    def __init__(self, settings):
        if not settings.logos:
            raise InputError("the logos detector needs reference logos: give --logos DIR")
        files = reference_files(settings.logos)
        self.threshold = float(settings.logo_threshold)
        self.references: list[Reference] = [load_reference(p) for p in files]
        digest = hashlib.sha256(ALGORITHM.encode() + MODEL_PATH.read_bytes())
        for p in files:
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        self.model_id = f"{ALGORITHM}:{digest.hexdigest()[:16]}"
        self.keypoint_index = KeypointIndex(self.references)
        sides = {COARSE_SIDE, *FINE_SIDES, VERIFY_SIDE}
        self.frames = [{s: Frame.of(r, s) for s in sides} for r in self.references]
        self.verifier: Verifier | None = None  # read on first use (its training script runs without it)
        self.warnings: list[str] = []

    def detect(self, images: Sequence[np.ndarray], start_index: int = 0) -> list[list[Region]]:
        out = []
        for offset, image in enumerate(images):
            try:
                found = self.detect_one(image)
            except cv2.error as exc:
                raise DetectorError(f"logo detection failed: {' '.join(str(exc).split())[:160]}") from exc
            out.append([Region(LOGO, r.box, r.score, self.name, start_index + offset, r.polygon, r.label)
                        for r in found])
        return out

    def proposals(self, image: np.ndarray) -> list[list[np.ndarray]]:
        """Per reference: its keypoint poses, then its colour template poses, then its edge template poses at
        places the others do not propose."""
        if min(image.shape[:2]) < MIN_LOGO:
            return [[] for _ in self.references]
        keyed = self.keypoint_index.poses(image)
        levels = pyramid(image)
        templated = template_poses(image, self.references, levels)
        edged = edge_poses(image, self.references, levels)
        out = []
        for ref, k, t, e in zip(self.references, keyed, templated, edged):
            places = [centre_and_size(H, ref) for H in k + t]
            out.append(k + t + [H for H in e if not any(same_place(centre_and_size(H, ref), p) for p in places)])
        return out

    def detect_one(self, image: np.ndarray) -> list[Region]:
        sampler = ImageSampler(image)
        h, w = image.shape[:2]
        found: list[Region] = []
        for ref, frames, poses in zip(self.references, self.frames, self.proposals(image)):
            found += [r.clipped(w, h) for r in self.confirmed(sampler, ref, frames, poses)]
        return found

    def confirmed(self, sampler: ImageSampler, ref: Reference, frames: dict[int, Frame],
                  poses: Sequence[np.ndarray]) -> list[Region]:
        """The poses of one reference that alignment and verification confirm, the likeliest one per place."""
        kept: list[tuple[float, np.ndarray, tuple[np.ndarray, float]]] = []
        for H in poses:
            if not plausible(H, ref) or mark_size(H, ref) < SMALLEST_KEPT:
                continue
            H, p = self.aligned(sampler, ref, frames, H)
            if p >= self.threshold and mark_size(H, ref) >= SMALLEST_KEPT:
                kept.append((p, H, centre_and_size(H, ref)))
        best: list[tuple[float, np.ndarray, tuple[np.ndarray, float]]] = []
        for p, H, place in sorted(kept, key=lambda k: -k[0]):
            if not any(same_place(place, other) for _, _, other in best):
                best.append((p, H, place))
        return [self.region(ref, p, H) for p, H, _ in best]

    def aligned(self, sampler: ImageSampler, ref: Reference, frames: dict[int, Frame],
                H: np.ndarray) -> tuple[np.ndarray, float]:
        """The pose aligned, and the verifier's probability that it lies on the mark (0 when its canonical
        correlation is below the verifier's GATE)."""
        score, H = align(sampler, ref, frames, H)
        if score < GATE:
            return H, 0.0
        self.verifier = self.verifier or Verifier()
        return H, self.verifier.probability(evidence(sampler, frames[VERIFY_SIDE], H, mark_size(H, ref)))

    def region(self, ref: Reference, score: float, H: np.ndarray) -> Region:
        w, h = ref.size
        g = OUTLINE_GROWTH * max(w, h)
        box = np.float32([[[-g, -g], [w + g, -g], [w + g, h + g], [-g, h + g]]])
        outline = cv2.perspectiveTransform(box, H)[0]
        xs, ys = outline[:, 0], outline[:, 1]
        return Region(LOGO, (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                      round(float(score), 4), self.name, 0, tuple((float(x), float(y)) for x, y in outline),
                      ref.name)
