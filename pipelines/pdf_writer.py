"""A PDF writer for image pages, built from scratch and streamed to disk one page at a time.

The output holds nothing but what this module writes: a catalog, a page tree, and per page one image, the
page's box and rotation numbers, and (optionally) an invisible text layer. No object, stream, font, metadata
or annotation of the input can reach it, because nothing of the input is ever copied: only pixels and numbers.
Each page's objects go to the file as soon as the page is added, so memory does not grow with the page count.

Coordinates: a page image is the page as displayed (poppler renders with /Rotate applied). The content stream
first maps "display space" (points, origin at the bottom-left of the displayed page) onto the page's own user
space, so the image and the text are drawn upright in display space and the /Rotate kept on the page turns
them back upright in every viewer.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from redact.core.words import Word

JPEG_QUALITY = 85
GREY_TOLERANCE = 8  # a page whose channels never differ by more than this is written as greyscale
GLYPH_WIDTH = 500  # every glyph of the invisible text font is declared this wide (1/1000 em): boxes fit exactly


@dataclass(frozen=True)
class PageGeometry:
    """A page's box and rotation: the only things of an input page that reach the output."""

    mediabox: tuple[float, float, float, float]
    rotate: int = 0  # 0, 90, 180 or 270: the page is shown turned that far clockwise
    cropbox: tuple[float, float, float, float] | None = None

    @property
    def width(self) -> float:
        return self.mediabox[2] - self.mediabox[0]

    @property
    def height(self) -> float:
        return self.mediabox[3] - self.mediabox[1]

    @property
    def display_size(self) -> tuple[float, float]:
        """Width and height in points of the page as displayed (turned by /Rotate)."""
        return (self.height, self.width) if self.rotate in (90, 270) else (self.width, self.height)

    def display_to_user(self) -> tuple[float, float, float, float, float, float]:
        """The matrix (a b c d e f) taking display-space points to the page's user space."""
        x0, y0 = self.mediabox[0], self.mediabox[1]
        w, h = self.width, self.height
        a, b, c, d, e, f = {
            0: (1, 0, 0, 1, 0, 0),
            90: (0, 1, -1, 0, w, 0),
            180: (-1, 0, 0, -1, w, h),
            270: (0, -1, 1, 0, 0, h),
        }[self.rotate]
        return (a, b, c, d, e + x0, f + y0)

    def user_to_pixels(self, x: float, y: float, image_size: tuple[int, int]) -> tuple[float, float]:
        """A user-space point of the page in the pixels of its displayed image (origin top-left)."""
        a, b, c, d, e, f = self.display_to_user()
        det = a * d - b * c
        dx, dy = x - e, y - f  # invert the rotation matrix (det is +-1)
        X, Y = (d * dx - c * dy) / det, (-b * dx + a * dy) / det
        dw, dh = self.display_size
        return X * image_size[0] / dw, (dh - Y) * image_size[1] / dh


def _num(v: float) -> str:
    s = f"{float(v):.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def _png_idat(im: Image.Image) -> bytes:
    """The zlib stream of a PNG (rows with PNG filter bytes): PDF's FlateDecode with /Predictor 15 reads it as is."""
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    data, pos, idat = buf.getvalue(), 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(idat)


def encode_image(image: np.ndarray) -> tuple[str, bytes]:
    """(image dictionary entries, stream data): lossless Flate or JPEG, whichever is smaller; grey pages as grey."""
    r, g, b = (image[..., i].astype(np.int16) for i in range(3))
    grey = max(int(np.abs(r - g).max()), int(np.abs(g - b).max())) <= GREY_TOLERANCE
    im = Image.fromarray(np.ascontiguousarray(image[..., 1] if grey else image))
    colours, space = (1, "/DeviceGray") if grey else (3, "/DeviceRGB")
    h, w = image.shape[:2]
    base = f"/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {space} /BitsPerComponent 8"
    flate = _png_idat(im)
    jpeg = io.BytesIO()
    im.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True)
    if len(jpeg.getvalue()) < len(flate):
        return f"{base} /Filter /DCTDecode", jpeg.getvalue()
    parms = f"/DecodeParms << /Predictor 15 /Colors {colours} /BitsPerComponent 8 /Columns {w} >>"
    return f"{base} /Filter /FlateDecode {parms}", flate


