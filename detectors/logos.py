"""Logo detection from the user's own reference images (``--logos DIR``: PNG, JPEG or SVG).

Two ways of proposing where a reference logo is, one way of confirming it:

* **shape** (flat marks: one-colour shapes, text-only logos). The image is split into light and dark blobs by a
  local-mean threshold on an image pyramid (each level finds blobs of one size band, so a 32 px mark and one
  filling the frame are both found). Each blob is normalised by its own second moments, which removes scale,
  skew and stretch (an affine change, the local form of perspective), and compared with the reference's largest
  parts normalised the same way at 36 rotations. A good match gives an affine pose for the whole logo.
* **sift** (textured logos: photos, gradients, many colours). SIFT keypoints of the reference (and of its
  negative, for inverted prints) are matched to the image's and a homography is fitted with USAC (MAGSAC).

Every pose is then **verified** against the whole reference: the image is warped into the reference's frame, the
colour direction that best explains the reference's silhouette is found (so a mark printed in another colour or
inverted still matches), and the pose is refined to a homography by ECC alignment. The score (0..1) is the
intersection over union of the reference's silhouette and the image thresholded between the logo's and the
background's levels at that pose; poses below the job's ``logo_threshold`` are dropped. The region is the
reference's box (grown by 4%) carried through that homography: a polygon.

References are read and described once per job (when the detector is built), never per frame.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from detectors.base import DetectorError
from redact.errors import InputError
from redact.regions import LOGO, Region

REFERENCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
ALGORITHM = "logos-v1"  # part of model_id: change when the method changes what is found

REF_SIDE = 256  # references are rendered/resized so their longest side is this
CANON = 32  # side of the moment-normalised blob image
CANON_RADIUS = 2.6  # the canonical image covers [-R, R]^2 in whitened units
ANGLES = 36  # rotations of each reference part tried
MAX_PARTS = 3  # largest parts of a reference used to propose poses
BLOB_MIN, BLOB_MAX = 7, 40  # blob size band (longest bbox side, pixels) kept at the finest pyramid level
BLOB_MIN_COARSE = 14  # ... and at the coarser ones (each blob is still seen at one level at least)
THIN_MAX = 96  # thin blobs (strokes: little of their box filled) are kept up to this size at every level
BLOCK = 2 * BLOB_MAX + 1  # local-mean window: twice the largest blob so a blob's inside is not its own mean
OFFSETS = (8, 32)  # grey levels a blob must differ from its local mean (the larger one parts a strong mark
# from weaker structure of the same polarity that touches it)
PART_MATCH = 0.62  # minimum soft IoU between a normalised blob and a reference part
CHECK_SIDE = 40  # fast check: the reference frame is sampled at this size
ECC_SIDE = 96  # ECC alignment runs at this size
MARGIN = 0.25  # background ring around the reference, as a fraction of its size, used in the checks
MAX_HYPOTHESES = 24  # poses verified per reference and image (best supported first)
MIN_LOGO = 24  # smallest logo found (longest side, pixels); the benchmark's smallest band starts at 32
SIFT_MIN_KEYPOINTS = 40  # a reference with fewer (a flat mark) is left to the shape method


@dataclass
class Part:
    """One connected part of a reference's silhouette, normalised at every tried rotation."""

    mean: np.ndarray  # (2,) centroid in reference pixels
    sqrt_cov: np.ndarray  # (2, 2) covariance square root
    rotations: np.ndarray  # (ANGLES, CANON*CANON) float32, the part's canonical image at each angle
    area_fraction: float  # of the whole silhouette


@dataclass
class Reference:
    name: str  # file name: the region label
    silhouette: np.ndarray  # bool (h, w): the logo's pixels
    template: np.ndarray  # float32 (h, w) in [0, 1]: what the logo looks like (the silhouette for flat marks)
    flat: bool = True  # a one-colour mark (scored by silhouette agreement; textured ones by correlation)
    parts: list[Part] = field(default_factory=list)
    sift: list[tuple[list, np.ndarray]] = field(default_factory=list)  # (keypoints, descriptors), positive/negative

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.silhouette.shape
        return w, h


# ---------------------------------------------------------------- references


