"""Logo stage 1, references: how a user's reference logo (``--logos DIR``: PNG, JPEG or SVG) is prepared, once per
job.

A reference is read as RGBA with its longest side ``REF_SIDE`` (SVG rendered with cairosvg) and cropped to the
logo. Its **inside** is what a scene shows of it: the opaque pixels of a transparent reference; the whole box of
an opaque one (a logo on its own card: the card is part of what is looked for). Its **grey** image is what the
later stages compare: the luminance, or for a one-colour mark its silhouette (all it has).

Prepared from it, for the proposals: SIFT keypoints and descriptors of the reference as drawn (at two sizes, so
a mark far smaller than the reference still shares fine features with it; a transparent one on white and on
black, as its background in a scene may be lighter or darker), and small grey templates for marks too small for
keypoints.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from redact.core.errors import InputError

REFERENCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
REF_SIDE = 256  # references are rendered/resized so their longest side is this
FEATURE_SIDES = (256, 96)  # the reference is drawn this long (longest side) for its SIFT features
FEATURE_BLUR = 1.0  # Gaussian sigma on the drawn reference: a capture is never sharper than this
TEMPLATE_SIDE = 16  # small templates' longest side (pixels)
TEMPLATE_ANGLES = (-15.0, 0.0, 15.0)  # degrees: the templates' turns
TEMPLATE_BLUR = 0.7  # Gaussian sigma (template pixels)
INK_FLOOR = 0.03  # added to colours (0-1) before their log, so a dark ink's noise does not make edges of its own
SIFT = cv2.SIFT_create()


@dataclass
class Template:
    image: np.ndarray  # float32 (th, tw): zero mean, unit norm
    to_template: np.ndarray  # 3x3: reference pixels -> template pixels
    edges: np.ndarray  # float32 (th, tw, 2): the reference's edge tensor (``reference_edges``), summing to 1 in norm


@dataclass
class Reference:
    name: str  # file name: the region label
    rgb: np.ndarray  # uint8 (h, w, 3)
    inside: np.ndarray  # bool (h, w): the pixels a scene shows of it
    grey: np.ndarray  # float32 (h, w) in [0, 1]: what the stages compare (the silhouette of a one-colour mark)
    opaque: bool  # no transparency: the whole box is the logo
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # reference pixels
    descriptors: np.ndarray = field(default_factory=lambda: np.zeros((0, 128), np.float32))
    templates: list[Template] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.inside.shape
        return w, h


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


def load_reference(path: Path) -> Reference:
    rgba = read_reference_rgba(path)
    opaque = (rgba[..., 3] < 128).mean() <= 0.02
    if opaque:  # crop a uniform border away (a logo saved on a page) but keep its card
        rgb = rgba[..., :3].astype(np.int16)
        edge = np.median(np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]), axis=0)
        content = np.abs(rgb - edge).sum(axis=2) > 30
    else:
        content = rgba[..., 3] >= 128
    if content.sum() < 50:
        raise InputError(f"logo {path.name}: no logo shape found in it (empty or blank image)")
    ys, xs = np.nonzero(content)
    rgba = rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    rgb = np.ascontiguousarray(rgba[..., :3])
    inside = np.ones(rgb.shape[:2], bool) if opaque else rgba[..., 3] >= 128
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    one_colour = float(rgb[inside].astype(np.float32).std(axis=0).max()) < 20.0
    if one_colour and not opaque:
        grey = inside.astype(np.float32)
    if float(grey[inside].std()) < 0.02 and opaque:
        raise InputError(f"logo {path.name}: it is one flat box, with no shape or texture to find it by")
    ref = Reference(path.name, rgb, inside, grey, opaque)
    ref.keypoints, ref.descriptors = features(ref)
    ref.templates = templates(ref)
    return ref


def on_backgrounds(ref: Reference) -> list[np.ndarray]:
    """The reference's luminance as a scene may show it (uint8): an opaque one as it is, a transparent one on white
    and on black."""
    luminance = cv2.cvtColor(ref.rgb, cv2.COLOR_RGB2GRAY)
    if ref.opaque:
        return [luminance]
    return [np.where(ref.inside, luminance, np.uint8(bg)) for bg in (255, 0)]


def features(ref: Reference) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints (reference pixels) and descriptors of the reference drawn FEATURE_SIDES long on each of
    its backgrounds, blurred by FEATURE_BLUR."""
    points, descriptors = [], []
    w, h = ref.size
    for drawn in on_backgrounds(ref):
        for side in FEATURE_SIDES:
            s = side / max(w, h)
            pad = int(round(0.15 * side))
            image = cv2.resize(drawn, (max(2, round(w * s)), max(2, round(h * s))), interpolation=cv2.INTER_AREA)
            image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            image = cv2.GaussianBlur(image, (0, 0), FEATURE_BLUR)
            kps, desc = SIFT.detectAndCompute(image, None)
            if desc is not None:
                points += [(np.float32(k.pt) - pad) / s for k in kps]
                descriptors.append(desc)
    if not descriptors:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    return np.float32(points).reshape(-1, 2), np.vstack(descriptors).astype(np.float32)


