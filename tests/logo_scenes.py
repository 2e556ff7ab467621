"""Real brand marks (PyPI simple-icons-pack, CC0 SVGs) composited onto real photos, with the ground truth.

Shared by tests/test_logos.py and benchmarks/bench_logos.py: a mark is rendered with cairosvg, carried onto the
photo by a homography (scale, rotation, perspective), painted in one colour, and the photo is then blurred,
noised and JPEG-compressed. The ground truth is the mark's pixels in the final image.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


def icon_svg(slug: str) -> bytes:
    import simple_icons_pack

    return simple_icons_pack.get_icon(slug).svg.encode()


def icon_slugs() -> list[str]:
    import simple_icons_pack

    return sorted(getattr(simple_icons_pack, n).slug for n in dir(simple_icons_pack) if n.startswith("SI_"))


def render_alpha(svg: bytes, side: int) -> np.ndarray:
    """The mark's coverage (float 0..1), cropped to the mark, longest side ``side`` pixels."""
    import cairosvg

    png = cairosvg.svg2png(bytestring=svg, output_width=side, output_height=side)
    alpha = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3].astype(np.float32) / 255.0
    ys, xs = np.nonzero(alpha > 0.02)
    return alpha[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


@dataclass
class Placed:
    truth: np.ndarray  # bool (H, W): the mark's pixels
    width: float  # the mark's longest side in pixels before perspective (its size band)
    quad: np.ndarray  # (4, 2) the mark's box corners in the image


def place_mark(photo: np.ndarray, svg: bytes, width: float, rng: np.random.Generator, angle: float | None = None,
               tilt: float = 0.0, colour: tuple[int, int, int] | None = None,
               centre: tuple[float, float] | None = None) -> tuple[np.ndarray, Placed]:
    """``photo`` with the mark painted on it: ``width`` px long side, rotated by ``angle`` degrees (random when
    None), perspective ``tilt`` (0: none, 0.3: strong), in ``colour`` (random, contrasting its place when None)."""
    h, w = photo.shape[:2]
    hi = render_alpha(svg, 1024)
    ah, aw = hi.shape
    s = width / max(ah, aw)
    angle = rng.uniform(-180, 180) if angle is None else angle
    # the box corners after scale and rotation, then each corner jittered for perspective
    box = np.float32([[0, 0], [aw, 0], [aw, ah], [0, ah]])
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = (box - [aw / 2, ah / 2]) * s @ rot.T
    if tilt > 0:
        # a receding plane: one side shorter than the other, along a random direction
        d = rng.uniform(0, 2 * np.pi)
        axis = np.array([np.cos(d), np.sin(d)])
        proj = pts @ axis
        span = max(np.ptp(proj), 1e-6)
        pts = pts * (1 - tilt * (proj - proj.min())[:, None] / span)
        pts -= pts.mean(axis=0)
    ext = np.ptp(pts, axis=0)
    if centre is None:
        cx = rng.uniform(ext[0] / 2 + 2, w - ext[0] / 2 - 2) if w > ext[0] + 4 else w / 2
        cy = rng.uniform(ext[1] / 2 + 2, h - ext[1] / 2 - 2) if h > ext[1] + 4 else h / 2
        centre = (cx, cy)
    quad = (pts + centre).astype(np.float32)
    H = cv2.getPerspectiveTransform(box, quad)
    cover = cv2.warpPerspective(hi, H, (w, h), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if s < 0.5:  # warpPerspective does not average over a large footprint: render closer to the size instead
        lo = render_alpha(svg, max(8, int(round(1024 * s * 2))))
        lh, lw = lo.shape
        H2 = cv2.getPerspectiveTransform(np.float32([[0, 0], [lw, 0], [lw, lh], [0, lh]]), quad)
        cover = cv2.warpPerspective(lo, H2, (w, h), flags=cv2.INTER_LINEAR)
    truth = cover >= 0.5
    if colour is None:
        place = photo[truth].astype(np.float32).mean(axis=0) if truth.any() else np.full(3, 128.0)
        for _ in range(50):
            colour = rng.integers(0, 256, 3)
            if np.abs(colour - place).sum() >= 150 and abs(colour.mean() - place.mean()) >= 40:
                break
    out = photo.astype(np.float32) * (1 - cover[..., None]) + np.asarray(colour, np.float32) * cover[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), Placed(truth, float(width), quad)


def pose_near(H: np.ndarray, ref, placed: Placed) -> bool:
    """Whether the pose H (reference pixels -> image) of the detector's reference ``ref`` is near the composited
    mark: its centre within 0.3 of the mark's width of the mark's centre, its size 0.6-1.6 times the mark's."""
    from detectors.logo_alignment import mark_size as _size

    w, h = ref.size
    c = H @ [w / 2, h / 2, 1.0]
    return (bool(np.linalg.norm(c[:2] / c[2] - placed.quad.mean(axis=0)) < 0.3 * placed.width)
            and 0.6 < _size(H, ref) / placed.width < 1.6)


def degrade(image: np.ndarray, rng: np.random.Generator, blur: float | None = None, noise: float | None = None,
            quality: int | None = None) -> np.ndarray:
    """Blur (Gaussian sigma), noise (sigma in grey levels) and JPEG (quality), random where None."""
    blur = rng.uniform(0, 1.2) if blur is None else blur
    noise = rng.uniform(0, 5) if noise is None else noise
    quality = int(rng.integers(50, 92)) if quality is None else quality
    out = image
    if blur > 0.1:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise > 0:
        out = np.clip(out.astype(np.float32) + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def coverage(mask: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of the mark's pixels inside the mask."""
    return float((mask & truth).sum() / max(1, truth.sum()))