def _text_ops(words: Sequence[Word], image_size: tuple[int, int], display_size: tuple[float, float]) -> list[str]:
    """Invisible (render mode 3) text, each word stretched over its box; boxes are in image pixels."""
    sx, sy = display_size[0] / image_size[0], display_size[1] / image_size[1]
    ops = ["BT", "3 Tr"]
    for word in words:
        raw = word.text.encode("cp1252", errors="replace")
        x0, y0, x1, y1 = word.box
        size = (y1 - y0) * sy
        width = (x1 - x0) * sx
        if not raw or size <= 0 or width <= 0:
            continue
        stretch = width / (len(raw) * GLYPH_WIDTH / 1000 * size)
        baseline = display_size[1] - y1 * sy + 0.2 * size
        ops.append(f"/F1 1 Tf {_num(stretch * size)} 0 0 {_num(size)} {_num(x0 * sx)} {_num(baseline)} Tm "
                   f"<{(raw + b' ').hex()}> Tj")
    ops.append("ET")
    return ops


class ImagePdfWriter:
    """``with ImagePdfWriter(path) as pdf: pdf.add_page(geometry, image, words)``; the file is complete on exit."""

    def __init__(self, path: Path):
        self._file = open(path, "wb")
        self._offsets: list[int | None] = [None]  # index: object number
        self._kids: list[int] = []
        self._font: int | None = None
        self._file.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self._pages = self._reserve()

    def __enter__(self) -> "ImagePdfWriter":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._file.close()

    def _reserve(self) -> int:
        self._offsets.append(None)
        return len(self._offsets) - 1

    def _object(self, body: str, stream: bytes | None = None, num: int | None = None) -> int:
        num = self._reserve() if num is None else num
        self._offsets[num] = self._file.tell()
        if stream is None:
            self._file.write(f"{num} 0 obj\n<< {body} >>\nendobj\n".encode("latin-1"))
        else:
            self._file.write(f"{num} 0 obj\n<< {body} /Length {len(stream)} >>\nstream\n".encode("latin-1"))
            self._file.write(stream)
            self._file.write(b"\nendstream\nendobj\n")
        return num

    def _font_object(self) -> int:
        """Helvetica (never embedded: it is never shown) with every glyph declared GLYPH_WIDTH wide."""
        if self._font is None:
            widths = " ".join([str(GLYPH_WIDTH)] * 224)
            self._font = self._object(f"/Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
                                      f"/FirstChar 32 /LastChar 255 /Widths [{widths}]")
        return self._font

    def add_page(self, geometry: PageGeometry, image: np.ndarray, words: Sequence[Word] = ()) -> None:
        """One page: ``image`` (RGB uint8, the page as displayed) filling the page, and ``words`` as invisible text."""
        h, w = image.shape[:2]
        dw, dh = geometry.display_size
        image_dict, image_data = encode_image(image)
        image_num = self._object(image_dict, image_data)
        ops = ["q", " ".join(map(_num, geometry.display_to_user())) + " cm",
               f"q {_num(dw)} 0 0 {_num(dh)} 0 0 cm /Im1 Do Q"]
        resources = f"/XObject << /Im1 {image_num} 0 R >>"
        if words:
            ops += _text_ops(words, (w, h), (dw, dh))
            resources += f" /Font << /F1 {self._font_object()} 0 R >>"
        ops.append("Q")
        content = self._object("/Filter /FlateDecode", zlib.compress("\n".join(ops).encode("latin-1"), 6))
        boxes = f"/MediaBox [{' '.join(map(_num, geometry.mediabox))}]"
        if geometry.cropbox is not None and geometry.cropbox != geometry.mediabox:
            boxes += f" /CropBox [{' '.join(map(_num, geometry.cropbox))}]"
        rotate = f" /Rotate {geometry.rotate}" if geometry.rotate else ""
        self._kids.append(self._object(f"/Type /Page /Parent {self._pages} 0 R {boxes}{rotate} "
                                       f"/Resources << {resources} >> /Contents {content} 0 R"))

    def _finish(self) -> None:
        kids = " ".join(f"{k} 0 R" for k in self._kids)
        self._object(f"/Type /Pages /Kids [{kids}] /Count {len(self._kids)}", num=self._pages)
        catalog = self._object(f"/Type /Catalog /Pages {self._pages} 0 R")
        xref = self._file.tell()
        lines = [f"xref\n0 {len(self._offsets)}\n", "0000000000 65535 f \n"]
        lines += [f"{off:010d} 00000 n \n" for off in self._offsets[1:]]
        doc_id = os.urandom(16).hex()  # random: nothing in the output is derived from the input's identity
        lines.append(f"trailer\n<< /Size {len(self._offsets)} /Root {catalog} 0 R /ID [<{doc_id}> <{doc_id}>] >>\n"
                     f"startxref\n{xref}\n%%EOF\n")
        self._file.write("".join(lines).encode("latin-1"))
