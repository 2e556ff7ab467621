"""Writes samples/docs/digital_letter.pdf: a born-digital letter (real text layer, no scan) from a fictional
person, with a name, postal address, phone number and e-mail address for the PDF job to find.

Run from the repository root: ``.venv/bin/python samples/make_digital_pdf.py``. The output is byte-for-byte
reproducible (reportlab's invariant mode: no timestamps or random ids).
"""
from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

OUT = Path(__file__).resolve().parent / "docs" / "digital_letter.pdf"

LETTER = [
    ("Helvetica-Bold", 14, "Eleanor Whitcombe"),
    ("Helvetica", 11, "27 Larkspur Crescent"),
    ("Helvetica", 11, "Bristol BS8 4QT"),
    ("Helvetica", 11, "Phone: 0117 496 0382"),
    ("Helvetica", 11, "E-mail: eleanor.whitcombe@example.org"),
    ("Helvetica", 11, ""),
    ("Helvetica", 11, "12 March 2024"),
    ("Helvetica", 11, ""),
    ("Helvetica", 11, "Dear Sir or Madam,"),
    ("Helvetica", 11, ""),
    ("Helvetica", 11, "I am writing to ask for a copy of the records your office holds about me, as the"),
    ("Helvetica", 11, "data protection law allows. Please send them to the address above, or by e-mail."),
    ("Helvetica", 11, "My reference number from your last letter is 48-2291-C."),
    ("Helvetica", 11, ""),
    ("Helvetica", 11, "Yours faithfully,"),
    ("Helvetica", 11, ""),
    ("Helvetica", 11, "Eleanor Whitcombe"),
]


def write_letter(path: Path = OUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle("Subject access request")
    c.setAuthor("Eleanor Whitcombe")  # metadata naming the author: the output must not carry it
    y = A4[1] - 72
    for font, size, text in LETTER:
        c.setFont(font, size)
        c.drawString(72, y, text)
        y -= size * 1.6
    c.showPage()
    c.save()
    return path


if __name__ == "__main__":
    print(write_letter())
