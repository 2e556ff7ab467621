"""The PDF job on real PDFs: nothing redacted can be read back (by text extraction or OCR), nothing of the input's
structure survives, page count/sizes/rotation are kept, and bad PDFs fail closed with one line."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pypdf
import pytesseract
import pytest
from pdf2image import convert_from_path
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from detectors.base import Word
from pipelines.pdf import kept_words
from pipelines.pdf_writer import PageGeometry
from redact.cli import main
from redact.core.console import Console
from redact.job import Job
from redact.core.regions import Region
from redact.core.settings import Settings
from conftest import SAMPLES, shared

FORM_VALUES = {  # VA form 21-0966, page 1: the veteran's name, mailing address and date of birth
    "F[0].Page_1[0].Veterans_First_Name[0]": "Margaret",
    "F[0].Page_1[0].Veterans_Last_Name[0]": "Thornbury",
    "F[0].Page_1[0].Mailing_Address_NumberAndStreet[0]": "4127 Willowbrook Lane",
    "F[0].Page_1[0].MailingAddress_City[0]": "Springfield",
    "F[0].Page_1[0].DOB_Month[0]": "03",
    "F[0].Page_1[0].DOB_Day[0]": "14",
    "F[0].Page_1[0].DOB_Year[0]": "1961",
}
FORM_SECRETS = ["Margaret", "Thornbury", "Willowbrook", "Springfield", "1961"]
LETTER_SECRETS = ["Eleanor", "Whitcombe", "Larkspur", "0117 496 0382", "eleanor.whitcombe@example.org"]
# the only keys an output object may have: anything else would be structure carried over from an input
ALLOWED_KEYS = {
    "/Catalog": {"/Type", "/Pages"},
    "/Pages": {"/Type", "/Kids", "/Count"},
    "/Page": {"/Type", "/Parent", "/MediaBox", "/CropBox", "/Rotate", "/Resources", "/Contents"},
    "/XObject": {"/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/BitsPerComponent", "/Filter",
                 "/DecodeParms", "/Length"},
    "/Font": {"/Type", "/Subtype", "/BaseFont", "/Encoding", "/FirstChar", "/LastChar", "/Widths"},
    None: {"/Filter", "/Length"},  # page content streams
}


def squash(text: str) -> str:
    """Lower-case letters and digits only: 'M a r g a r e t' (a comb field read by OCR) becomes 'margaret'."""
    return re.sub(r"[^a-z0-9@.]", "", text.lower())


def ocr_text(pdf: Path, last_page: int | None = None) -> str:
    pages = convert_from_path(pdf, dpi=200, last_page=last_page)
    return "\n".join(pytesseract.image_to_string(im, config="--psm 3") for im in pages)


def extracted_text(pdf: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(pdf).pages)


def assert_none_readable(out: Path, secrets: list[str], last_page: int | None = None) -> None:
    text, ocr = squash(extracted_text(out)), squash(ocr_text(out, last_page))
    for s in secrets:
        assert squash(s) not in text, f"{s!r} extractable from the output's text"
        assert squash(s) not in ocr, f"{s!r} readable by OCR in the output"


def assert_same_pages(src: Path, out: Path) -> None:
    a, b = pypdf.PdfReader(src), pypdf.PdfReader(out)
    assert len(a.pages) == len(b.pages)
    for pa, pb in zip(a.pages, b.pages):
        assert [float(v) for v in pa.mediabox] == pytest.approx([float(v) for v in pb.mediabox], abs=1e-3)
        assert pa.rotation % 360 == pb.rotation
    assert b.metadata is None and "/Metadata" not in b.trailer["/Root"]


def assert_fresh_structure(out: Path, fonts: bool) -> None:
    """Every object of the output is one the writer makes, with only the keys it writes."""
    reader = pypdf.PdfReader(out)
    assert set(reader.trailer.keys()) == {"/Size", "/Root", "/ID"}
    for num in range(1, reader.trailer["/Size"]):
        obj = reader.get_object(num)
        kind = obj.get("/Type")
        assert kind in ALLOWED_KEYS, f"object {num}: unexpected type {kind}"
        assert set(obj.keys()) <= ALLOWED_KEYS[kind], f"object {num}: {set(obj.keys()) - ALLOWED_KEYS[kind]}"
        if kind == "/Font":
            assert fonts
        if kind == "/Page":
            assert set(obj["/Resources"].keys()) <= {"/XObject", "/Font"}


def redact(src: Path, out: Path, **settings) -> Job:
    job = Job(Settings(**settings), out.parent / "audit.jsonl", Console(verbose=False))
    result = job.process(src, out)
    assert result.status == "ok", result.error
    return job


@pytest.fixture(scope="module")
def filled_form(tmp_path_factory) -> Path:
    """A real blank government form filled in through its form fields, as a person would with a PDF viewer."""
    writer = pypdf.PdfWriter(clone_from=shared("docs/pikepdf_form_210966.pdf"))
    writer.update_page_form_field_values(writer.pages[0], FORM_VALUES, auto_regenerate=False)
    path = tmp_path_factory.mktemp("form") / "filled_210966.pdf"
    writer.write(path)
    return path


def test_filled_form_fields_are_removed_and_nothing_of_the_form_survives(filled_form, tmp_path, cli_runner):
    before = squash(ocr_text(filled_form, last_page=1))  # the fields filled in are on page 1
    # the check below has teeth: OCR reads most of them in the input (comb fields space their letters out)
    assert sum(squash(s) in before for s in FORM_SECRETS) >= 3
    out = tmp_path / "out" / "form.pdf"
    result = cli_runner.invoke(main, ["pdf", str(filled_form), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert_same_pages(filled_form, out)
    assert extracted_text(out).strip() == ""  # no text layer at all without --ocr-layer
    assert_fresh_structure(out, fonts=False)  # no AcroForm, XFA, JavaScript, annotations, metadata, fonts...
    assert_none_readable(out, FORM_SECRETS, last_page=1)
    assert out.stat().st_size < 10 * filled_form.stat().st_size


@pytest.mark.parametrize("name, term", [("ocrmypdf_linn.pdf", "LinnSequencer"), ("ocrmypdf_epson.pdf", "Wikipedia")])
def test_scanned_pdf_with_ocr_layer_is_searchable_but_keeps_no_redacted_word(name, term, tmp_path):
    src = shared(f"docs/{name}")
    assert squash(term) in squash(ocr_text(src))
    out = tmp_path / "out.pdf"
    job = redact(src, out, terms=(term,), ocr_layer=True)
    assert any(r["kind"] == "term" for r in _regions(job))
    assert_same_pages(src, out)
    assert_fresh_structure(out, fonts=True)
    layer = extracted_text(out)
    assert len(layer.split()) > 50  # searchable: the words that were not redacted are there
    assert_none_readable(out, [term])
    ratio = out.stat().st_size / src.stat().st_size
    print(f"{name}: output/input size {ratio:.2f}")
    assert ratio < 10


def test_digital_letter_with_ocr_layer(tmp_path, cli_runner):
    src = SAMPLES / "docs" / "digital_letter.pdf"
    assert all(squash(s) in squash(extracted_text(src)) for s in LETTER_SECRETS)
    assert pypdf.PdfReader(src).metadata["/Author"] == "Eleanor Whitcombe"
    out = tmp_path / "letter.pdf"
    result = cli_runner.invoke(main, ["pdf", str(src), "-o", str(out), "--ocr-layer"])
    assert result.exit_code == 0, result.output
    assert_same_pages(src, out)
    assert_none_readable(out, LETTER_SECRETS)
    assert "faithfully" in extracted_text(out)  # what was not redacted stays searchable


def test_name_only_in_the_text_layer_in_a_tiny_font_is_redacted(tmp_path):
    src = tmp_path / "tiny.pdf"
    c = canvas.Canvas(str(src), pagesize=(612, 792), invariant=1)
    c.setFont("Helvetica", 12)
    c.drawString(72, 700, "Quarterly maintenance report for the pump station on the river.")
    c.setFont("Helvetica", 1)
    c.drawString(72, 650, "Prepared by Eleanor Whitcombe")  # 1 pt: a speck when rendered, unreadable by OCR
    c.showPage()
    c.save()
    out = tmp_path / "out.pdf"
    job = redact(src, out)
    k = 200 / 72  # points to page-image pixels at the default dpi
    # where the tiny name is drawn, in page-image pixels
    x0 = (72 + stringWidth("Prepared by ", "Helvetica", 1)) * k
    x1 = x0 + stringWidth("Eleanor Whitcombe", "Helvetica", 1) * k
    y0, y1 = (792 - 650.75) * k, (792 - 649.8) * k
    covering = [r for r in _regions(job) if r["kind"] == "person" and r["box"][0] <= x0 and r["box"][2] >= x1
                and r["box"][1] <= y0 and r["box"][3] >= y1]
    assert covering, _regions(job)
    assert all(r["detector"] == ("names" if r["kind"] == "person" else "pii") for r in _regions(job))  # its key
    grey_in = np.asarray(convert_from_path(src, dpi=200)[0].convert("L"))
    grey_out = np.asarray(convert_from_path(out, dpi=200)[0].convert("L"))
    box = (slice(int(y0) - 1, int(y1) + 2), slice(int(x0), int(x1) + 1))
    assert (grey_in[box] < 200).sum() > 10  # the speck of ink is there in the input ...
    assert (grey_out[box] < 200).sum() == 0  # ... and gone from the output
    assert extracted_text(out).strip() == ""


def test_rotation_crop_box_and_page_size_are_kept(tmp_path):
    src = tmp_path / "rotated.pdf"
    c = canvas.Canvas(str(src), pagesize=(500, 300), invariant=1)
    for text in ("First page, turned", "Second page, shifted box"):
        c.setFont("Helvetica-Bold", 28)
        c.drawString(40, 200, text)
        c.rect(30, 30, 200, 100, fill=1)
        c.showPage()
    c.save()
    writer = pypdf.PdfWriter(clone_from=src)
    writer.pages[0].rotate(90)
    writer.pages[0].cropbox = pypdf.generic.RectangleObject([10, 10, 490, 290])
    writer.pages[1].mediabox = pypdf.generic.RectangleObject([20, 30, 480, 290])
    writer.pages[1].rotate(270)
    writer.write(src)
    out = tmp_path / "out.pdf"
    redact(src, out, detect=("faces",))
    assert_same_pages(src, out)
    assert [float(v) for v in pypdf.PdfReader(out).pages[0].cropbox] == [10, 10, 490, 290]
    for before, after in zip(convert_from_path(src, dpi=72), convert_from_path(out, dpi=72)):
        a, b = np.asarray(before.convert("L"), float), np.asarray(after.convert("L"), float)
        assert a.shape == b.shape
        assert np.abs(a - b).mean() < 4  # drawn the same way up, in the same place


@pytest.mark.parametrize("rotate, expected", [(0, (0, 0)), (90, (200, 0)), (180, (200, 100)), (270, (0, 100))])
def test_page_points_map_to_the_displayed_image(rotate, expected):
    """The unturned page's top-left corner, after /Rotate, in a 200 x 100 pixel image of the displayed page."""
    box = (20.0, 30.0, 480.0, 290.0) if rotate in (0, 180) else (20.0, 30.0, 250.0, 490.0)
    geometry = PageGeometry(box, rotate)
    assert geometry.user_to_pixels(box[0], box[3], (200, 100)) == pytest.approx(expected)