def reference_files(folder: str | Path) -> list[Path]:
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"logo folder {folder} does not exist or is not a folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in REFERENCE_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise InputError(f"logo folder {folder} holds no PNG, JPEG or SVG reference logos")
    return files


def read_reference_rgba(path: Path) -> np.ndarray:
    """The reference as RGBA uint8, longest side REF_SIDE (SVG rendered with cairosvg)."""
    try:
        if path.suffix.lower() == ".svg":
            import cairosvg

            data = path.read_bytes()
            probe = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=data)))
            w, h = probe.size
            scale = REF_SIDE / max(w, h)
            png = cairosvg.svg2png(bytestring=data, output_width=max(1, round(w * scale)),
                                   output_height=max(1, round(h * scale)))
            img = Image.open(io.BytesIO(png)).convert("RGBA")
        else:
            img = Image.open(path)
            img.load()
            img = img.convert("RGBA")
            scale = REF_SIDE / max(img.size)
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise InputError(f"logo {path.name}: cannot read it as an image ({' '.join(str(exc).split())[:120]})") from exc
    except Exception as exc:  # cairosvg raises its own parse errors
        raise InputError(f"logo {path.name}: cannot render it ({exc.__class__.__name__})") from exc
    return np.asarray(img)


def silhouette_of(rgba: np.ndarray) -> np.ndarray:
    """The logo's pixels: opaque ones where the reference has transparency, else those unlike its border."""
    alpha = rgba[..., 3]
    if (alpha < 128).mean() > 0.02:
        return alpha >= 128
    grey = cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), cv2.COLOR_RGB2GRAY)
    _, binary = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    border = np.concatenate([binary[0], binary[-1], binary[:, 0], binary[:, -1]])
    background = 1 if border.mean() > 0.5 else 0
    return binary != background


def is_flat(rgba: np.ndarray, silhouette: np.ndarray) -> bool:
    """A mark of (nearly) one colour: its silhouette says everything about it."""
    rgb = rgba[..., :3][silhouette].astype(np.float32)
    return rgb.size == 0 or float(rgb.std(axis=0).max()) < 20.0


def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    m = cv2.moments(mask, binaryImage=True)
    if m["m00"] < 4:
        return None
    mean = np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    vals, vecs = np.linalg.eigh(cov)
    if vals.min() <= 0.05 or vals.max() / vals.min() > 400:  # a line, not a shape
        return None
    sqrt_cov = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    return mean, sqrt_cov, m["m00"]


def _canonical_map(mean: np.ndarray, sqrt_cov: np.ndarray, angle: float = 0.0) -> np.ndarray:
    """2x3 map from canonical-image pixels to source pixels (for warpAffine with WARP_INVERSE_MAP)."""
    step = 2 * CANON_RADIUS / (CANON - 1)
    c, s = np.cos(angle), np.sin(angle)
    rot_inv = np.array([[c, s], [-s, c]])  # R(-angle)
    lin = sqrt_cov @ rot_inv * step
    offset = mean - lin @ np.array([(CANON - 1) / 2, (CANON - 1) / 2])
    return np.hstack([lin, offset[:, None]])


def _canonical(mask_u8: np.ndarray, mean, sqrt_cov, angle: float = 0.0) -> np.ndarray:
    warped = cv2.warpAffine(mask_u8, _canonical_map(mean, sqrt_cov, angle), (CANON, CANON),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0)
    return warped.reshape(-1).astype(np.float32) / 255.0


