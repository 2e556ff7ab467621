"""PDF files: every page is rendered to an image, redacted like any page image, and written into a new PDF.

Stages, a few pages at a time so memory stays bounded on long PDFs:
1. open and check the file (pypdf): header, end marker, encryption and password, page count, page boxes;
2. render the pages (poppler via pdf2image) at ``Settings.dpi``; read the text layer's words with their boxes
   (``pdftotext -bbox-layout``) and the boxes of filled form fields, both in page-image pixels;
3. detect (the text detectors get the text-layer words, which are more exact than OCR), add the filled form
   fields, fill (``Redactor.apply``);
4. write the redacted images as a new PDF (``pipelines.pdf_writer``): same page count, boxes and rotation, and
   nothing else of the input. With ``--ocr-layer``, an invisible text layer is OCR'd from the *redacted* image,
   and any word touching a redacted region is dropped as well.
"""
from __future__ import annotations

import re
import subprocess
import warnings
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pypdf
from pdf2image import convert_from_path
from PIL import Image
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

from redact.core.words import Word
from pipelines.image_io import MAX_PIXELS
from pipelines.pdf_writer import ImagePdfWriter, PageGeometry
from pipelines.redactor import PAGE
from redact.core.errors import InputError, squeeze
from redact.core.outcome import Outcome
from redact.core.regions import Region, build_mask