def test_ocr_layer_keeps_only_words_that_touch_no_region():
    words = [Word("kept", (10, 10, 50, 30)), Word("secret", (60, 10, 120, 30)), Word("edge", (125, 10, 160, 30))]
    regions = [Region("person", (70, 12, 110, 28))]
    assert [w.text for w in kept_words(words, regions, (100, 200), pad=0)] == ["kept", "edge"]
    assert [w.text for w in kept_words(words, regions, (100, 200), pad=16)] == ["kept"]


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("enc")
    writer = pypdf.PdfWriter(clone_from=SAMPLES / "docs" / "digital_letter.pdf")
    writer.encrypt(user_password="s3cret-pw", owner_password="owner-pw", algorithm="AES-256")
    (folder / "in").mkdir()
    writer.write(folder / "in" / "locked.pdf")
    owner_only = pypdf.PdfWriter(clone_from=SAMPLES / "docs" / "digital_letter.pdf")
    owner_only.encrypt(user_password="", owner_password="owner-pw", algorithm="AES-128")
    owner_only.write(folder / "owner_only.pdf")
    return folder


def test_encrypted_pdf_needs_its_password(encrypted, tmp_path, cli_runner):
    src = encrypted / "in" / "locked.pdf"
    out = tmp_path / "a" / "out.pdf"
    result = cli_runner.invoke(main, ["pdf", str(src), "-o", str(out), "--detect", "faces"])
    assert result.exit_code == 1
    assert "encrypted; give its password with --password" in result.output and "Traceback" not in result.output
    assert not out.exists() and list(out.parent.glob("*.pdf")) == []
    result = cli_runner.invoke(main, ["pdf", str(src), "-o", str(out), "--detect", "faces", "--password", "nope"])
    assert result.exit_code == 1 and "wrong password" in result.output and not out.exists()
    # the run command takes --password too (here for a folder holding the encrypted PDF)
    result = cli_runner.invoke(main, ["run", str(src.parent), "-o", str(tmp_path / "b"), "--detect", "faces",
                                      "--password", "s3cret-pw"])
    assert result.exit_code == 0, result.output
    assert len(pypdf.PdfReader(tmp_path / "b" / "locked.pdf").pages) == 1
    # a PDF with only an owner password opens without one, as in any viewer
    result = cli_runner.invoke(main, ["pdf", str(encrypted / "owner_only.pdf"), "-o", str(tmp_path / "c.pdf"),
                                      "--detect", "faces"])
    assert result.exit_code == 0, result.output
    assert not pypdf.PdfReader(tmp_path / "c.pdf").is_encrypted


