"""Reading images safely and writing them back with no metadata.

Reading checks the header before decoding (a file whose header claims 50,000 x 50,000 pixels is refused before
any pixel is allocated), applies the EXIF orientation, composites transparency onto white (as a viewer shows the
image), and returns every page of a multi-page TIFF or animated PNG/WebP (of a phone JPEG holding more pictures, only
the main one). Writing builds a fresh image from the pixels alone, so no EXIF, XMP, ICC profile or text chunk of
the input survives.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from redact.core.errors import InputError

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                  ".webp": "WEBP", ".bmp": "BMP"}
MAX_PIXELS = 120_000_000  # per page: a 600 dpi A3 scan is about 70 MP
MAX_TOTAL_PIXELS = 1_000_000_000  # per file (all pages are held at once): 115 A4 pages at 300 dpi
ANIMATED = ("PNG", "WEBP")  # formats whose several frames are an animation (written back with their timing)


@dataclass
class LoadedImage:
    pages: list[np.ndarray]  # RGB uint8 (H, W, 3), orientation applied
    format: str  # PIL format name, the one the output is written in
    modes: list[str]  # each page's original mode, so grey pages stay grey
    durations: list[int] = field(default_factory=list)  # ms per frame of an animated PNG or WebP, else empty


def read_image(path: Path) -> LoadedImage:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}") from exc
    if size == 0:
        raise InputError("empty file")
    try:
        with warnings.catch_warnings():
            # PIL warns from 89 MP on; the limits here are MAX_PIXELS per page and MAX_TOTAL_PIXELS per file,
            # checked from the headers before any page is decoded (PIL itself still refuses > 179 MP on open).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise InputError(f"image too large: {w} x {h} pixels (limit {MAX_PIXELS:,})")
                fmt = im.format or ""
                expected = IMAGE_SUFFIXES.get(path.suffix.lower())
                if fmt == "MPO" and expected == "JPEG":
                    # a phone JPEG with more pictures after the main one (depth map, gain map, preview): those are
                    # unredacted copies of the scene, so only the main picture is read and written
                    fmt = "JPEG"
                if expected and fmt != expected:
                    raise InputError(f"file extension says {expected} but the content is {fmt or 'unknown'}")
                frames = [im] if fmt == "JPEG" else ImageSequence.Iterator(im)
                sizes = [frame.size for frame in frames]  # headers only: no page is decoded yet
                for fw, fh in sizes:
                    if fw * fh > MAX_PIXELS:
                        raise InputError(f"image page too large: {fw} x {fh} pixels")
                total = sum(fw * fh for fw, fh in sizes)
                if total > MAX_TOTAL_PIXELS:
                    raise InputError(f"image too large: {len(sizes)} pages, {total / 1e6:,.0f} megapixels in all "
                                     f"(limit {MAX_TOTAL_PIXELS / 1e6:,.0f}); split it into smaller files")
                pages, modes, durations = [], [], []
                for frame in ([im] if fmt == "JPEG" else ImageSequence.Iterator(im)):
                    frame.load()
                    upright = ImageOps.exif_transpose(frame)
                    modes.append(upright.mode)
                    durations.append(int(frame.info.get("duration") or 0))
                    pages.append(_visible_rgb(upright))
    except InputError:
        raise
    except UnidentifiedImageError as exc:
        raise InputError("not an image file (or an unsupported format)") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError("image too large (decompression bomb protection)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"corrupt or truncated image ({' '.join(str(exc).split())})") from exc
    if not pages:
        raise InputError("image has no pages")
    return LoadedImage(pages, fmt, modes, durations if fmt in ANIMATED and len(pages) > 1 else [])


def _visible_rgb(im: Image.Image) -> np.ndarray:
    """The page as a viewer shows it: transparent pixels composited onto white. Dropping the alpha channel
    instead would reveal whatever colour lies under fully transparent pixels (content someone erased)."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB")).copy()
    return np.asarray(im.convert("RGB")).copy()


def _pil_page(page: np.ndarray, mode: str) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(page), "RGB")
    if mode in ("L", "1", "I;16", "I", "F", "LA", "P") and mode != "P":
        return im.convert("L")
    return im


def write_image(path: Path, pages: list[np.ndarray], fmt: str, modes: list[str] | None = None,
                durations: list[int] | None = None) -> None:
    """Write pages in ``fmt`` with no metadata at all (the images are built from pixels only).

    Several pages go into one file: TIFF pages, or the frames of an animated PNG or WebP (``durations`` in ms)."""
    modes = modes or ["RGB"] * len(pages)
    ims = [_pil_page(p, m) for p, m in zip(pages, modes)]
    first = ims[0]
    frames = {"save_all": True, "append_images": ims[1:], "duration": list(durations or [100] * len(ims)),
              "loop": 0} if len(ims) > 1 else {}
    if fmt == "JPEG":
        first.save(path, "JPEG", quality=95, subsampling=0, optimize=True)
    elif fmt == "PNG":
        first.save(path, "PNG", optimize=False, compress_level=6, **frames)
    elif fmt == "TIFF":
        first.save(path, "TIFF", compression="tiff_deflate", save_all=True, append_images=ims[1:])
    elif fmt == "WEBP":
        first.save(path, "WEBP", quality=95, method=4, **frames)
    elif fmt == "BMP":
        first.save(path, "BMP")
    else:
        raise InputError(f"cannot write format {fmt}")