def reference_parts(silhouette: np.ndarray) -> list[Part]:
    mask = silhouette.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    total = float(mask.sum())
    order = sorted(range(1, n), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    parts = []
    for i in order[:MAX_PARTS]:
        area = stats[i, cv2.CC_STAT_AREA]
        if area < 0.08 * total and parts:
            break
        part = (labels == i).astype(np.uint8) * 255
        mom = _moments(part)
        if mom is None:
            continue
        mean, sqrt_cov, _ = mom
        rotations = np.stack([_canonical(part, mean, sqrt_cov, 2 * np.pi * k / ANGLES) for k in range(ANGLES)])
        parts.append(Part(mean, sqrt_cov, rotations, area / total))
    return parts


def load_reference(path: Path, sift=None) -> Reference:
    rgba = read_reference_rgba(path)
    silhouette = silhouette_of(rgba)
    if silhouette.sum() < 50:
        raise InputError(f"logo {path.name}: no logo shape found in it (empty or blank image)")
    ys, xs = np.nonzero(silhouette)  # crop to the logo itself
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgba, silhouette = rgba[y0:y1, x0:x1], silhouette[y0:y1, x0:x1]
    flat = is_flat(rgba, silhouette)
    if not flat and (rgba[..., 3] < 128).mean() <= 0.02:  # a textured logo without transparency: all of its box
        silhouette = np.ones_like(silhouette)
    if flat:
        template = silhouette.astype(np.float32)
    else:
        grey = cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        template = np.where(silhouette, grey, 1.0).astype(np.float32)
    ref = Reference(path.name, silhouette, template, flat=flat)
    covered = silhouette.mean() < 0.85  # a silhouette that is its whole box has no shape to match
    if covered:
        ref.parts = reference_parts(silhouette)
    if sift is not None:
        grey8 = np.ascontiguousarray(np.pad((template * 255).astype(np.uint8), 16, constant_values=255))
        for img in (grey8, 255 - grey8):
            kps, desc = sift.detectAndCompute(img, None)
            if desc is not None and len(kps) >= SIFT_MIN_KEYPOINTS and not flat:
                for k in kps:
                    k.pt = (k.pt[0] - 16, k.pt[1] - 16)
                ref.sift.append((kps, desc))
    if not ref.parts and not ref.sift:
        raise InputError(f"logo {path.name}: neither a clear shape nor enough texture to find it by")
    return ref


# ---------------------------------------------------------------- proposals


@dataclass
class Blob:
    mean: np.ndarray  # full-image pixels
    sqrt_cov: np.ndarray
    canonical: np.ndarray  # (CANON*CANON,) float32

    @property
    def size(self) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.sqrt_cov))))