def edge_tensor(planes: list[np.ndarray]) -> np.ndarray:
    """(h, w, 2): the edges' orientation of planes of one size, as the doubled-angle gradient (gx^2 - gy^2,
    2 gx gy) summed over the planes: a dark-on-light and a light-on-dark edge of one direction agree."""
    jx = jy = 0
    for plane in planes:
        gx, gy = cv2.Sobel(plane, cv2.CV_32F, 1, 0), cv2.Sobel(plane, cv2.CV_32F, 0, 1)
        jx, jy = jx + gx * gx - gy * gy, jy + 2 * gx * gy
    return np.stack([jx, jy], axis=-1)


def image_edges(image: np.ndarray) -> np.ndarray:
    """(h, w, 2): the edge tensor of an image's colours (0-255) in log, so ink multiplied into a lit, textured
    surface adds its edges to the surface's instead of scaling them."""
    return edge_tensor([np.log(np.ascontiguousarray(image[..., c], np.float32) / 255 + INK_FLOOR)
                        for c in range(3)])


def reference_edges(planes: np.ndarray) -> np.ndarray:
    """(h, w, 2): the edge tensor of the reference drawn as (h, w, 4) planes (its colours 0-1 inside the mark,
    zero outside, and the inside): printed on white, in log, and its outline."""
    outside = 1 - planes[..., 3]
    return edge_tensor([np.log(planes[..., c] + outside + INK_FLOOR) for c in range(3)]
                       + [np.ascontiguousarray(planes[..., 3])])


def template_image(ref: Reference) -> np.ndarray:
    """The grey image the templates are drawn from: outside a transparent mark, the value least like its own
    edge (a mark stands out from what is around it, whichever way)."""
    if ref.opaque:
        return ref.grey
    ring = ref.inside & ~cv2.erode(ref.inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    edge = float(ref.grey[ring].mean()) if ring.any() else 0.5
    return np.where(ref.inside, ref.grey, 1.0 if edge < 0.5 else 0.0).astype(np.float32)


def templates(ref: Reference) -> list[Template]:
    """The reference TEMPLATE_SIDE px long at each of TEMPLATE_ANGLES, inside a margin, blurred: its grey image
    zero mean and unit norm (the numerator of normalised correlation), and its edge tensor."""
    image = template_image(ref)
    w, h = ref.size
    s = TEMPLATE_SIDE / max(w, h)
    drawn_size = (max(2, round(w * s)), max(2, round(h * s)))
    small = cv2.resize(image, drawn_size, interpolation=cv2.INTER_AREA)
    inside = ref.inside.astype(np.float32)
    planes = np.dstack([cv2.resize(p, drawn_size, interpolation=cv2.INTER_AREA)
                        for p in [ref.rgb[..., c].astype(np.float32) / 255 * inside for c in range(3)] + [inside]])
    background = float(np.median(np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])))
    margin = max(2, round(0.15 * TEMPLATE_SIDE))
    out = []
    for degrees in TEMPLATE_ANGLES:
        a = np.deg2rad(degrees)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sh, sw = small.shape
        corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float64) @ rot.T
        lo = corners.min(axis=0) - margin
        size = np.ceil(corners.max(axis=0) + margin - lo).astype(int)
        A = np.hstack([rot, -lo[:, None]])
        t = cv2.warpAffine(small, A, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=background)
        t = cv2.GaussianBlur(t, (0, 0), TEMPLATE_BLUR, borderType=cv2.BORDER_REPLICATE)
        t = t - t.mean()
        t /= max(float(np.linalg.norm(t)), 1e-9)
        drawn = cv2.warpAffine(planes, A, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        e = reference_edges(cv2.GaussianBlur(drawn, (0, 0), TEMPLATE_BLUR))
        e /= max(float(np.linalg.norm(e, axis=-1).sum()), 1e-9)
        out.append(Template(t.astype(np.float32), np.vstack([A, [0, 0, 1]]) @ np.diag([sw / w, sh / h, 1.0]),
                            np.ascontiguousarray(e, np.float32)))
    return out
