"""Realistic logo scenes: real colour marks, placed the ways real marks reach a camera, with the ground truth.

Marks: Papirus app icons (a committed subset of Debian's ``papirus-icon-theme``, tests/data/papirus, with its
provenance) and simple-icons (PyPI ``simple-icons-pack``, CC0) in their brand colour, alone or with a text
wordmark (the brand's name in DejaVu Sans Bold) beside the symbol.

References, as a user would give them: the mark on a transparent background, or opaque (the mark on its own
card, a PNG without alpha). A symbol-only reference may meet its mark with a wordmark beside it.

Placements (``MODES``):
- ``photo``: the mark drawn straight onto a real photo;
- ``sticker``: the mark on a card of its own (white, pale or dark, rounded, with a shadow) stuck on the photo;
- ``print``: the mark printed (multiplied) into the photo's surface under a lighting gradient;
- ``screen``: a wallpaper or a screenshot (a panel of other icons) at 1280x720 (larger when the mark needs it),
  the mark upright, at another scale than the reference.
Each placement is turned (up to 20 degrees; none on a screen), tilted in perspective, then the whole image is
blurred, noised and JPEG-compressed. The ground truth is the referenced mark's pixels in the final image.

Seeds split the material: a tuning seed (``is_held_out(seed)`` false) draws Papirus icons of even rank, simple
icons of even rank and scene photos from photos/train[:150]; a held-out seed draws the odd ranks and
photos/train[150:] plus photos/eval. Logo-free photos for false detections follow the same split.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from logo_scenes import degrade

ROOT = Path(__file__).resolve().parent.parent
PAPIRUS = ROOT / "tests" / "data" / "papirus"
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
ART_SIDE = 512  # marks are drawn this long (longest side) before they are placed
BANDS = ((32, 48), (48, 96), (96, 256), (256, 640))
MODES = ("photo", "sticker", "print", "screen")
HELD_OUT_FROM = 100  # seeds from this one on are held out
SCREEN = (1280, 720)


def is_held_out(seed: int) -> bool:
    return seed >= HELD_OUT_FROM


# ---------------------------------------------------------------- marks


def _svg_rgba(svg: bytes, side: int) -> np.ndarray:
    import cairosvg

    probe = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg)))
    s = side / max(probe.size)
    png = cairosvg.svg2png(bytestring=svg, output_width=max(1, round(probe.width * s)),
                           output_height=max(1, round(probe.height * s)))
    return _cropped(np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")))


def _cropped(rgba: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(rgba[..., 3] > 8)
    return rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1].copy()


def papirus_names(held_out: bool) -> list[str]:
    names = sorted(p.stem for p in PAPIRUS.glob("*.svg"))
    return names[int(held_out)::2]


def simple_icon_slugs(held_out: bool) -> list[str]:
    from logo_scenes import icon_slugs

    return icon_slugs()[int(held_out)::2]


def papirus_art(name: str) -> np.ndarray:
    return _svg_rgba((PAPIRUS / f"{name}.svg").read_bytes(), ART_SIDE)


def simple_icon_art(slug: str, wordmark: bool = False) -> np.ndarray:
    """The simple-icons symbol in its brand colour (a near-white brand drawn dark grey), with the brand's name
    beside it when ``wordmark``."""
    import simple_icons_pack

    icon = simple_icons_pack.get_icon(slug)
    colour = np.array([int(icon.hex[i:i + 2], 16) for i in (0, 2, 4)], np.uint8)
    if colour.astype(int).sum() > 600:
        colour = np.array([60, 60, 60], np.uint8)
    symbol = _svg_rgba(icon.svg.encode(), ART_SIDE if not wordmark else ART_SIDE // 3)
    symbol[..., :3] = colour
    if not wordmark:
        return symbol
    return with_wordmark(symbol, icon.title, colour)


def with_wordmark(symbol: np.ndarray, text: str, colour) -> np.ndarray:
    """The symbol with ``text`` beside it, as tall as half the symbol, in ``colour``."""
    h = symbol.shape[0]
    font = ImageFont.truetype(str(FONT), max(8, h // 2))
    box = font.getbbox(text)
    tw, th = box[2] - box[0], box[3] - box[1]
    gap = h // 5
    canvas = Image.new("RGBA", (symbol.shape[1] + gap + tw + 2, max(h, th + 2)), (0, 0, 0, 0))
    canvas.paste(Image.fromarray(symbol), (0, (canvas.height - h) // 2))
    ImageDraw.Draw(canvas).text((symbol.shape[1] + gap - box[0], (canvas.height - th) // 2 - box[1]), text,
                                font=font, fill=tuple(int(c) for c in colour) + (255,))
    return _cropped(np.asarray(canvas))


def symbol_part(lockup: np.ndarray, symbol_width: int) -> np.ndarray:
    """The alpha of the lockup's symbol alone (its first ``symbol_width`` columns)."""
    alpha = lockup[..., 3].astype(np.float32) / 255
    alpha[:, symbol_width:] = 0
    return alpha