def pyramid(grey: np.ndarray, min_side: int = 2 * BLOB_MIN_COARSE):
    """(level image, scale to full resolution) from full size down."""
    level, scale = grey, 1.0
    while min(level.shape) >= min_side:
        yield level, scale
        level = cv2.resize(level, (level.shape[1] // 2, level.shape[0] // 2), interpolation=cv2.INTER_AREA)
        scale *= 2.0


def find_blobs(grey: np.ndarray) -> list[Blob]:
    """Light and dark blobs of every size, each normalised by its moments (scale, rotation and skew removed)."""
    blobs = []
    for depth, (level, scale) in enumerate(pyramid(grey)):
        low = BLOB_MIN if depth == 0 else BLOB_MIN_COARSE
        mean = cv2.blur(level, (BLOCK, BLOCK), borderType=cv2.BORDER_REPLICATE).astype(np.int16)
        lv = level.astype(np.int16)
        for mask in [m for off in OFFSETS for m in (lv < mean - off, lv > mean + off)]:
            n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
            if n <= 1:
                continue
            w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
            side = np.maximum(w, h)
            fill = area / (w * h)
            keep = np.nonzero((side >= low) & (area >= 2 * low) & (fill >= 0.08)
                              & ((side <= BLOB_MAX) | ((side <= THIN_MAX) & (fill < 0.3))))[0] + 1
            for i in keep:
                x, y, bw, bh = stats[i, :4]
                crop = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8) * 255
                mom = _moments(crop)
                if mom is None:
                    continue
                m, sc, _ = mom
                canon = _canonical(crop, m, sc)
                # to full-resolution pixels (pixel centres: x_full = (x + 0.5) * scale - 0.5)
                full_mean = (m + np.array([x, y]) + 0.5) * scale - 0.5
                blobs.append(Blob(full_mean, sc * scale, canon))
    return blobs


def _soft_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Soft IoU of every row of ``a`` (n, d) with every row of ``b`` (m, d)."""
    inter = a @ b.T
    return inter / (a.sum(1)[:, None] + b.sum(1)[None, :] - inter + 1e-6)


def shape_poses(ref: Reference, blobs: list[Blob], canon: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(support, 3x3 homography reference -> image) proposed by blobs that look like a part of ``ref``.

    A pose proposed by one part is supported by the blobs found where it puts the reference's other parts (a
    constellation check): a plain stroke or disc alone matches too much of a photo to be worth verifying.
    """
    sims = [_soft_iou(canon, part.rotations) for part in ref.parts]  # each (blobs, ANGLES)
    best_any = [sim.max(axis=1) for sim in sims]
    centres = np.array([b.mean for b in blobs])
    sizes = np.array([b.size for b in blobs])
    poses = []
    for pi, part in enumerate(ref.parts):
        sim = sims[pi]
        best = best_any[pi]
        for bi in np.nonzero(best >= PART_MATCH)[0]:
            row = sim[bi]
            angles = []
            for k in np.argsort(-row)[:12]:  # the best rotation and distinct runner-ups (symmetric parts)
                if row[k] < max(PART_MATCH, 0.9 * best[bi]):
                    break
                if all(min(abs(k - j), ANGLES - abs(k - j)) >= 3 for j in angles):
                    angles.append(k)
                if len(angles) == 4:
                    break
            blob = blobs[bi]
            for k in angles:
                a = 2 * np.pi * k / ANGLES
                c, s = np.cos(a), np.sin(a)
                lin = blob.sqrt_cov @ np.array([[c, -s], [s, c]]) @ np.linalg.inv(part.sqrt_cov)
                if np.linalg.det(lin) <= 0:
                    continue
                t = blob.mean - lin @ part.mean
                support = float(row[k]) * part.area_fraction
                for pj, other in enumerate(ref.parts):
                    if pj == pi:
                        continue
                    where = lin @ other.mean + t
                    size = float(np.sqrt(abs(np.linalg.det(lin @ other.sqrt_cov))))
                    near = np.nonzero((np.linalg.norm(centres - where, axis=1) < 0.3 * size)
                                      & (sizes > 0.5 * size) & (sizes < 2.0 * size))[0]
                    if len(near):
                        support += float(best_any[pj][near].max()) * other.area_fraction
                poses.append((support, np.vstack([np.hstack([lin, t[:, None]]), [0, 0, 1]])))
    poses.sort(key=lambda p: -p[0])
    return poses


def sift_poses(ref: Reference, keypoints, descriptors, matcher) -> list[tuple[float, np.ndarray]]:
    poses = []
    if descriptors is None or len(keypoints) < 8:
        return poses
    for ref_kps, ref_desc in ref.sift:
        pairs = matcher.knnMatch(ref_desc, descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) < 8:
            continue
        src = np.float32([ref_kps[m.queryIdx].pt for m in good])
        dst = np.float32([keypoints[m.trainIdx].pt for m in good])
        H, inliers = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 4.0, maxIters=2000, confidence=0.999)
        if H is not None and inliers is not None and int(inliers.sum()) >= 8:
            poses.append((float(inliers.sum()), H))
    return poses


# ---------------------------------------------------------------- verification


def _frame(ref: Reference, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference's template at ``side`` px (longest side) inside a background margin, and the 3x3 map from
    that frame's pixels to reference pixels."""
    w, h = ref.size
    s = side / max(w, h)
    pad = int(round(MARGIN * side))
    tw, th = max(2, round(w * s)), max(2, round(h * s))
    small = cv2.resize(ref.template, (tw, th), interpolation=cv2.INTER_AREA)
    bg = 1.0 if ref.template.max() > 0 and not np.array_equal(ref.template, ref.silhouette.astype(np.float32)) else 0.0
    frame = np.pad(small, pad, constant_values=bg).astype(np.float32)
    to_ref = np.array([[1 / s, 0, -pad / s], [0, 1 / s, -pad / s], [0, 0, 1]])
    return frame, to_ref


def _sane(H: np.ndarray, w: int, h: int) -> bool:
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])[None]
    q = cv2.perspectiveTransform(corners, H)[0]
    if not cv2.isContourConvex(q.astype(np.float32)):
        return False
    area = cv2.contourArea(q)
    edges = np.linalg.norm(q - np.roll(q, 1, axis=0), axis=1)
    return area >= 64 and edges.min() >= 4 and edges.max() / edges.min() < 12 * max(w, h) / min(w, h)