def _zero_pages(path: Path) -> None:
    pypdf.PdfWriter().write(path)


def _truncated(path: Path) -> None:
    data = shared("docs/ocrmypdf_linn.pdf").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt(path: Path) -> None:
    rng = np.random.default_rng(7)
    path.write_bytes(b"%PDF-1.7\n" + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes() + b"\n%%EOF\n")


def _not_pdf(path: Path) -> None:
    shutil.copy(SAMPLES / "photos" / "skimage_astronaut.png", path)


@pytest.mark.parametrize("make, message", [(_zero_pages, "PDF has no pages"), (_truncated, "truncated PDF"),
                                           (_corrupt, "corrupt PDF"), (_not_pdf, "not a PDF file")])
def test_bad_pdfs_fail_closed_with_one_line(make, message, tmp_path, cli_runner):
    src = tmp_path / "bad.pdf"
    make(src)
    out = tmp_path / "out" / "bad.pdf"
    result = cli_runner.invoke(main, ["pdf", str(src), "-o", str(out), "--detect", "faces"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in result.output, result.output
    assert not out.exists() and [p.name for p in out.parent.iterdir()] == ["audit.jsonl"]


def _regions(job: Job) -> list[dict]:
    import json

    job.audit.close()
    return [r for r in map(json.loads, Path(job.audit.path).read_text().splitlines()) if r.get("type") == "region"]