FORM_FIELD = "form_field"  # region kind: the value someone typed into a form field
PAGE_BATCH = 4  # pages rendered, detected and filled together: the bound on pages held in memory
MIN_DPI = 36  # a page so large that even this exceeds MAX_PIXELS is refused
POPPLER_SECONDS_PER_PAGE = 120
TAIL_BYTES = 1024  # a complete PDF ends with %%EOF within its last 1024 bytes (as Acrobat requires)
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class PdfSource:
    """An opened, checked PDF: page geometry from pypdf, and the password arguments poppler needs."""

    def __init__(self, path: Path, password: str | None):
        self.path = Path(path)
        self._check_bytes()
        self._file = open(self.path, "rb")  # pypdf reads from the open file as needed, never the whole file
        try:
            self.reader = pypdf.PdfReader(self._file, strict=False)
            self.poppler_passwords = self._decrypt(password)
            self.page_count = len(self.reader.pages)
        except InputError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise InputError(f"corrupt PDF ({_short(exc)})") from exc
        if self.page_count == 0:
            self.close()
            raise InputError("PDF has no pages")

    def close(self) -> None:
        self._file.close()

    def _check_bytes(self) -> None:
        try:
            size = self.path.stat().st_size
            with open(self.path, "rb") as f:
                head = f.read(1024)
                f.seek(max(0, size - TAIL_BYTES))
                tail = f.read()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}") from exc
        if size == 0:
            raise InputError("empty file")
        if b"%PDF-" not in head:
            raise InputError("not a PDF file (no %PDF header)")
        if b"%%EOF" not in tail:
            raise InputError("truncated PDF (no %%EOF end marker): the file is incomplete")

    def _decrypt(self, password: str | None) -> dict:
        """Decrypt with ``password`` (or the empty user password); the keyword arguments poppler needs."""
        if not self.reader.is_encrypted:
            return {}
        if password is None:
            if self.reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED:
                return {}  # only an owner password: it opens without one, like in any viewer
            raise InputError("PDF is encrypted; give its password with --password")
        result = self.reader.decrypt(password)
        if result == pypdf.PasswordType.NOT_DECRYPTED:
            if self.reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED:
                return {}  # a password for other files of the job; this one needs none
            raise InputError("wrong password for this encrypted PDF")
        return {"ownerpw": password} if result == pypdf.PasswordType.OWNER_PASSWORD else {"userpw": password}

    def geometry(self, index: int) -> PageGeometry:
        try:
            page = self.reader.pages[index]
            media, crop, rotate = _box(page.mediabox), _box(page.cropbox), int(page.rotation) % 360
        except Exception as exc:
            raise InputError(f"corrupt PDF: page {index + 1} cannot be read ({_short(exc)})") from exc
        if media[2] - media[0] < 1 or media[3] - media[1] < 1:
            raise InputError(f"page {index + 1} has an empty page box")
        return PageGeometry(media, rotate if rotate in (90, 180, 270) else 0, crop)

    def form_fields(self, index: int, geometry: PageGeometry, image_size: tuple[int, int]) -> list[Region]:
        """Boxes (page-image pixels) of the page's filled text, choice and signature fields."""
        try:
            rects = []
            for ref in self.reader.pages[index].get("/Annots") or []:
                annot = ref.get_object()
                if annot.get("/Subtype") == "/Widget" and "/Rect" in annot and _filled_field(annot):
                    rects.append(_box(annot["/Rect"]))
        except Exception as exc:
            raise InputError(f"corrupt PDF: the form fields of page {index + 1} cannot be read ({_short(exc)})") \
                from exc
        regions = []
        for x0, y0, x1, y1 in rects:
            corners = [geometry.user_to_pixels(x, y, image_size) for x in (x0, x1) for y in (y0, y1)]
            xs, ys = [c[0] for c in corners], [c[1] for c in corners]
            regions.append(Region(FORM_FIELD, (min(xs), min(ys), max(xs), max(ys)), 1.0, "pdf_form", index))
        return regions

    def render(self, first: int, last: int, dpi: int) -> list[np.ndarray]:
        """Pages ``first``..``last`` (0-based, inclusive) as RGB arrays, /Rotate applied, the MediaBox shown."""
        try:
            with warnings.catch_warnings():  # page_dpi keeps pages within MAX_PIXELS; PIL warns from 89 MP on
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                images = convert_from_path(self.path, dpi=dpi, first_page=first + 1, last_page=last + 1,
                                           timeout=POPPLER_SECONDS_PER_PAGE * (last - first + 1),
                                           **self.poppler_passwords)
        except (PDFPageCountError, PDFSyntaxError) as exc:
            raise InputError(f"poppler cannot render the PDF ({_short(exc)})") from exc
        except PDFInfoNotInstalledError as exc:
            raise RuntimeError("poppler (pdftoppm, pdfinfo) is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise InputError(f"rendering pages {first + 1}-{last + 1} took too long") from exc
        if len(images) != last - first + 1:
            raise InputError(f"poppler rendered {len(images)} of pages {first + 1}-{last + 1}")
        return [np.asarray(im.convert("RGB")) for im in images]

    def text_words(self, first: int, last: int, geometries: list[PageGeometry],
                   sizes: list[tuple[int, int]]) -> list[list[Word]]:
        """Words of the text layer on pages ``first``..``last`` with boxes in page-image pixels."""
        cmd = ["pdftotext", "-q", "-bbox-layout", "-f", str(first + 1), "-l", str(last + 1)]
        for key, flag in (("userpw", "-upw"), ("ownerpw", "-opw")):
            if key in self.poppler_passwords:
                cmd += [flag, self.poppler_passwords[key]]
        try:
            done = subprocess.run(cmd + [str(self.path), "-"], capture_output=True,
                                  timeout=POPPLER_SECONDS_PER_PAGE * (last - first + 1))
        except FileNotFoundError as exc:
            raise RuntimeError("poppler (pdftotext) is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise InputError(f"reading the text of pages {first + 1}-{last + 1} took too long") from exc
        if done.returncode != 0:
            raise InputError(f"cannot read the PDF's text layer (pdftotext exit {done.returncode})")
        text = _INVALID_XML.sub("", done.stdout.decode("utf-8", errors="replace"))
        try:
            pages = [el for el in ET.fromstring(text).iter() if el.tag.endswith("}page")]
        except ET.ParseError as exc:
            raise InputError(f"cannot read the PDF's text layer ({_short(exc)})") from exc
        if len(pages) != len(sizes):
            raise InputError(f"the text layer has {len(pages)} pages where {len(sizes)} were expected")
        return [_page_words(page, geo, size) for page, geo, size in zip(pages, geometries, sizes)]


def _page_words(page: ET.Element, geometry: PageGeometry, size: tuple[int, int]) -> list[Word]:
    # pdftotext gives boxes in points from the top-left of the page as displayed (rotation applied)
    dw, dh = geometry.display_size
    sx, sy = size[0] / dw, size[1] / dh
    words = []
    lines = [el for el in page.iter() if el.tag.endswith("}line")]
    for line_no, line in enumerate(lines):
        for el in line:
            text = (el.text or "").strip()
            if not el.tag.endswith("}word") or not text:
                continue
            x0, y0, x1, y1 = (float(el.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
            words.append(Word(text, (x0 * sx, y0 * sy, x1 * sx, y1 * sy), 100.0, line_no))
    return words


def _box(value) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in value)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _inherited(field, key: str):
    """A form field's entry, looked up through its /Parent chain as the PDF format says."""
    for _ in range(32):
        if key in field:
            return field[key]
        parent = field.get("/Parent")
        if parent is None:
            return None
        field = parent.get_object()
    return None


def _filled_field(widget) -> bool:
    """A text, choice or signature field holding a value (checkboxes and radio buttons are kept)."""
    value = _inherited(widget, "/V")
    return _inherited(widget, "/FT") in ("/Tx", "/Ch", "/Sig") and value is not None and len(str(value).strip()) > 0


def _short(exc: BaseException) -> str:
    return squeeze(exc, 200) or exc.__class__.__name__


def page_dpi(geometry: PageGeometry, dpi: int) -> int:
    """``dpi``, lowered for a page so large that it would exceed MAX_PIXELS (e.g. a poster)."""
    pixels = geometry.width * geometry.height * (dpi / 72) ** 2
    if pixels <= MAX_PIXELS:
        return dpi
    fit = int(72 * (MAX_PIXELS / (geometry.width * geometry.height)) ** 0.5)
    if fit < MIN_DPI:
        raise InputError(f"page box too large: {geometry.width:.0f} x {geometry.height:.0f} points")
    return fit


def kept_words(words: list[Word], regions: list[Region], shape: tuple[int, int], pad: float) -> list[Word]:
    """The words that touch no redacted region: the only words allowed into the output's text layer."""
    mask = build_mask(regions, shape[0], shape[1], pad)
    kept = []
    for word in words:
        x0, y0, x1, y1 = word.box
        ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        ix1, iy1 = min(shape[1], int(np.ceil(x1))), min(shape[0], int(np.ceil(y1)))
        if ix1 > ix0 and iy1 > iy0 and not mask[iy0:iy1, ix0:ix1].any():
            kept.append(word)
    return kept


def _ocr_layers(images: list[np.ndarray], regions: list[list[Region]], pad: float) -> list[list[Word]]:
    from detectors.ocr import ocr_page

    with ThreadPoolExecutor(max_workers=min(2, len(images))) as pool:
        found = list(pool.map(ocr_page, images))
    return [kept_words(w, r, img.shape[:2], pad) for w, r, img in zip(found, regions, images)]


def redact_pdf_file(job, src: Path, dst: Path):
    """Redact ``src`` into a new image-only PDF ``dst``. Returns the Outcome (regions removed, page count)."""
    settings, redactor = job.settings, job.redactor
    source = PdfSource(src, settings.password)
    text_detection = any(d in ("names", "pii") for d in settings.detectors_for(True))
    removed: list[Region] = []
    try:
        with ImagePdfWriter(dst) as writer, \
                job.console.progress(total=source.page_count, desc=Path(src).name[-30:], unit="page") as bar:
            for first in range(0, source.page_count, PAGE_BATCH):
                last = min(source.page_count, first + PAGE_BATCH) - 1
                geometries = [source.geometry(i) for i in range(first, last + 1)]
                dpi = min(page_dpi(g, settings.dpi) for g in geometries)
                images = source.render(first, last, dpi)
                sizes = [(img.shape[1], img.shape[0]) for img in images]
                words = source.text_words(first, last, geometries, sizes) if text_detection else None
                regions = redactor.detect(images, first, document=True, words=words)
                if text_detection:
                    for i, (geo, size) in enumerate(zip(geometries, sizes)):
                        regions[i].extend(source.form_fields(first + i, geo, size))
                filled = redactor.apply(images, regions, PAGE)
                layers = _ocr_layers(filled, regions, settings.pad) if settings.ocr_layer else [()] * len(filled)
                for geo, image, layer, found in zip(geometries, filled, layers, regions):
                    writer.add_page(geo, image, layer)
                    removed.extend(found)
                    bar.update(1)
                del images, filled
    finally:
        source.close()
    return Outcome(regions=removed, pages=source.page_count)