def on_card(art: np.ndarray, card: tuple[int, int, int], margin: float = 0.15, radius: float = 0.12,
            mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the art on an opaque rounded card of colour ``card``, the art's alpha (or ``mask``) in the card's frame)."""
    h, w = art.shape[:2]
    m = int(round(margin * max(h, w)))
    H, W = h + 2 * m, w + 2 * m
    r = int(round(radius * min(H, W)))
    shape = np.zeros((H, W), np.uint8)
    cv2.rectangle(shape, (r, 0), (W - 1 - r, H - 1), 255, -1)
    cv2.rectangle(shape, (0, r), (W - 1, H - 1 - r), 255, -1)
    for cx, cy in ((r, r), (W - 1 - r, r), (r, H - 1 - r), (W - 1 - r, H - 1 - r)):
        cv2.circle(shape, (cx, cy), r, 255, -1, cv2.LINE_AA)
    a = art[..., 3:4].astype(np.float32) / 255
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = card
    rgb[m:m + h, m:m + w] = rgb[m:m + h, m:m + w] * (1 - a) + art[..., :3] * a
    out = np.dstack([np.clip(rgb + 0.5, 0, 255).astype(np.uint8), shape])
    truth = np.zeros((H, W), np.float32)
    truth[m:m + h, m:m + w] = art[..., 3].astype(np.float32) / 255 if mask is None else mask
    return out, truth


def card_colour(art: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int]:
    """White, a pale tint, or a dark card (for a light mark): a colour the mark stands out on."""
    mark = art[..., :3][art[..., 3] > 128].astype(np.float32).mean(axis=0) if (art[..., 3] > 128).any() else 128
    if np.mean(mark) > 170:
        return tuple(int(v) for v in rng.integers(20, 70, 3))
    if rng.random() < 0.6:
        return (255, 255, 255)
    return tuple(int(v) for v in rng.integers(215, 256, 3))


# ---------------------------------------------------------------- references


@dataclass
class Logo:
    """One reference logo and how its mark is drawn in scenes."""

    name: str  # the reference's file name
    art: np.ndarray  # RGBA uint8: what the reference shows (the mark, on its card when opaque)
    truth: np.ndarray  # float (h, w): the mark's pixels in ``art`` (what must be covered)
    opaque: bool
    lockup: np.ndarray | None = None  # RGBA: the symbol with a wordmark, for a symbol-only reference's scenes
    lockup_truth: np.ndarray | None = None  # the symbol's pixels in ``lockup``

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        image = self.art if not self.opaque else self.art[..., :3]
        Image.fromarray(np.ascontiguousarray(image)).save(path)
        return path


def draw_logos(seed: int, count: int = 10) -> list[Logo]:
    """``count`` references of the seed's split: half Papirus icons, half simple-icons (a third of those with a
    wordmark in the reference); each opaque (on its card) with probability 0.4."""
    rng = np.random.default_rng(seed)
    held = is_held_out(seed)
    pap = papirus_names(held)
    slugs = simple_icon_slugs(held)
    logos = []
    for i in range(count):
        if i % 2 == 0:
            name = pap[int(rng.integers(len(pap)))]
            while any(lg.name.startswith(f"papirus-{name}.") for lg in logos):
                name = pap[int(rng.integers(len(pap)))]
            art, lockup, lockup_truth, stem = papirus_art(name), None, None, f"papirus-{name}"
        else:
            slug = slugs[int(rng.integers(len(slugs)))]
            wordmark = rng.random() < 1 / 3
            art = simple_icon_art(slug, wordmark)
            lockup = lockup_truth = None
            if not wordmark:
                import simple_icons_pack

                small = simple_icon_art(slug)
                small = cv2.resize(small, (max(2, small.shape[1] // 3), max(2, small.shape[0] // 3)),
                                   interpolation=cv2.INTER_AREA)
                lockup = with_wordmark(small, simple_icons_pack.get_icon(slug).title, small[..., :3][
                    small[..., 3] > 128][0] if (small[..., 3] > 128).any() else (60, 60, 60))
                lockup_truth = symbol_part(lockup, small.shape[1] + 1)
            stem = f"si-{slug}{'-wordmark' if wordmark else ''}"
        opaque = rng.random() < 0.4
        if opaque:
            art, truth = on_card(art, card_colour(art, rng))
        else:
            truth = art[..., 3].astype(np.float32) / 255
        logos.append(Logo(f"{stem}.png", art, truth, opaque, lockup, lockup_truth))
    return logos


# ---------------------------------------------------------------- scenes


@dataclass
class Scene:
    image: np.ndarray  # RGB uint8
    logo: str  # the reference's file name
    truth: np.ndarray  # bool (H, W): the mark's pixels
    width: float  # the mark's longest side in pixels before perspective (its size band)
    mode: str


def scene_photos(seed: int) -> list[Path]:
    train = sorted((PHOTOS / "train").glob("*.jpg"))
    if is_held_out(seed):
        return train[150:] + sorted((PHOTOS / "eval").glob("*.jpg"))
    return train[:150]


def free_photos(seed: int, count: int) -> list[Path]:
    """Logo-free photos of the seed's split (the same photos as its scenes, drawn in another order)."""
    files = scene_photos(seed)
    rng = np.random.default_rng(seed + 7)
    return [files[i] for i in rng.permutation(len(files))[:count]]


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _homography(src_w: float, src_h: float, width: float, angle: float, tilt: float, centre,
                rng: np.random.Generator) -> np.ndarray:
    """Source pixels -> image pixels: scaled so the longest side is ``width``, turned, tilted, centred."""
    s = width / max(src_w, src_h)
    box = np.float32([[0, 0], [src_w, 0], [src_w, src_h], [0, src_h]])
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = (box - [src_w / 2, src_h / 2]) * s @ rot.T
    if tilt > 0:
        d = rng.uniform(0, 2 * np.pi)
        proj = pts @ np.array([np.cos(d), np.sin(d)])
        pts = pts * (1 - tilt * (proj - proj.min())[:, None] / max(np.ptp(proj), 1e-6))
        pts -= pts.mean(axis=0)
    return cv2.getPerspectiveTransform(box, (pts + centre).astype(np.float32)).astype(np.float64)


