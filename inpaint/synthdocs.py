"""Synthetic scanned documents with ground truth: letters, invoices, forms with labelled fields, tables.

``generate_page(rng, dpi, kind)`` lays out a page of realistic made-up content in a serif, sans or mono font at
8-14 pt, renders it at ``dpi`` (A4), and scans it: slight rotation, paper tone, noise, specks, blur and JPEG
artefacts, some text in capitals. With ``rules=True`` half the pages are also ruled: form values written on
lines, table rows ruled and their columns bordered, a signature line, so that a removed value has a rule running
through its hole that the inpainting must continue. The result keeps:

- ``image``: the scanned page (RGB uint8);
- ``clean``: the same page rendered and scanned identically but without the personal data (for inpainting
  training and for comparing a filled area with what the page looks like without the text);
- ``items``: the personal data on it (kind from ``redact.core.regions``, text, one pixel box per text line);
- ``words``: every word drawn, with its box and whether it is personal data;
- ``word_ink``: int32 map, ``j + 1`` on the ink pixels of word ``j``; ``item_mask(k)`` is item k's ink;
- ``blank``: the same scan with its rules but no text at all (what a hole anywhere on the page should become).

Fonts are DejaVu (Debian ``fonts-dejavu-core``), found in the usual system folders or matplotlib's copy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from redact.core.regions import ADDRESS, CARD, DATE_OF_BIRTH, EMAIL, IBAN, PERSON, PHONE, SSN

KINDS = ("letter", "invoice", "form", "table")
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
FONTS = {"serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
         "sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
         "mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")}
INK_ALPHA = 96  # a glyph pixel at least this opaque (of 255) counts as ink
A4_INCHES = (8.27, 11.69)

Box = tuple[float, float, float, float]


@dataclass
class Item:
    kind: str
    text: str
    boxes: list[Box] = field(default_factory=list)  # one per text line, in page pixels
    words: list[int] = field(default_factory=list)  # indices into SynthPage.words


@dataclass
class SynthWord:
    text: str
    box: Box
    pii: bool
    item: int = -1  # index into SynthPage.items, -1 when not personal data
    line: int = 0  # words sharing a number are on one text line


@dataclass
class SynthPage:
    image: np.ndarray
    clean: np.ndarray
    items: list[Item]
    words: list[SynthWord]
    word_ink: np.ndarray
    dpi: int
    kind: str
    font: str
    size_pt: float
    angle: float
    blank: np.ndarray | None = None  # the same scan with no text (rules kept): what any hole should become

    def item_mask(self, k: int) -> np.ndarray:
        """Boolean (H, W): the ink pixels of item ``k``."""
        ids = np.asarray(self.items[k].words, np.int32) + 1
        return np.isin(self.word_ink, ids)

    def word_mask(self, j: int) -> np.ndarray:
        return self.word_ink == j + 1


# ---------------------------------------------------------------------------------------------- made-up content
FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
         "Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Margaret Mark Sandra Steven Ashley "
         "Andrew Emily Joshua Michelle Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Priya Rahul "
         "Aisha Omar Wei Mei Hiroshi Yuki Carlos Maria Jose Sofia Luis Ana Fatima Ahmed Olga Ivan Ingrid Lars "
         "Siobhan Declan Chiara Marco Amara Kwame Nadia Tomasz Agnieszka Hannah Oliver Chloe Ethan Megan Grace "
         "Eleanor Arthur Beatrice Rupert Imogen Felix").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young "
        "Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
        "Carter Roberts Patel Sharma Khan Chen Wang Tanaka Suzuki Kowalski Novak Petrov Larsen Johansson O'Brien "
        "O'Neil McDonald MacKenzie Fitzgerald Okafor Mensah Haddad Rossi Bianchi Fischer Schneider Dubois Moreau "
        "Smith-Jones Garcia-Lopez Stark Whitfield Ashworth Pemberton Castellano Delgado Abernathy").split()
HONOR = ("Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Ms", "Dr")
STREETS = ("Maple Oak Pine Cedar Elm Washington Lake Hill Park Main Church Highland Sunset Ridge Willow Chestnut "
           "Tanglewood Pearcy Birch Meadow Lincoln Jefferson Franklin Riverside Harbor Orchard Baker Kingsley "
           "Victoria Albert Station Mill").split()
STREET_TYPES = ("Street", "St.", "Road", "Rd.", "Avenue", "Ave.", "Lane", "Drive", "Boulevard", "Court", "Place",
                "Way", "Terrace", "Close", "Crescent")
CITIES = (("Springfield", "IL", "62704"), ("Jackson", "MS", "39201"), ("Portland", "OR", "97205"),
          ("Austin", "TX", "78701"), ("Denver", "CO", "80202"), ("Columbus", "OH", "43215"),
          ("North Manchester", "IN", "46962"), ("Madison", "WI", "53703"), ("Raleigh", "NC", "27601"),
          ("Salem", "MA", "01970"), ("Boise", "ID", "83702"), ("Tucson", "AZ", "85701"))
UK_CITIES = (("London", "NW1 6XE"), ("Manchester", "M1 2AB"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 5TR"),
             ("Glasgow", "G2 1DU"), ("Oxford", "OX1 3BG"))
COMPANIES = ("Northwind Traders Ltd.", "Acme Supplies Inc.", "Blue Harbor Logistics", "Summit Health Partners",
             "Greenfield Insurance Co.", "Riverside Medical Group", "Atlas Office Furniture", "Pioneer Legal LLP",
             "Brightline Utilities", "Crescent Bank plc")
DOMAINS = ("example.com", "mail.example.org", "example.net", "corp.example.com", "post.example.co.uk")
PRODUCTS = ("Office chair, ergonomic", "Printer toner cartridge", "A4 copy paper (box)", "Desk lamp LED",
            "Consulting services (hours)", "Annual software licence", "Filing cabinet, 3 drawer", "USB-C docking station",
            "Shipping and handling", "Whiteboard markers", "Network switch 24-port", "Maintenance visit")
DEPARTMENTS = ("Accounting", "Human Resources", "Sales", "Engineering", "Customer Support", "Legal", "Marketing",
               "Operations", "Facilities", "Procurement")
TITLES = ("Claims Manager", "Account Executive", "Office Administrator", "Senior Accountant", "Practice Manager",
          "Head of Customer Service", "Legal Assistant")
SENTENCES = (
    "Thank you for your recent enquiry regarding the renewal of your policy.",
    "We have reviewed the documents you submitted and everything appears to be in order.",
    "Please find enclosed a copy of the updated terms and conditions for your records.",
    "If any of the information below is incorrect, please let us know within thirty days.",
    "The outstanding balance must be settled before the end of the current billing period.",
    "Our office is open Monday to Friday between nine in the morning and five in the afternoon.",
    "We appreciate your continued business and look forward to working with you again.",
    "A member of our team will contact you shortly to arrange a convenient appointment.",
    "Please retain this letter as confirmation of the changes made to your account.",
    "The annual review meeting has been rescheduled to the second week of next month.",
    "All payments received after the due date may be subject to a late payment charge.",
    "Further details about the programme are available from the reception desk.",
)
GENERIC_DATES = ("March 3, 2024", "12 January 2023", "2024-05-17", "06/30/2023", "October 21, 2022")


def _luhn_complete(prefix: str, length: int, rng) -> str:
    digits = prefix + "".join(str(d) for d in rng.integers(0, 10, length - len(prefix) - 1))
    for check in "0123456789":
        cand = digits + check
        total = sum((int(c) * 2 - 9 if int(c) > 4 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(cand)))
        if total % 10 == 0:
            return cand
    raise AssertionError


def _iban(rng) -> str:
    country, bban = [("GB", lambda: "WEST" + "".join(str(d) for d in rng.integers(0, 10, 14))),
                     ("DE", lambda: "".join(str(d) for d in rng.integers(0, 10, 18))),
                     ("FR", lambda: "".join(str(d) for d in rng.integers(0, 10, 23))),
                     ("NL", lambda: "ABNA" + "".join(str(d) for d in rng.integers(0, 10, 10)))][rng.integers(4)]
    body = bban()
    check = 98 - int("".join(str(int(c, 36)) for c in body + country + "00")) % 97
    iban = f"{country}{check:02d}{body}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


class _Content:
    """Random personal data of one page."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def name(self, middle: bool | None = None) -> tuple[str, str]:
        first, last = self.pick(FIRST), self.pick(LAST)
        if middle is None:
            middle = self.rng.random() < 0.25
        full = f"{first} {self.pick('ABCDEFGHJKLMNPRSTW')}. {last}" if middle else f"{first} {last}"
        return full, last

    def email(self, full: str | None = None) -> str:
        if full is None:
            full = self.name(False)[0]
        parts = [p.lower().replace("'", "") for p in full.split() if not p.endswith(".")]
        return f"{parts[0]}.{parts[-1]}@{self.pick(DOMAINS)}"

    def phone(self) -> str:
        r = self.rng
        area = self.pick(("212", "415", "312", "617", "206", "303", "512", "404", "305", "713", "602", "919"))
        exch, line = int(r.integers(201, 999)), int(r.integers(0, 10000))
        if exch == 555:
            exch = 556
        styles = (  # one is drawn; only its own draws are made, in this order
            lambda: f"({area}) {exch}-{line:04d}",
            lambda: f"{area}-{exch}-{line:04d}",
            lambda: f"{area}.{exch}.{line:04d}",
            lambda: f"+1 {area} {exch} {line:04d}",
            lambda: f"+44 20 7{int(r.integers(100, 999))} {line:04d}",
            lambda: f"+49 30 {int(r.integers(1000000, 9999999))}",
            lambda: " ".join(["+33 1"] + [str(int(r.integers(10, 99))) for _ in range(4)]),
        )
        return styles[int(r.integers(len(styles)))]()

    def ssn(self) -> str:
        r = self.rng
        area = int(r.integers(1, 900))
        if area == 666:
            area = 667
        return f"{area:03d}-{int(r.integers(1, 100)):02d}-{int(r.integers(1, 10000)):04d}"

    def card(self) -> str:
        if self.rng.random() < 0.2:
            n = _luhn_complete("37", 15, self.rng)
            return f"{n[:4]} {n[4:10]} {n[10:]}"
        n = _luhn_complete(self.pick(("4", "51", "53", "6011")), 16, self.rng)
        return " ".join(n[i:i + 4] for i in range(0, 16, 4))

    def iban(self) -> str:
        return _iban(self.rng)

    def dob(self) -> str:
        r = self.rng
        y, m, d = int(r.integers(1940, 2006)), int(r.integers(1, 13)), int(r.integers(1, 29))
        months = ("January February March April May June July August September October November December").split()
        styles = (f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{months[m - 1]} {d}, {y}", f"{d} {months[m - 1]} {y}")
        return styles[int(r.integers(len(styles)))]

    def address(self) -> list[str]:
        r = self.rng
        street = f"{int(r.integers(1, 9999))} {self.pick(STREETS)} {self.pick(STREET_TYPES)}"
        if r.random() < 0.25:
            city, post = self.pick(UK_CITIES)
            return [street, f"{city} {post}"]
        city, state, zipc = self.pick(CITIES)
        return [street, f"{city}, {state} {zipc}"]


# ---------------------------------------------------------------------------------------------- layout
class _Page:
    """Lines of positioned tokens; a token is (text, item index or -1)."""

    def __init__(self, dpi: int, pt: float, family: str, caps: bool, rule: tuple[float, int] | None = None):
        self.dpi = dpi
        # ruled pages: (underline depth below the baseline in ems, line width in px); None: no rules
        self.rule = rule
        self.rules: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 in page pixels
        self.w, self.h = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
        self.margin = int(0.9 * dpi)
        self.y = self.margin
        self.pt = pt
        self.family = family
        self.caps = caps
        self.items: list[Item] = []
        self.placed: list[tuple[float, float, str, int, ImageFont.FreeTypeFont]] = []  # x, y, text, item, font
        self._fonts: dict[tuple[float, bool], ImageFont.FreeTypeFont] = {}

    def font(self, pt: float | None = None, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (pt or self.pt, bold)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(str(_font_path(FONTS[self.family][int(bold)])),
                                                  round(key[0] * self.dpi / 72))
        return self._fonts[key]

    def item(self, kind: str, text: str) -> int:
        self.items.append(Item(kind, text))
        return len(self.items) - 1

    def full(self) -> bool:
        return self.y > self.h - self.margin - 3 * self.line_h()

    def line_h(self, pt: float | None = None) -> float:
        return (pt or self.pt) * self.dpi / 72 * 1.45

    def text(self, parts, x: float = 0.0, pt: float | None = None, bold: bool = False, wrap: bool = True,
             upper: bool = False) -> None:
        """Parts: strings (not personal data) or (kind, text) pairs; wrapped to the page width from ``x``."""
        font = self.font(pt, bold)
        space = font.getlength(" ")
        tokens = []
        for part in parts:
            if isinstance(part, tuple):
                kind, value = part
                k = self.item(kind, value)
                tokens += [(t, k) for t in value.split()]
            else:
                tokens += [(t, -1) for t in part.split()]
        left = self.margin + x * (self.w - 2 * self.margin)
        cx = left
        for t, k in tokens:
            t = t.upper() if (upper or self.caps) else t
            tw = font.getlength(t)
            if t in (".", ",", ";", ":") and cx > left:  # punctuation sits on the word before it
                cx -= space
            if wrap and cx > left and cx + tw > self.w - self.margin:
                cx = left
                self.y += self.line_h(pt)
            self.placed.append((cx, self.y, t, k, font))
            cx += tw + space

    def cells(self, cells, pt: float | None = None, bold: bool = False, upper: bool = False) -> None:
        """One row: (x fraction, parts) per cell, no wrapping."""
        for x, parts in cells:
            self.text(parts, x, pt, bold, wrap=False, upper=upper)
        self.newline(pt)

    def newline(self, pt: float | None = None, n: float = 1.0) -> None:
        self.y += n * self.line_h(pt)

    def x_at(self, x: float) -> float:
        return self.margin + x * (self.w - 2 * self.margin)

    def underline(self, x0: float, x1: float, pt: float | None = None) -> float | None:
        """On ruled pages, a rule under the current line from ``x0`` to ``x1`` (fractions of the text width),
        where typed values sit on it: at the baseline or a little below, through the descenders. Its y, or None."""
        if self.rule is None:
            return None
        font = self.font(pt)
        y = self.y + font.getmetrics()[0] + self.rule[0] * font.size
        self.rules.append((self.x_at(x0), y, self.x_at(x1), y))
        return y

    def border(self, x: float, y0: float, y1: float) -> None:
        """On ruled pages, a vertical rule at ``x`` (fraction of the text width) from page y ``y0`` to ``y1``."""
        if self.rule is not None:
            self.rules.append((self.x_at(x), y0, self.x_at(x), y1))

    def columns(self, rows, xs, pt: float | None = None, bold_rows: int = 1) -> tuple[list[float], float]:
        """Column positions (fractions of the text width) and a font size at which the table ``rows`` (lists of
        cell parts, one per column) fits: each column starts at its ``xs`` or past the widest cell of the column
        before it, columns are packed side by side where that is needed to fit, and the size shrinks until the last
        column ends inside the text width. A real table's columns neither overlap nor run off the page. The first
        ``bold_rows`` rows are measured bold."""
        pt = pt or self.pt
        width = self.w - 2 * self.margin
        while True:
            widths = [0.0] * len(xs)
            for r, row in enumerate(rows):
                font = self.font(pt, r < bold_rows)
                for c, parts in enumerate(row):
                    text = " ".join(v[1] if isinstance(v, tuple) else v for v in parts)
                    widths[c] = max(widths[c], font.getlength(text.upper() if self.caps or r < bold_rows else text))
            gap = 1.5 * pt * self.dpi / 72
            for at_least in (xs, [0.0] * len(xs)):  # the given positions, else columns packed side by side
                out = [xs[0]]
                for c in range(1, len(xs)):
                    out.append(max(at_least[c], out[-1] + (widths[c - 1] + gap) / width))
                if out[-1] + widths[-1] / width <= 1.0:
                    return out, pt
            if pt <= 6:
                return out, pt
            pt *= 0.93


def _font_path(name: str) -> Path:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.exists():
            return p
    try:
        import matplotlib

        p = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        if p.exists():
            return p
    except ImportError:
        pass
    raise FileNotFoundError(f"font {name} not found: install the Debian package fonts-dejavu-core")


def _address_block(p: _Page, c: _Content) -> None:
    """A postal address, one line of the page per address line, as one item."""
    addr = c.address()
    k = p.item(ADDRESS, " / ".join(addr))
    for line in addr:
        _tokens_for_item(p, k, line)
        p.newline()


def _letter(p: _Page, c: _Content) -> None:
    company = c.pick(COMPANIES)
    p.text([company], pt=p.pt * 1.4, bold=True)
    p.newline(p.pt * 1.4)
    _address_block(p, c)
    p.text(["Tel:", (PHONE, c.phone())])
    p.newline(n=2)
    p.text([c.pick(GENERIC_DATES)])
    p.newline(n=2)
    full, last = c.name()
    hon = c.pick(HONOR)
    p.text([(PERSON, f"{hon} {full}")])
    p.newline()
    _address_block(p, c)
    p.newline()
    p.text(["Re: your reference", str(int(c.rng.integers(10000, 99999)))], bold=True)
    p.newline(n=1.5)
    p.text(["Dear", (PERSON, f"{hon} {last}") if c.rng.random() < 0.7 else (PERSON, full.split()[0]), ","])
    p.newline(n=1.5)
    extras = [
        lambda: ["Our records show your date of birth as", (DATE_OF_BIRTH, c.dob()), "."],
        lambda: ["If you have any questions, please call", (PERSON, c.name(False)[0]), "on",
                 (PHONE, c.phone()), "or write to", (EMAIL, c.email()), "."],
        lambda: ["The refund will be paid to the account with IBAN", (IBAN, c.iban()), "."],
        lambda: ["The card number we hold for you is", (CARD, c.card()), "."],
        lambda: ["For verification purposes, your Social Security number is recorded as", (SSN, c.ssn()), "."],
        lambda: ["I have copied my colleague", (PERSON, c.name(False)[0]), "on this letter."],
        lambda: ["Please reply to", (EMAIL, c.email(full)), "."],
    ]
    order = c.rng.permutation(len(extras))
    for i in range(3):
        sents = [c.pick(SENTENCES) for _ in range(int(c.rng.integers(2, 4)))]
        more = extras[order[2 * i]]() + extras[order[(2 * i + 1) % len(extras)]]()
        p.text(sents[:1] + more + sents[1:])
        p.newline(n=1.5)
        if p.full():
            return
    p.text(["Yours sincerely,"])
    p.newline(n=2.5)
    p.text([(PERSON, c.name()[0])])
    p.underline(0.0, 0.4)
    p.newline()
    p.text([c.pick(TITLES)])
    p.newline()


def _tokens_for_item(p: _Page, k: int, line: str, x: float = 0.0, pt=None, bold=False) -> None:
    """Place one line of an existing item (items spanning several lines: one call per line)."""
    font = p.font(pt, bold)
    left = p.margin + x * (p.w - 2 * p.margin)
    cx = left
    for t in line.split():
        t = t.upper() if p.caps else t
        p.placed.append((cx, p.y, t, k, font))
        cx += font.getlength(t) + font.getlength(" ")


def _invoice(p: _Page, c: _Content) -> None:
    p.text([c.pick(COMPANIES)], pt=p.pt * 1.5, bold=True)
    p.newline(p.pt * 1.5)
    _address_block(p, c)
    p.newline()
    p.cells([(0.0, ["INVOICE"]), (0.6, ["Invoice No:", str(int(c.rng.integers(100000, 999999)))])], bold=True)
    p.cells([(0.6, ["Date:", c.pick(GENERIC_DATES)])])
    p.newline()
    p.text(["Bill To:"], bold=True)
    p.newline()
    p.text([(PERSON, c.name()[0])], upper=c.rng.random() < 0.3)
    p.newline()
    _address_block(p, c)
    p.text(["Phone:", (PHONE, c.phone())])
    p.newline()
    p.text(["Email:", (EMAIL, c.email())])
    p.newline(n=2)
    rows = [[["QTY"], ["DESCRIPTION"], ["UNIT PRICE"], ["TOTAL"]]]
    total = 0.0
    for _ in range(int(c.rng.integers(4, 9))):
        q, price = int(c.rng.integers(1, 20)), float(c.rng.integers(100, 50000)) / 100
        total += q * price
        rows.append([[str(q)], [c.pick(PRODUCTS)], [f"{price:,.2f}"], [f"{q * price:,.2f}"]])
    rows.append([[], [], ["TOTAL DUE"], [f"${total:,.2f}"]])
    xs, pt = p.columns(rows, [0.0, 0.12, 0.62, 0.85])
    p.underline(-0.015, 1.015, pt)
    p.cells(list(zip(xs, rows[0])), pt=pt, bold=True)
    for row in rows[1:-1]:
        p.underline(-0.015, 1.015, pt)
        p.cells(list(zip(xs, row)), pt=pt)
    p.newline(pt)
    p.cells(list(zip(xs[2:], rows[-1][2:])), pt=pt, bold=True)
    p.newline()
    p.text(["Payment by bank transfer to IBAN:", (IBAN, c.iban())])
    p.newline()
    p.text(["Card on file:", (CARD, c.card())])
    p.newline()
    p.text(["Account manager:", (PERSON, c.name()[0]), ",", "tel.", (PHONE, c.phone())])
    p.newline()


def _form(p: _Page, c: _Content) -> None:
    p.text([c.pick(("PATIENT REGISTRATION FORM", "EMPLOYEE INFORMATION FORM", "INSURANCE CLAIM FORM",
                    "NEW CUSTOMER APPLICATION"))], pt=p.pt * 1.4, bold=True)
    p.newline(p.pt * 1.4, 1.5)
    caps_values = c.rng.random() < 0.4
    full, _ = c.name()
    fields = [
        ("Full Name:", (PERSON, full)),
        ("Date of Birth:", (DATE_OF_BIRTH, c.dob())),
        ("SSN:", (SSN, c.ssn())),
        ("Phone:", (PHONE, c.phone())),
        ("Email:", (EMAIL, c.email(full))),
        ("Emergency Contact:", (PERSON, c.name()[0])),
        ("Contact Phone:", (PHONE, c.phone())),
        ("Physician:", (PERSON, "Dr. " + c.name(False)[0])),
        ("Member ID:", f"MBR-{int(c.rng.integers(100000, 999999))}"),
        ("Bank IBAN:", (IBAN, c.iban())),
        ("Card Number:", (CARD, c.card())),
        ("Plan:", c.pick(("Gold PPO", "Standard", "Premium Plus", "Basic HMO"))),
    ]
    shown = [(v[1] if isinstance(v, tuple) else v).upper() if caps_values else v for _, v in fields]
    xs, pt = p.columns([[[label], [value]] for (label, _), value in zip(fields, shown)], [0.0, 0.33], bold_rows=0)
    for label, value in fields:
        p.text([label], xs[0], pt, wrap=False)
        p.text([value], xs[1], pt, wrap=False, upper=caps_values)
        p.underline(xs[1] - 0.03, 1.0, pt)
        p.newline(pt, n=1.3)
    addr = c.address()
    k = p.item(ADDRESS, " / ".join(addr))
    p.text(["Home Address:"])
    for line in addr:
        _tokens_for_item(p, k, line, x=0.33)
        p.newline()
    p.newline()
    p.text(["I certify that the information given above is true and complete to the best of my knowledge."])
    p.newline(n=2)
    row = [["Signed by:", (PERSON, full)], ["Date:", c.pick(GENERIC_DATES)]]
    xs, pt = p.columns([row], [0.0, 0.6], bold_rows=0)
    p.underline(xs[0] + 0.12, xs[1] - 0.04, pt)
    p.cells(list(zip(xs, row)), pt=pt)


def _table(p: _Page, c: _Content) -> None:
    p.text([c.pick(("Employee Directory", "Staff Contact List", "Client Register", "Volunteer Roster"))],
           pt=p.pt * 1.4, bold=True)
    p.newline(p.pt * 1.4, 1.5)
    p.text([c.pick(SENTENCES)])
    p.newline(n=1.5)
    rows = [[["NAME"], ["DEPARTMENT"], ["PHONE"], ["EMAIL"]]]
    for _ in range(int(c.rng.integers(8, 15))):
        full = c.name(False)[0]
        rows.append([[(PERSON, full)], [c.pick(DEPARTMENTS)], [(PHONE, c.phone())], [(EMAIL, c.email(full))]])
    xs, small = p.columns(rows, [0.0, 0.3, 0.52, 0.74], p.pt * 0.9)
    top = p.y
    p.underline(-0.015, 1.015, small)  # ruled rows and bordered columns, a little wider than the text
    p.cells(list(zip(xs, rows[0])), pt=small, bold=True)
    for row in rows[1:]:
        p.underline(-0.015, 1.015, small)
        p.cells(list(zip(xs, row)), pt=small)
        if p.full():
            break
    for x in [-0.003] + xs[1:] + [1.027]:
        p.border(x - 0.012, top, p.y)
    p.newline()
    p.text(["Prepared by", (PERSON, c.name()[0]), "on", c.pick(GENERIC_DATES), "."])
    p.newline()


LAYOUTS = {"letter": _letter, "invoice": _invoice, "form": _form, "table": _table}


# ---------------------------------------------------------------------------------------------- rendering
def _render(p: _Page, with_pii: bool, with_text: bool = True) -> tuple[np.ndarray, np.ndarray, list[SynthWord]]:
    canvas = Image.new("L", (p.w, p.h), 255)
    draw = ImageDraw.Draw(canvas)
    for x0, y0, x1, y1 in p.rules:
        draw.line([(x0, y0), (x1, y1)], fill=0, width=p.rule[1])
    ink = np.zeros((p.h, p.w), np.int32)
    words: list[SynthWord] = []
    line_of: dict[float, int] = {}
    for x, y, t, k, font in p.placed:
        if y > p.h - p.margin / 2:
            continue
        x, y = int(round(x)), int(round(y))
        x0, y0, x1, y1 = (int(v) for v in draw.textbbox((x, y), t, font=font))
        j = len(words)
        words.append(SynthWord(t, (float(x0), float(y0), float(x1), float(y1)), k >= 0, k,
                               line_of.setdefault(y, len(line_of))))
        if not with_text or (k >= 0 and not with_pii):
            continue
        draw.text((x, y), t, fill=0, font=font)
        glyphs = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(glyphs).text((x - x0, y - y0), t, fill=255, font=font)
        g = np.asarray(glyphs) >= INK_ALPHA
        sub = ink[y0:y1, x0:x1]
        sub[g[: sub.shape[0], : sub.shape[1]]] = j + 1
    return np.asarray(canvas), ink, words


def _scan(grey: np.ndarray, M: np.ndarray, noise: np.ndarray, specks: np.ndarray, blur: float, tint: np.ndarray,
          quality: int) -> np.ndarray:
    h, w = grey.shape
    turned = cv2.warpAffine(grey, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    if blur > 0:
        turned = cv2.GaussianBlur(turned, (0, 0), blur)
    paper = turned * (tint.mean() / 255.0) + noise
    paper[specks] = 40
    rgb = np.clip(paper[..., None] * (tint / tint.mean())[None, None, :], 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _turn_box(box: Box, M: np.ndarray) -> Box:
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ M.T
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def generate_page(rng: np.random.Generator, dpi: int = 300, kind: str | None = None,
                  rules: bool = False) -> SynthPage:
    """One synthetic scanned A4 page at ``dpi`` of the given kind (random when None); with ``rules``, half the
    pages are ruled (the text benchmark's pages, made without, keep their seeds' content)."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    family = ("serif", "sans", "mono")[int(rng.integers(3))]
    pt = float(rng.choice([8, 9, 10, 10, 11, 11, 12, 12, 13, 14]))
    caps = rng.random() < 0.12
    rule = None
    if rules and rng.random() < 0.5:
        rule = (float(rng.uniform(0.0, 0.2)), max(1, round(dpi / 150 * float(rng.uniform(0.6, 1.6)))))
    page = _Page(dpi, pt, family, caps, rule)
    LAYOUTS[kind](page, _Content(rng))
    grey, ink, words = _render(page, True)
    grey_clean, _, _ = _render(page, False)
    angle = float(rng.uniform(-1.2, 1.2))
    M = cv2.getRotationMatrix2D((page.w / 2, page.h / 2), angle, 1.0)
    noise = rng.normal(0, rng.uniform(2, 7), grey.shape).astype(np.float32)
    specks = rng.random(grey.shape) < rng.uniform(0, 4e-4)
    blur = float(rng.uniform(0.0, 0.7))
    tint = np.array([rng.uniform(238, 252), rng.uniform(236, 250), rng.uniform(228, 246)], np.float32)
    quality = int(rng.integers(55, 90))
    image = _scan(grey, M, noise, specks, blur, tint, quality)
    clean = _scan(grey_clean, M, noise, specks, blur, tint, quality)
    blank = _scan(_render(page, False, with_text=False)[0], M, noise, specks, blur, tint, quality)
    word_ink = cv2.warpAffine(ink, M, (page.w, page.h), flags=cv2.INTER_NEAREST, borderValue=0)
    words = [SynthWord(w.text, _turn_box(w.box, M), w.pii, w.item, w.line) for w in words]
    items = page.items
    for j, w in enumerate(words):
        if w.item >= 0:
            items[w.item].words.append(j)
    kept = []
    for it in items:
        if not it.words:
            continue  # fell off the page
        lines: dict[int, list[Box]] = {}
        for j in it.words:
            lines.setdefault(words[j].line, []).append(words[j].box)
        it.boxes = [(min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))
                    for bs in lines.values()]
        kept.append(it)
    # re-index: words point at the kept items
    index = {id(it): n for n, it in enumerate(kept)}
    for w in words:
        if w.item >= 0:
            w.item = index.get(id(items[w.item]), -1)
    return SynthPage(image, clean, kept, words, word_ink, dpi, kind, family, pt, angle, blank)

