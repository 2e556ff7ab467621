"""Reading images safely and writing them back with no metadata.

Reading checks the header before decoding (a file whose header claims 50,000 x 50,000 pixels is refused before
any pixel is allocated), applies the EXIF orientation, and returns every page of a multi-page TIFF. Writing
builds a fresh image from the pixels alone, so no EXIF, XMP, ICC profile or text chunk of the input survives.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from redact.errors import InputError

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                  ".webp": "WEBP", ".bmp": "BMP"}
MAX_PIXELS = 120_000_000  # per page: a 600 dpi A3 scan is about 70 MP


@dataclass
class LoadedImage:
    pages: list[np.ndarray]  # RGB uint8 (H, W, 3), orientation applied
    format: str  # PIL format name, the one the output is written in
    modes: list[str]  # each page's original mode, so grey pages stay grey


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
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise InputError(f"image too large: {w} x {h} pixels (limit {MAX_PIXELS:,})")
                fmt = im.format or ""
                expected = IMAGE_SUFFIXES.get(path.suffix.lower())
                if expected and fmt != expected:
                    raise InputError(f"file extension says {expected} but the content is {fmt or 'unknown'}")
                pages, modes = [], []
                for frame in ImageSequence.Iterator(im):
                    if frame.size[0] * frame.size[1] > MAX_PIXELS:
                        raise InputError(f"image page too large: {frame.size[0]} x {frame.size[1]} pixels")
                    frame.load()
                    upright = ImageOps.exif_transpose(frame)
                    modes.append(upright.mode)
                    pages.append(np.asarray(upright.convert("RGB")).copy())
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
    return LoadedImage(pages, fmt, modes)


def _pil_page(page: np.ndarray, mode: str) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(page), "RGB")
    if mode in ("L", "1", "I;16", "I", "F", "LA", "P") and mode != "P":
        return im.convert("L")
    return im


def write_image(path: Path, pages: list[np.ndarray], fmt: str, modes: list[str] | None = None) -> None:
    """Write pages in ``fmt`` with no metadata at all (the images are built from pixels only)."""
    modes = modes or ["RGB"] * len(pages)
    ims = [_pil_page(p, m) for p, m in zip(pages, modes)]
    first = ims[0]
    if fmt == "JPEG":
        first.save(path, "JPEG", quality=95, subsampling=0, optimize=True)
    elif fmt == "PNG":
        first.save(path, "PNG", optimize=False, compress_level=6)
    elif fmt == "TIFF":
        first.save(path, "TIFF", compression="tiff_deflate", save_all=True, append_images=ims[1:])
    elif fmt == "WEBP":
        first.save(path, "WEBP", quality=95, method=4)
    elif fmt == "BMP":
        first.save(path, "BMP")
    else:
        raise InputError(f"cannot write format {fmt}")