class LogoDetector:
    name = "logos"

    def __init__(self, settings, methods: Sequence[str] = ("shape", "sift")):
        if not settings.logos:
            raise InputError("the logos detector needs reference logos: give --logos DIR")
        files = reference_files(settings.logos)
        self.threshold = float(settings.logo_threshold)
        self.methods = tuple(methods)
        self._sift = cv2.SIFT_create() if "sift" in self.methods else None
        self.references = [load_reference(p, self._sift) for p in files]
        if "shape" not in self.methods:
            for r in self.references:
                r.parts = []
        digest = hashlib.sha256(ALGORITHM.encode())
        for p in files:
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        self.model_id = f"{ALGORITHM}:{digest.hexdigest()[:16]}"
        self._frames = {id(r): (_frame(r, CHECK_SIDE), _frame(r, ECC_SIDE)) for r in self.references}
        self._matcher = cv2.BFMatcher(cv2.NORM_L2)

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

    def detect_one(self, image: np.ndarray) -> list[Region]:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        blobs = find_blobs(grey) if any(r.parts for r in self.references) else []
        canon = np.stack([b.canonical for b in blobs]) if blobs else np.zeros((0, CANON * CANON), np.float32)
        kps, desc = self._sift.detectAndCompute(grey, None) if any(r.sift for r in self.references) else ([], None)
        imgf = image.astype(np.float32)
        found: list[Region] = []
        for ref in self.references:
            poses = sift_poses(ref, kps, desc, self._matcher) if ref.sift else []
            if ref.parts and blobs:
                poses += shape_poses(ref, blobs, canon)
            found += self._confirmed(imgf, ref, poses)
        h, w = image.shape[:2]
        return [r.clipped(w, h) for r in found]

    def _confirmed(self, imgf: np.ndarray, ref: Reference, poses) -> list[Region]:
        """Verify the best distinct poses of one reference; one region per place it is found."""
        w, h = ref.size
        centre = np.float32([[[w / 2, h / 2]]])
        tried: list[tuple[np.ndarray, float]] = []  # (centre, size) of poses verified, found or not
        kept: list[tuple[float, np.ndarray, float, np.ndarray]] = []  # (score, centre, size, outline)
        for _, H in poses:
            if len(tried) >= MAX_HYPOTHESES:
                break
            c = cv2.perspectiveTransform(centre, H)[0, 0]
            size = float(np.sqrt(abs(np.linalg.det(H[:2, :2]))) * max(w, h))
            if size < MIN_LOGO:
                continue
            if any(np.linalg.norm(c - tc) < 0.15 * ts and 0.8 < size / ts < 1.25 for tc, ts in tried):
                continue  # the same pose as one already verified
            tried.append((c, size))
            result = self.verify(imgf, ref, H)
            if result is None:
                continue
            score, Hf = result
            c = cv2.perspectiveTransform(centre, Hf)[0, 0]
            outline = cv2.perspectiveTransform(self._outline(ref), Hf)[0]
            size = float(np.sqrt(max(cv2.contourArea(outline), 1.0)))
            if any(np.linalg.norm(c - kc) < 0.3 * max(ks, size) for _, kc, ks, _ in kept):
                continue  # found here already
            kept.append((score, c, size, outline))
        regions = []
        for score, _, _, outline in kept:
            xs, ys = outline[:, 0], outline[:, 1]
            regions.append(Region(LOGO, (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                                  round(score, 4), self.name, 0, tuple((float(x), float(y)) for x, y in outline),
                                  ref.name))
        return regions

    @staticmethod
    def _outline(ref: Reference) -> np.ndarray:
        """The reference's box grown by 4% so blur and alignment error stay inside it."""
        w, h = ref.size
        g = 0.04 * max(w, h)
        return np.float32([[-g, -g], [w + g, -g], [w + g, h + g], [-g, h + g]])[None]

    def verify(self, imgf: np.ndarray, ref: Reference, H: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(score, refined homography) if the image agrees with the whole reference at pose ``H``.

        The image is warped into the reference's frame; the colour weights whose projection best fits the
        template make a one-channel image in which the logo is bright whatever its colour; ECC aligns that image
        to the template (affine at a small size, then a homography at a larger one). The score is the
        intersection over union of the template's silhouette and the projected image thresholded midway
        between the logo's and the background's levels: the fraction of the mark that is really there.
        """
        w, h = ref.size
        if not _sane(H, w, h):
            return None
        (check, check_to_ref), (fine, fine_to_ref) = self._frames[id(ref)]
        warped = _warp(imgf, H @ check_to_ref, check.shape)
        weights, r = _projection(warped, check)
        if r < 0.3:
            return None
        H = _ecc(check, warped, weights, H, check_to_ref, cv2.MOTION_AFFINE, 30)
        if H is None or not _sane(H, w, h):
            return None
        warped = _warp(imgf, H @ check_to_ref, check.shape)
        weights, _ = _projection(warped, check)
        if _score(ref, warped, weights, check) < 0.8 * self.threshold:
            return None
        warped = _warp(imgf, H @ fine_to_ref, fine.shape)
        weights, _ = _projection(warped, fine)
        H = _ecc(fine, warped, weights, H, fine_to_ref, cv2.MOTION_HOMOGRAPHY, 40)
        if H is None or not _sane(H, w, h):
            return None
        warped = _warp(imgf, H @ fine_to_ref, fine.shape)
        weights, _ = _projection(warped, fine)
        score = _score(ref, warped, weights, fine)
        return (score, H) if score >= self.threshold else None


def _warp(imgf: np.ndarray, G: np.ndarray, shape) -> np.ndarray:
    """The image sampled on the reference frame whose pixels ``G`` maps into the image."""
    return cv2.warpPerspective(imgf, G, (shape[1], shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


def _ecc(template, warped, weights, H, frame_to_ref, motion, iterations) -> np.ndarray | None:
    """``H`` refined by ECC alignment of the projected image to the template (None if it does not converge)."""
    proj = np.ascontiguousarray((warped.reshape(-1, 3) @ weights).reshape(template.shape).astype(np.float32))
    warp = np.eye(3 if motion == cv2.MOTION_HOMOGRAPHY else 2, 3, dtype=np.float32)
    try:
        _, warp = cv2.findTransformECC(template, proj, warp, motion,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-4), None, 3)
    except cv2.error:
        return None
    if warp.shape[0] == 2:
        warp = np.vstack([warp, [0, 0, 1]])
    return H @ frame_to_ref @ warp.astype(np.float64) @ np.linalg.inv(frame_to_ref)


def _projection(warped: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, float]:
    """The colour weights whose projection of the pixels best fits ``template`` (least squares), and the
    correlation that projection reaches: a logo in any colour, or inverted, fits as well as the original."""
    x = warped.reshape(-1, 3)
    x = x - x.mean(axis=0)
    t = template.reshape(-1) - template.mean()
    cov = x.T @ x + np.eye(3, dtype=x.dtype) * (1e-3 * len(x))
    weights = np.linalg.solve(cov, x.T @ t)
    proj = x @ weights
    denom = float(np.sqrt((proj @ proj) * (t @ t)))
    return weights.astype(np.float32), (float(proj @ t) / denom if denom > 0 else 0.0)


def _score(ref: Reference, warped: np.ndarray, weights: np.ndarray, template: np.ndarray) -> float:
    """Silhouette agreement for flat marks; for textured logos, the correlation of image and template."""
    if ref.flat:
        return _agreement(warped, weights, template)
    return _projection(warped, template)[1]


def _agreement(warped: np.ndarray, weights: np.ndarray, template: np.ndarray) -> float:
    """IoU of the template's silhouette and the projected image thresholded between logo and background."""
    proj = warped.reshape(-1, 3) @ weights
    inside = template.reshape(-1) > 0.5
    if inside.all() or not inside.any():
        return 0.0
    mid = 0.5 * (np.median(proj[inside]) + np.median(proj[~inside]))
    seen = proj > mid
    return float((seen & inside).sum() / max(1, (seen | inside).sum()))