def _warp(layer: np.ndarray, H: np.ndarray, shape) -> np.ndarray:
    """``layer`` (h, w, c float) carried by H into an image of ``shape``: first resized near its final size so
    the warp does not alias."""
    h, w = layer.shape[:2]
    q = cv2.perspectiveTransform(np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), H)[0]
    final = max(np.ptp(q[:, 0]), np.ptp(q[:, 1]))
    f = min(1.0, 2 * final / max(h, w))
    if f < 1:
        size = (max(2, round(w * f)), max(2, round(h * f)))
        layer = np.dstack([cv2.resize(np.ascontiguousarray(layer[..., c]), size, interpolation=cv2.INTER_AREA)
                           for c in range(layer.shape[2])])
        H = H @ np.diag([w / layer.shape[1], h / layer.shape[0], 1.0])
    return np.dstack([cv2.warpPerspective(np.ascontiguousarray(layer[..., c]), H, (shape[1], shape[0]),
                                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                      for c in range(layer.shape[2])])


def lighting(shape, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A linear lighting ramp (h, w, 1) from ``low`` to ``high`` along a random direction."""
    h, w = shape[:2]
    d = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xs * np.cos(d) + ys * np.sin(d)
    t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    return (low + (high - low) * t)[..., None]


def screen_background(photo: np.ndarray, rng: np.random.Generator, least: float = 0) -> np.ndarray:
    """A 1280x720 wallpaper (larger, in 16:9, when its mark's art is ``least`` px long): the photo cropped to 16:9
    and resized, or a smooth two-colour gradient."""
    f = max(1.0, least / SCREEN[1])
    W, H = round(SCREEN[0] * f), round(SCREEN[1] * f)
    if rng.random() < 0.5:
        ph, pw = photo.shape[:2]
        ch = min(ph, int(pw * H / W))
        cw = int(ch * W / H)
        y0, x0 = (ph - ch) // 2, (pw - cw) // 2
        return cv2.resize(photo[y0:y0 + ch, x0:x0 + cw], (W, H), interpolation=cv2.INTER_CUBIC)
    a, b = rng.integers(0, 256, 3).astype(np.float32), rng.integers(0, 256, 3).astype(np.float32)
    t = lighting((H, W), rng, 0.0, 1.0)
    return np.clip(a * (1 - t) + b * t, 0, 255).astype(np.uint8)


def make_scene(logo: Logo, photo: np.ndarray, width: float, mode: str, rng: np.random.Generator,
               others: list[np.ndarray] = ()) -> Scene:
    """One scene of ``logo``'s mark ``width`` px long (its longest side before perspective) placed by ``mode``,
    degraded; ``others`` are icons that are no reference, for a screenshot's panel."""
    art, truth = logo.art, logo.truth
    if logo.lockup is not None and rng.random() < 0.4:  # the symbol's reference, the brand's lockup in the scene
        art, truth = logo.lockup, logo.lockup_truth
    if mode == "sticker" and not logo.opaque:
        art, truth = on_card(art, card_colour(art, rng), margin=rng.uniform(0.08, 0.25), mask=truth)
    ys, xs = np.nonzero(truth > 0.5)
    mark_side = max(np.ptp(xs), np.ptp(ys)) + 1
    art_width = width * max(art.shape[:2]) / mark_side  # the whole art is drawn so its mark is ``width`` long
    if mode == "screen":
        background = screen_background(photo, rng, art_width * 1.15).astype(np.float32)
        angle, tilt = 0.0, 0.0
    else:
        background = photo.astype(np.float32)
        if max(background.shape[:2]) < art_width * 1.15:  # a mark larger than the photo: the photo enlarged
            f = art_width * 1.15 / max(background.shape[:2])
            background = cv2.resize(background, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        angle, tilt = rng.uniform(-20, 20), rng.uniform(0, 0.3)
    h, w = background.shape[:2]
    ext = art_width * 0.75
    centre = (rng.uniform(min(ext, w / 2), max(w - ext, w / 2)), rng.uniform(min(ext, h / 2), max(h - ext, h / 2)))
    if mode == "screen" and width <= 64 and others:  # a screenshot: a panel of icons, the mark one of them
        panel = int(width * 1.5)
        background[h - panel:] = background[h - panel:] * 0.25 + 20
        slots = len(others) + 1
        mine = int(rng.integers(slots))
        x = w / 2 - slots * width * 0.75
        for k in range(slots):
            cx = x + k * width * 1.5 + width * 0.75
            if k == mine:
                centre = (cx, h - panel / 2)
                continue
            other = others[k - (k > mine)]
            Ho = _homography(other.shape[1], other.shape[0], width, 0, 0, (cx, h - panel / 2), rng)
            layer = _warp(other.astype(np.float32), Ho, background.shape)
            a = layer[..., 3:4] / 255
            background = background * (1 - a) + layer[..., :3] * a
    H = _homography(art.shape[1], art.shape[0], art_width, angle, tilt, centre, rng)
    layer = _warp(np.dstack([art.astype(np.float32), truth * 255]), H, background.shape)
    a = layer[..., 3:4] / 255
    if mode == "print":  # ink multiplies the surface; then the light falls on both
        out = background * (1 - a + a * layer[..., :3] / 255)
        out = out * lighting(out.shape, rng, rng.uniform(0.5, 0.8), rng.uniform(1.0, 1.25))
    else:
        out = background * (1 - a) + layer[..., :3] * a
        if mode in ("photo", "sticker"):
            out = out * lighting(out.shape, rng, rng.uniform(0.75, 1.0), rng.uniform(1.0, 1.15))
    image = degrade(np.clip(out + 0.5, 0, 255).astype(np.uint8), rng, blur=rng.uniform(0, 1.5),
                    noise=rng.uniform(0, 6), quality=int(rng.integers(40, 92)))
    return Scene(image, logo.name, layer[..., 4] >= 127.5, float(width), mode)


def make_scenes(seed: int, per_band: int, logos: list[Logo] | None = None) -> tuple[list[Logo], list[Scene]]:
    """The seed's references and ``per_band`` scenes in every size band, the modes and logos taken in turn, the
    photos drawn from the seed's split."""
    logos = draw_logos(seed) if logos is None else logos
    rng = np.random.default_rng(seed + 1)
    photos = scene_photos(seed)
    used = {lg.name for lg in logos}
    distractors = [papirus_art(n) for n in papirus_names(is_held_out(seed)) if f"papirus-{n}.png" not in used][:5]
    scenes = []
    for b, (lo, hi) in enumerate(BANDS):
        for i in range(per_band):
            logo = logos[(3 * i + b) % len(logos)]
            mode = MODES[(i + b) % len(MODES)]
            photo = load(photos[int(rng.integers(len(photos)))])
            width = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            scenes.append(make_scene(logo, photo, width, mode, rng, distractors))
    return logos, scenes
