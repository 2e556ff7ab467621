"""A second, independent page generator for the text benchmark: pages redact's rules were not written against.

Written apart from ``inpaint.synthdocs`` (only its result types are shared, so the benchmark scores both alike):
other fonts (URW base35, Noto, Go, Liberation: Debian ``fonts-urw-base35``, ``fonts-noto-core``, ``fonts-go``,
``fonts-liberation2``; those missing are skipped, none at all is an error naming the packages), other layouts
(two-column letters, boxed forms, ruled tables, till receipts, memos with a header and a footer), people and
addresses from 18 countries (given names, particle surnames, "SURNAME, Given" order, initials, each country's
street types, house-number order and postcode shape), and a scanner's artefacts (skew, blur, paper tone, noise,
specks, JPEG). ``filled_form_page`` fills the real blank government forms in ../shared/data/docs
(``pikepdf_form_*.pdf``) with generated people, by the fields' own rectangles and tooltips, and scans them.

Every page comes with its ground truth: each personal item (kind, text, its words' ink) and every other word (for
precision), as ``inpaint.synthdocs.SynthPage``.

    page = generate_page_b(np.random.default_rng(seed))      # layout chosen by the seed
    page = filled_form_page(np.random.default_rng(seed))     # a real form, filled and scanned
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from redact.core.regions import ADDRESS, CARD, DATE_OF_BIRTH, EMAIL, IBAN, PERSON, PHONE, SSN
from inpaint.synthdocs import Item, SynthPage, SynthWord

LAYOUTS_B = ("two_column_letter", "boxed_form", "ruled_table", "receipt", "memo")
FONT_FILES = {  # (regular, bold) per family; Debian packages in the module docstring
    "nimbus-roman": ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf",
                     "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Bold.otf"),
    "nimbus-sans": ("/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf",
                    "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf"),
    "nimbus-mono": ("/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",
                    "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Bold.otf"),
    "p052": ("/usr/share/fonts/opentype/urw-base35/P052-Roman.otf",
             "/usr/share/fonts/opentype/urw-base35/P052-Bold.otf"),
    "bookman": ("/usr/share/fonts/opentype/urw-base35/URWBookman-Light.otf",
                "/usr/share/fonts/opentype/urw-base35/URWBookman-Demi.otf"),
    "noto-serif": ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
                   "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"),
    "noto-sans": ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
                  "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    "go": ("/usr/share/fonts/fonts-go/Go-Regular.ttf", "/usr/share/fonts/fonts-go/Go-Bold.ttf"),
    "go-mono": ("/usr/share/fonts/fonts-go/Go-Mono.ttf", "/usr/share/fonts/fonts-go/Go-Mono-Bold.ttf"),
    "liberation-serif": ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
                         "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"),
}
FONT_PACKAGES = "fonts-urw-base35 fonts-noto-core fonts-go fonts-liberation2"
DOCS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "docs"
INK = 110  # a glyph pixel at least this dark (of 255 coverage) is the word's ink


def available_fonts() -> list[str]:
    fams = [f for f, (reg, bold) in FONT_FILES.items() if Path(reg).exists() and Path(bold).exists()]
    if not fams:
        raise FileNotFoundError(f"no font for the second page generator: apt-get install {FONT_PACKAGES}")
    return fams


# ------------------------------------------------------------------------------------------------ people
@dataclass(frozen=True)
class Country:
    code: str
    given: tuple[str, ...]
    family: tuple[str, ...]
    honorifics: tuple[str, ...]
    streets: tuple[str, ...]
    towns: tuple[tuple[str, str], ...]  # (town, postcode template: 9 digit, A letter)
    phone: tuple[str, str]  # (country code, national number template)
    iban: tuple[str, int]  # (country, length)


def _c(code, given, family, honorifics, streets, towns, phone, iban):
    return Country(code, tuple(given.split()), tuple(f.replace("_", " ") for f in family.split()),
                   tuple(honorifics.split()), tuple(s.replace("_", " ") for s in streets.split("|")),
                   tuple(towns), phone, iban)


COUNTRIES = (
    _c("US", "Dwayne Latisha Cody Brittany Marisol Trevor Shanice Garrett Yolanda Brent",
       "Kowalczyk Fitzgerald Okafor Delgado Whitaker Nguyen Hoffman Torres Brennan Castillo",
       "Mr. Mrs. Ms. Dr.", "{n} Sycamore Ridge Rd|{n} W. Jefferson Blvd|{n} Old Mill Lane Apt {u}",
       [("Tucson, AZ", "99999"), ("Duluth, MN", "99999-9999"), ("Savannah, GA", "99999")],
       ("1", "999 999 9999"), ("", 0)),
    _c("CA", "Genevieve Maxime Tyler Amelie Dakota Francois Nadia Owen",
       "Tremblay Gagnon Bouchard MacIsaac Lavoie Desrosiers Fraser Pelletier",
       "Mr. Mme Ms. Dr.", "{n} Rue Saint-Denis|{n} Maple Grove Cres.|{n} Bloor St W",
       [("Montreal QC", "A9A 9A9"), ("Halifax NS", "A9A 9A9"), ("Winnipeg MB", "A9A 9A9")],
       ("1", "999 999 9999"), ("", 0)),
    _c("UK", "Alistair Imogen Rhys Gemma Callum Hollie Niamh Declan",
       "Featherstone MacPherson Ogunleye Pritchard Llewellyn Ashworth Crossley Bhattacharya",
       "Mr Mrs Ms Dr", "{n} Cranbrook Gardens|Flat {u}, {n} Wellington Terrace|{n} Holloway Rd",
       [("Sheffield", "AA9 9AA"), ("Cardiff", "AA99 9AA"), ("Norwich", "AA9 9AA")],
       ("44", "99 9999 9999"), ("GB", 22)),
    _c("IE", "Siobhan Cillian Aoife Padraig Grainne Oisin Caoimhe Eoghan",
       "O'Sullivan Mac_Giolla_Phadraig Ni_Bhriain O'Donoghue Fennelly Kavanagh MacCarthy Breathnach",
       "Mr Ms Mrs Dr", "{n} Glenageary Road Upper|Apt {u}, Dun Laoghaire Lodge|{n} Clontarf Road",
       [("Co. Dublin", "A99 A9A9"), ("Galway", "A99 A9A9"), ("Cork", "A99 A9A9")],
       ("353", "99 999 9999"), ("IE", 22)),
    _c("AU", "Bronwyn Lachlan Kylie Jarrah Tegan Darcy Mitchell Shona",
       "Papadopoulos Kennedy Nguyen Threlfall bin_Hassan Moretti Wiremu Albanese",
       "Mr Mrs Ms Dr", "{u}/{n} Parramatta Rd|{n} Wattle Grove Ave|Unit {u}, {n} Esplanade",
       [("Fitzroy VIC", "9999"), ("Glebe NSW", "9999"), ("Fremantle WA", "9999")],
       ("61", "9 9999 9999"), ("", 0)),
    _c("FR", "Amelie Benoit Clemence Theo Solene Gaetan Margaux Yannick",
       "de_La_Fontaine Le_Goff Dubois-Martin Fournier Lefebvre Giraud de_Villepin Rousseau",
       "M. Mme Mlle Dr", "{n} rue de la Paix|{n}, avenue Victor-Hugo|{n} bis, boulevard Voltaire|"
       "{n} allée des Tilleuls|{n} impasse du Moulin",
       [("Paris", "99999"), ("Lyon", "99999"), ("Bordeaux Cedex", "99999")],
       ("33", "9 99 99 99 99"), ("FR", 27)),
    _c("DE", "Jurgen Annelie Lukas Friederike Matthias Henrike Torsten Wiebke",
       "von_Stein Schneider Muller-Lüdenscheidt Zimmermann Hoffmann von_der_Heide Schafer Wagner",
       "Herr Frau Dr.", "Goethestrasse {n}|Hauptstr. {n}a|Am Lindenhof {n}|Berliner Allee {n}",
       [("Berlin", "99999"), ("Hamburg", "99999"), ("Freiburg im Breisgau", "99999")],
       ("49", "30 9999999"), ("DE", 22)),
    _c("NL", "Joost Femke Sander Annelies Thijs Marieke Ruud Lieke",
       "van_der_Berg de_Vries van_Dijk Bakker de_Jong van_den_Heuvel Visser Jansen",
       "Dhr. Mevr. Dr.", "Keizersgracht {n}|Dorpsstraat {n}-{u}|Stationsweg {n}",
       [("Amsterdam", "9999 AA"), ("Utrecht", "9999 AA"), ("Groningen", "9999 AA")],
       ("31", "20 999 9999"), ("NL", 18)),
    _c("BE", "Wouter Lotte Maxime Elodie Pieter Anouk Arnaud Sien",
       "Vandenbroucke De_Smet Peeters Claes Van_Damme Dupont Janssens Lambrecht",
       "M. Mme Dhr. Mevr.", "Rue Royale {n}|Kerkstraat {n} bus {u}|Avenue Louise {n}",
       [("Bruxelles", "9999"), ("Gent", "9999"), ("Liege", "9999")],
       ("32", "2 999 99 99"), ("BE", 16)),
    _c("ES", "Alejandro Lucia Inigo Montserrat Javier Ainhoa Rocio Xavier",
       "Garcia_Lopez de_la_Cruz Fernandez Iglesias Martinez_de_Irujo Navarro Etxeberria Ruiz",
       "Sr. Sra. Dr.", "Calle de Alcala, {n}, {u}o B|Avenida Diagonal {n}|Plaza Mayor, {n}",
       [("Madrid", "99999"), ("Barcelona", "99999"), ("Sevilla", "99999")],
       ("34", "999 99 99 99"), ("ES", 24)),
    _c("IT", "Giuseppe Chiara Lorenzo Francesca Matteo Giulia Alessandro Federica",
       "De_Luca Di_Stefano Esposito Russo Ferrari Lo_Bianco Romano Colombo",
       "Sig. Sig.ra Dott.", "Via Garibaldi, {n}|Viale dei Mille {n}|Corso Vittorio Emanuele II, {n}|Piazza Navona {n}",
       [("Roma RM", "99999"), ("Milano MI", "99999"), ("Torino TO", "99999")],
       ("39", "06 9999 9999"), ("IT", 27)),
    _c("PT", "Joao Mariana Tiago Ines Goncalo Beatriz Rui Leonor",
       "dos_Santos da_Silva Pereira Ferreira de_Sousa Carvalho Rodrigues Gomes",
       "Sr. Sra. Dr.", "Rua da Liberdade, {n}|Avenida da Republica, {n}, {u}o Esq.|Travessa do Carmo {n}",
       [("Lisboa", "9999-999"), ("Porto", "9999-999"), ("Coimbra", "9999-999")],
       ("351", "21 999 9999"), ("PT", 25)),
    _c("PL", "Katarzyna Tomasz Agnieszka Pawel Malgorzata Krzysztof Zofia Grzegorz",
       "Kowalska Wisniewski Brzeczyszczykiewicz Lewandowski Wojcik Kaminska Zielinski Szymanska",
       "Pan Pani Dr", "ul. Marszalkowska {n}/{u}|ul. Dluga {n}|al. Jerozolimskie {n}",
       [("Warszawa", "99-999"), ("Krakow", "99-999"), ("Gdansk", "99-999")],
       ("48", "22 999 99 99"), ("PL", 28)),
    _c("SE", "Anders Ingrid Bjorn Astrid Johan Sigrid Mikael Linnea",
       "Lindqvist Andersson Bergstrom Nyberg Sjoberg Hedlund Lundgren Akesson",
       "Mr Ms Dr", "Storgatan {n}|Drottninggatan {n} lgh {u}|Kungsvagen {n}",
       [("Stockholm", "999 99"), ("Goteborg", "999 99"), ("Uppsala", "999 99")],
       ("46", "8 999 999 99"), ("SE", 24)),
    _c("NO", "Sindre Ingvild Eirik Solveig Haakon Marit Torbjorn Ragnhild",
       "Haugen Johansen Odegaard Bakken Solberg Kristiansen Lie Berntsen",
       "Mr Ms Dr", "Karl Johans gate {n}|Storgata {n}|Kirkeveien {n} B",
       [("Oslo", "9999"), ("Bergen", "9999"), ("Trondheim", "9999")],
       ("47", "22 99 99 99"), ("NO", 15)),
    _c("DK", "Mette Rasmus Kirsten Soren Freja Mads Birgitte Jesper",
       "Nielsen Kjaergaard Rasmussen Sorensen Frederiksen Norgaard Thomsen Madsen",
       "Mr Ms Dr", "Vesterbrogade {n}, {u}. tv.|Norregade {n}|Strandvejen {n}",
       [("Kobenhavn V", "9999"), ("Aarhus C", "9999"), ("Odense", "9999")],
       ("45", "99 99 99 99"), ("DK", 18)),
    _c("FI", "Juha Aino Mikko Tuulikki Petteri Satu Ville Riikka",
       "Virtanen Jarvinen Makinen Korhonen Heikkinen Laaksonen Nieminen Koskinen",
       "Mr Ms Dr", "Mannerheimintie {n} B {u}|Hameenkatu {n}|Aleksanterinkatu {n} A",
       [("Helsinki", "99999"), ("Tampere", "99999"), ("Turku", "99999")],
       ("358", "9 999 9999"), ("FI", 18)),
    _c("MY", "Ahmad Siti Farid Nurul Hafiz Aisyah",
       "bin_Abdullah binti_Ismail bin_Yusof Tan Lim bin_Osman",
       "Encik Puan Dr", "No. {n}, Jalan Ampang|{n} Lorong Maarof|Jalan Tun Razak {n}",
       [("Kuala Lumpur", "99999"), ("Petaling Jaya", "99999")],
       ("60", "3 9999 9999"), ("", 0)),
)
COUNTRY_NAMES = {"US": "USA", "CA": "Canada", "UK": "United Kingdom", "IE": "Ireland", "AU": "Australia",
                 "FR": "France", "DE": "Germany", "NL": "Netherlands", "BE": "Belgium", "ES": "Spain", "IT": "Italy",
                 "PT": "Portugal", "PL": "Poland", "SE": "Sweden", "NO": "Norway", "DK": "Denmark", "FI": "Finland",
                 "MY": "Malaysia"}


def _fill(rng, template: str) -> str:
    return "".join(str(rng.integers(10)) if c == "9" else chr(65 + int(rng.integers(26))) if c == "A" else c
                   for c in template)


def _iban(rng, country: str, length: int) -> str:
    body = "".join(str(rng.integers(10)) for _ in range(length - 4))
    moved = body + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    iban = f"{country}{check:02d}{body}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _card(rng) -> str:
    digits = [4] + [int(rng.integers(10)) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4))


class Person:
    def __init__(self, rng, country: Country | None = None):
        self.rng = rng
        self.c = country or COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        self.given = self.c.given[int(rng.integers(len(self.c.given)))]
        self.family = self.c.family[int(rng.integers(len(self.c.family)))]
        self.middle = chr(65 + int(rng.integers(26))) if rng.random() < 0.3 else ""
        self.honorific = self.c.honorifics[int(rng.integers(len(self.c.honorifics)))]

    def name(self, style: str | None = None) -> str:
        style = style or self.rng.choice(["plain", "plain", "plain", "surname_first", "initial", "caps_surname",
                                          "honorific"])
        mid = f" {self.middle}." if self.middle else ""
        if style == "surname_first":
            return f"{self.family.upper() if self.rng.random() < 0.5 else self.family}, {self.given}"
        if style == "initial":
            return f"{self.given[0]}.{mid} {self.family}"
        if style == "caps_surname":
            return f"{self.given} {self.family.upper()}"
        if style == "honorific":
            return f"{self.honorific} {self.family}"
        return f"{self.given}{mid} {self.family}"

    def address(self) -> list[str]:
        rng = self.rng
        street = self.c.streets[int(rng.integers(len(self.c.streets)))]
        street = street.format(n=int(rng.integers(1, 240)), u=int(rng.integers(1, 30)))
        town, post = self.c.towns[int(rng.integers(len(self.c.towns)))]
        post = _fill(rng, post)
        code = self.c.code
        if code in ("US", "CA", "AU"):
            lines = [street, f"{town} {post}"]
        elif code == "UK":
            lines = [street, town, post]
        elif code == "IE":
            lines = [street, f"{town} {post}"]
        else:
            lines = [street, f"{post} {town}"]
        if rng.random() < 0.3:
            lines.append(COUNTRY_NAMES[code])
        return lines

    def phone(self) -> str:
        cc, national = self.c.phone
        number = _fill(self.rng, national)
        if cc == "1":
            a, b, c = number.split()
            return self.rng.choice([f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"{a}-{b}-{c}"])
        return f"+{cc} {number}"

    def email(self) -> str:
        given = re.sub(r"[^a-z]", "", self.given.lower())
        family = re.sub(r"[^a-z]", "", self.family.lower())
        dom = self.rng.choice(["example.com", "example.org", "mail.example.net", "example.co.uk", "posteo.example"])
        return self.rng.choice([f"{given}.{family}@{dom}", f"{given[0]}{family}@{dom}", f"{family}.{given[0]}@{dom}"])

    def iban(self) -> str | None:
        country, length = self.c.iban
        return _iban(self.rng, country, length) if length else None

    def dob(self) -> str:
        rng = self.rng
        d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1940, 2005))
        months = "January February March April May June July August September October November December".split()
        return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{d} {months[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}",
                           f"{d:02d}.{m:02d}.{y}"])

    def ssn(self) -> str:
        rng = self.rng
        return f"{int(rng.integers(100, 665)):03d}-{int(rng.integers(1, 99)):02d}-{int(rng.integers(1, 9999)):04d}"


# plain content: none of it personal data
PRODUCTS = ("Recycled paper towels", "Stapler heavy duty", "Whiteboard cleaner spray", "Filing cabinet key",
            "Coffee beans 1kg", "Extension lead 4-way", "Ink cartridge black", "Safety goggles", "Cable ties pack")
PROSE = (
    "Following our meeting last week, the committee agreed to extend the consultation period until the end of "
    "the quarter.",
    "Please find enclosed the revised schedule together with the updated terms of the agreement.",
    "The maintenance work on the ground floor will begin on Monday and should take about three days.",
    "We would be grateful if you could return the signed copy at your earliest convenience.",
    "All invoices must quote the purchase order number, otherwise payment may be delayed.",
    "The annual review highlighted steady progress in energy savings across the northern sites.",
    "Parking on the east side of the building is closed while the new entrance is built.",
    "Our records show that the deposit was received in full and no further action is required.",
    "Training sessions on the new booking system are open to all staff and take place in Room 4.",
    "The library will close early on Friday for the stocktake; loans due that day may be returned later.",
)
ORGS = ("Harbourside Property Management", "Northgate Community Clinic", "Lakeside Rowing Club",
        "Greenfield Municipal Services", "Orion Freight Forwarding", "Willowbank Primary School")


# ------------------------------------------------------------------------------------------------ canvas
class Canvas:
    """Words placed on an A4 page, each with its item (-1 for plain words), plus ruled lines and boxes."""

    def __init__(self, rng, dpi: int, family: str, pt: float):
        self.rng, self.dpi, self.family, self.pt = rng, dpi, family, pt
        self.w, self.h = int(8.27 * dpi), int(11.69 * dpi)
        self.words: list[tuple[float, float, str, int, ImageFont.FreeTypeFont]] = []
        self.rules: list[tuple[float, float, float, float]] = []
        self.items: list[Item] = []
        self._fonts: dict = {}

    def px(self, inches: float) -> float:
        return inches * self.dpi

    def font(self, pt: float | None = None, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (pt or self.pt, bold)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(FONT_FILES[self.family][int(bold)], round(key[0] * self.dpi / 72))
        return self._fonts[key]

    def lh(self, pt: float | None = None) -> float:
        return (pt or self.pt) * self.dpi / 72 * 1.4

    def put(self, x: float, y: float, text: str, kind: str | None = None, pt=None, bold=False,
            width: float | None = None, upper: bool = False) -> tuple[float, float]:
        """Words of ``text`` from (x, y), wrapped at ``width`` pixels; ``kind`` makes it one personal item.
        Returns the (x, y) just after the last word."""
        font = self.font(pt, bold)
        k = -1
        if kind:
            self.items.append(Item(kind, text))
            k = len(self.items) - 1
        space = font.getlength(" ")
        cx, cy = x, y
        for t in text.split():
            t = t.upper() if upper else t
            tw = font.getlength(t)
            if width and cx > x and cx + tw > x + width:
                cx, cy = x, cy + self.lh(pt)
            self.words.append((cx, cy, t, k, font))
            cx += tw + space
        return cx, cy

    def lines(self, x: float, y: float, lines: list[str], kind: str | None, pt=None, bold=False) -> float:
        """Lines one under another as one item (an address); returns y under them."""
        if kind:
            self.items.append(Item(kind, " / ".join(lines)))
            k = len(self.items) - 1
        for n, line in enumerate(lines):
            font = self.font(pt, bold)
            cx = x
            for t in line.split():
                self.words.append((cx, y + n * self.lh(pt), t, k if kind else -1, font))
                cx += font.getlength(t + " ")
        return y + len(lines) * self.lh(pt)

    def box(self, x0, y0, x1, y1) -> None:
        self.rules.append((x0, y0, x1, y1))

    def hline(self, x0, x1, y) -> None:
        self.rules.append((x0, y, x1, y))


# ------------------------------------------------------------------------------------------------ layouts
def two_column_letter(cv: Canvas, rng) -> None:
    m = cv.px(0.8)
    width = cv.w - 2 * m
    sender, to = Person(rng), Person(rng)
    org = ORGS[int(rng.integers(len(ORGS)))]
    y = m
    cv.put(m, y, org, pt=cv.pt + 4, bold=True)
    y += cv.lh(cv.pt + 4) * 1.3
    cv.put(m, y, "Tel.")
    cv.put(m + cv.font().getlength("Tel. "), y, sender.phone(), PHONE)
    y += 2 * cv.lh()
    yl = cv.lines(m, y, [to.name("plain" if rng.random() < .6 else "honorific")], PERSON)
    yl = cv.lines(m, yl, to.address(), ADDRESS)
    cv.put(m + 0.62 * width, y, "Our ref: HR/2291/" + str(int(rng.integers(10, 99))))
    cv.put(m + 0.62 * width, y + cv.lh(), "14 March 2025")
    y = yl + 1.5 * cv.lh()
    greet = rng.choice(["Dear", "Dear Mr", "Dear Ms"])
    x, _ = cv.put(m, y, greet)
    x, _ = cv.put(x, y, to.family + ",", PERSON)
    y += 1.6 * cv.lh()
    colw = 0.47 * width
    third = Person(rng)
    paras = [rng.choice(PROSE), f"I have asked my colleague", (PERSON, third.name("plain")),
             "to look after your file while I am away; you can reach them at", (EMAIL, third.email()),
             ".", rng.choice(PROSE), rng.choice(PROSE), "Your date of birth as we hold it is",
             (DATE_OF_BIRTH, to.dob()),
             ". If this is wrong, please let us know.", rng.choice(PROSE)]
    # two columns: words flow down the left column, then the right one
    col, cx, cy = 0, m, y
    bottom = y + 14 * cv.lh()
    font = cv.font()
    for part in paras:
        kind, text = part if isinstance(part, tuple) else (None, part)
        k = -1
        if kind:
            cv.items.append(Item(kind, text))
            k = len(cv.items) - 1
        for t in text.split():
            tw = font.getlength(t)
            left = m + col * (colw + 0.06 * width)
            if cx + tw > left + colw:
                cx, cy = left, cy + cv.lh()
                if cy > bottom and col == 0:
                    col, cy = 1, y
                    cx = m + colw + 0.06 * width
            cv.words.append((cx, cy, t, k, font))
            cx += tw + font.getlength(" ")
    y = max(cy, bottom) + 2 * cv.lh()
    cv.put(m, y, rng.choice(["Yours sincerely,", "Kind regards,", "With best wishes,"]))
    y += 2.5 * cv.lh()
    cv.put(m, y, sender.name(rng.choice(["plain", "initial", "caps_surname"])), PERSON)
    cv.put(m, y + cv.lh(), rng.choice(["Tenancy Officer", "Practice Manager", "Head of Admissions", "Secretary"]))


def boxed_form(cv: Canvas, rng) -> None:
    m = cv.px(0.7)
    width = cv.w - 2 * m
    p = Person(rng)
    cv.put(m, m, rng.choice(["APPLICATION FOR RESIDENT PARKING PERMIT", "PATIENT REGISTRATION FORM",
                             "TENANCY APPLICATION"]), pt=cv.pt + 3, bold=True)
    y = m + 2.2 * cv.lh(cv.pt + 3)
    small = max(6.5, cv.pt - 2.5)
    rowh = cv.lh(small) + cv.lh() * 1.5
    surname_label = rng.choice(["Surname", "Family name", "Last name", "Nom / Surname"])
    name_label = rng.choice(["Full name", "Name of applicant", "Patient name", "Applicant", "Name"])
    rows = [
        [(0.5, surname_label, PERSON, p.family), (0.5, rng.choice(["Given names", "First name(s)", "Forename"]),
                                                   PERSON, p.given)],
        [(0.65, name_label, PERSON, p.name(rng.choice(["surname_first", "plain", "initial"]))),
         (0.35, rng.choice(["Date of birth", "DOB", "Birth date"]), DATE_OF_BIRTH, p.dob())],
        [(1.0, rng.choice(["Home address", "Address", "Permanent address", "Postal address"]), ADDRESS,
          p.address())],
        [(0.5, rng.choice(["Telephone", "Phone", "Mobile"]), PHONE, p.phone()),
         (0.5, rng.choice(["Email", "E-mail address"]), EMAIL, p.email())],
    ]
    iban = p.iban()
    if iban:
        rows.append([(0.7, "IBAN", IBAN, iban), (0.3, "Ref.", None, f"PK-{int(rng.integers(1000, 9999))}")])
    if p.c.code == "US":
        rows.append([(0.5, "SSN", SSN, p.ssn()), (0.5, "Vehicle reg.", None, f"{int(rng.integers(100, 999))} KLM")])
    rows.append([(0.6, rng.choice(["Signed by", "Signature of applicant", "Declared by"]), PERSON,
                  p.name("plain")), (0.4, "Date", None, "02/04/2025")])
    for row in rows:
        x = m
        tallest = rowh
        for frac, label, kind, value in row:
            w = frac * width
            cv.put(x + cv.px(0.05), y + cv.px(0.03), label, pt=small)
            vy = y + cv.px(0.03) + cv.lh(small)
            if isinstance(value, list):
                end = cv.lines(x + cv.px(0.08), vy, value, kind)
                tallest = max(tallest, end - y + cv.px(0.05))
            else:
                cv.put(x + cv.px(0.08), vy, value, kind, width=w - cv.px(0.15))
            x += w
        x = m
        for frac, *_ in row:
            cv.box(x, y, x + frac * width, y + tallest)
            x += frac * width
        y += tallest
    y += cv.lh()
    cv.put(m, y, rng.choice(PROSE), width=width)


def ruled_table(cv: Canvas, rng) -> None:
    m = cv.px(0.7)
    width = cv.w - 2 * m
    cv.put(m, m, rng.choice(["Tenant register - Block C", "Volunteer rota, spring term", "Clinic appointments"]),
           pt=cv.pt + 3, bold=True)
    y = m + 2 * cv.lh(cv.pt + 3)
    who = rng.choice(["Tenant", "Name", "Volunteer", "Patient", "Resident"])
    cols = [(who, 0.3), ("Unit", 0.1), ("Telephone", 0.25), ("Email", 0.35)]
    pt = cv.pt * 0.9
    rowh = cv.lh(pt) * 1.5
    x = m
    for head, frac in cols:
        cv.put(x + cv.px(0.05), y + 0.25 * rowh, head, pt=pt, bold=True)
        cv.box(x, y, x + frac * width, y + rowh)
        x += frac * width
    y += rowh
    for _ in range(int(rng.integers(5, 9))):
        p = Person(rng)
        cells = [(PERSON, p.name(rng.choice(["plain", "surname_first", "caps_surname"]))),
                 (None, f"{rng.choice(['A', 'B', 'C'])}{int(rng.integers(1, 40))}"), (PHONE, p.phone()),
                 (EMAIL, p.email())]
        x = m
        for (kind, value), (_, frac) in zip(cells, cols):
            cv.put(x + cv.px(0.05), y + 0.25 * rowh, value, kind, pt=pt)
            cv.box(x, y, x + frac * width, y + rowh)
            x += frac * width
        y += rowh
    y += cv.lh()
    cv.put(m, y, rng.choice(PROSE), width=width)
    y += 2 * cv.lh()
    boss = Person(rng)
    x, _ = cv.put(m, y, "Prepared by:")
    cv.put(x, y, boss.name(), PERSON)


def receipt(cv: Canvas, rng) -> None:
    pt = cv.pt
    width = cv.px(3.2)
    m = (cv.w - width) / 2
    y = cv.px(0.8)
    org = rng.choice(["CORNER HARDWARE", "CAFE LUMIERE", "PHARMACIE CENTRALE", "BUCHHANDLUNG AM MARKT"])
    cv.put(m + width * 0.15, y, org, bold=True)
    y += 1.5 * cv.lh()
    shop = Person(rng)
    cv.lines(m, y, shop.address(), None)  # a shop's address: printed on every receipt, not personal
    y += 4 * cv.lh()
    for _ in range(int(rng.integers(3, 7))):
        item = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        cv.put(m, y, item)
        cv.put(m + width * 0.8, y, f"{rng.uniform(1, 60):.2f}")
        y += cv.lh()
    cv.hline(m, m + width, y + 0.3 * cv.lh())
    y += cv.lh()
    cv.put(m, y, "TOTAL", bold=True)
    cv.put(m + width * 0.8, y, f"{rng.uniform(20, 200):.2f}", bold=True)
    y += 2 * cv.lh()
    p = Person(rng)
    x, _ = cv.put(m, y, rng.choice(["Card:", "VISA", "Mastercard"]))
    cv.put(x, y, _card(rng), CARD)
    y += cv.lh()
    x, _ = cv.put(m, y, rng.choice(["Cardholder:", "Customer:", "Member:"]))
    cv.put(x, y, p.name(rng.choice(["plain", "surname_first", "caps_surname"])), PERSON)
    y += cv.lh()
    x, _ = cv.put(m, y, "Served by")
    cv.put(x, y, Person(rng).given, PERSON)
    y += 2 * cv.lh()
    cv.put(m, y, "Thank you for shopping with us", width=width)
    del pt


def memo(cv: Canvas, rng) -> None:
    m = cv.px(0.9)
    width = cv.w - 2 * m
    org = ORGS[int(rng.integers(len(ORGS)))]
    cv.put(m, cv.px(0.4), org + " - internal", pt=cv.pt - 1)
    cv.hline(m, m + width, cv.px(0.4) + cv.lh(cv.pt - 1))
    y = cv.px(0.9)
    cv.put(m, y, "MEMORANDUM", pt=cv.pt + 5, bold=True)
    y += 2 * cv.lh(cv.pt + 5)
    to, frm, cc = Person(rng), Person(rng), Person(rng)
    for label, value, kind in (("To:", to.name(), PERSON), ("From:", frm.name(), PERSON),
                               ("Cc:", cc.name(rng.choice(["initial", "plain"])), PERSON),
                               ("Date:", "3 June 2025", None), ("Subject:", "Office move", None)):
        cv.put(m, y, label, bold=True)
        cv.put(m + cv.px(1.0), y, value, kind)
        y += cv.lh()
    cv.hline(m, m + width, y)
    y += cv.lh()
    x, y = cv.put(m, y, rng.choice(PROSE), width=width)
    y += 1.6 * cv.lh()
    guest = Person(rng)
    x, y = cv.put(m, y, "Our visitor", width=width)
    x, y = cv.put(x, y, guest.name(rng.choice(["plain", "honorific"])), PERSON, width=width - (x - m))
    x, y = cv.put(x, y, "will arrive on Tuesday; she may be reached on", width=m + width - x)
    x, y = cv.put(x if x < m + width * 0.7 else m, y if x < m + width * 0.7 else y + cv.lh(), guest.phone(), PHONE)
    y += 1.6 * cv.lh()
    x, y = cv.put(m, y, rng.choice(PROSE) + " " + rng.choice(PROSE), width=width)
    y += 1.6 * cv.lh()
    x, _ = cv.put(m, y, "New address of the records office contact,")
    y += cv.lh()
    cv.lines(m + cv.px(0.3), y, [Person(rng).name("plain")], PERSON)
    cv.lines(m + cv.px(0.3), y + cv.lh(), guest.address(), ADDRESS)
    # footer
    cv.hline(m, m + width, cv.h - cv.px(0.75))
    cv.put(m, cv.h - cv.px(0.7), f"{org} - page 1 of 1 - internal use only", pt=cv.pt - 2)


LAYOUT_FUNCS = {"two_column_letter": two_column_letter, "boxed_form": boxed_form, "ruled_table": ruled_table,
                "receipt": receipt, "memo": memo}


# ------------------------------------------------------------------------------------------------ render and scan
def _render(cv: Canvas):
    page = Image.new("L", (cv.w, cv.h), 255)
    draw = ImageDraw.Draw(page)
    lw = max(1, round(cv.dpi / 150))
    for x0, y0, x1, y1 in cv.rules:
        if y0 == y1:
            draw.line((x0, y0, x1, y1), fill=40, width=lw)
        else:
            draw.rectangle((x0, y0, x1, y1), outline=40, width=lw)
    ink = np.zeros((cv.h, cv.w), np.int32)
    words: list[SynthWord] = []
    line_ids: dict[int, int] = {}
    for x, y, t, k, font in cv.words:
        x, y = int(round(x)), int(round(y))
        x0, y0, x1, y1 = draw.textbbox((x, y), t, font=font)
        if x1 >= cv.w or y1 >= cv.h:
            continue
        j = len(words)
        words.append(SynthWord(t, (float(x0), float(y0), float(x1), float(y1)), k >= 0, k,
                               line_ids.setdefault(y, len(line_ids))))
        draw.text((x, y), t, fill=0, font=font)
        glyph = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(glyph).text((x - x0, y - y0), t, fill=255, font=font)
        sub = ink[y0:y1, x0:x1]
        sub[(np.asarray(glyph) >= INK)[: sub.shape[0], : sub.shape[1]]] = j + 1
    return np.asarray(page), ink, words


def scan(rng, grey: np.ndarray, ink: np.ndarray):
    """A scanner's pass: skew, blur, paper tone, noise, specks, JPEG. The ink map is turned with the page."""
    h, w = grey.shape
    angle = float(rng.uniform(-1.5, 1.5))
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    turned = cv2.warpAffine(grey, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    blur = float(rng.uniform(0, 0.8))
    if blur > 0.05:
        turned = cv2.GaussianBlur(turned, (0, 0), blur)
    contrast = rng.uniform(0.75, 1.0)  # a light scan: ink not quite black
    tone = rng.uniform(225, 250)
    page = tone - (255 - turned) * contrast * tone / 255 + rng.normal(0, rng.uniform(1.5, 6), turned.shape)
    specks = rng.random(turned.shape) < rng.uniform(0, 3e-4)
    page[specks] = rng.uniform(30, 90)
    tint = np.array([1.0, rng.uniform(0.97, 1.0), rng.uniform(0.92, 0.99)], np.float32)
    rgb = np.clip(page[..., None] * tint, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 88))])
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    ink_t = cv2.warpAffine(ink, M, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    return image, ink_t, M, angle


def _turn(box, M):
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ M.T
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _page(rng, grey, ink, words, items, dpi, kind, family, pt) -> SynthPage:
    image, ink_t, M, angle = scan(rng, grey, ink)
    words = [SynthWord(w.text, _turn(w.box, M), w.pii, w.item, w.line) for w in words]
    for it in items:
        it.words = []
    for j, w in enumerate(words):
        if w.item >= 0:
            items[w.item].words.append(j)
    keep = [n for n, it in enumerate(items) if it.words]
    renumber = {old: new for new, old in enumerate(keep)}
    for w in words:
        w.item = renumber.get(w.item, -1) if w.item >= 0 else -1
    items = [items[n] for n in keep]
    for it in items:
        it.boxes = [words[j].box for j in it.words]
    return SynthPage(image, image, items, words, ink_t, dpi, kind, family, pt, angle)


def generate_page_b(rng: np.random.Generator, layout: str | None = None, dpi: int | None = None) -> SynthPage:
    """One page of the second generator (layout, font, size and resolution drawn from ``rng``)."""
    layout = layout or LAYOUTS_B[int(rng.integers(len(LAYOUTS_B)))]
    fams = available_fonts()
    family = fams[int(rng.integers(len(fams)))]
    if layout == "receipt" and "nimbus-mono" in fams and rng.random() < 0.6:
        family = "nimbus-mono"
    dpi = dpi or int(rng.choice([200, 300]))
    pt = float(rng.choice([9, 10, 10, 11, 12]))
    cv = Canvas(rng, dpi, family, pt)
    LAYOUT_FUNCS[layout](cv, rng)
    grey, ink, words = _render(cv)
    return _page(rng, grey, ink, words, cv.items, dpi, layout, family, pt)


# ------------------------------------------------------------------------------------------------ real forms
FORM_FILES = ("pikepdf_form_210966.pdf", "pikepdf_form_dd0293.pdf")


def _field_kind(tip: str, name: str) -> str | None:
    """What a form field asks for, from its tooltip and name (None: something not personal)."""
    s = f"{tip} {name}".lower()
    if "social security" in s or "ssn" in s:
        return SSN
    if "birth" in s:
        return DATE_OF_BIRTH
    if "e-mail" in s or "email" in s:
        return EMAIL
    if "phone" in s:
        return PHONE
    if "address" in s or "city" in s or "zip" in s or "state or province" in s or "country" in s:
        return ADDRESS
    if "name" in s or "initial" in s:
        return PERSON
    return None


def _form_fields(path: Path, page_no: int):
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    page = reader.pages[page_no]
    out = []
    for a in page.get("/Annots") or []:
        a = a.get_object()
        if a.get("/Subtype") != "/Widget":
            continue
        parent = a.get("/Parent")
        parent = parent.get_object() if parent is not None else {}
        ft = a.get("/FT") or parent.get("/FT")
        if ft != "/Tx":
            continue
        name = str(a.get("/T") or parent.get("/T") or "")
        tip = str(a.get("/TU") or parent.get("/TU") or "")
        out.append((name, tip, [float(v) for v in a["/Rect"]]))
    return out, float(page.mediabox.height)


WORD_BBOX_RE = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _form_words(path: Path, page_no: int, dpi: int):
    """The form's own printed words with their boxes in pixels (poppler's pdftotext -bbox)."""
    xhtml = subprocess.run(["pdftotext", "-bbox", "-f", str(page_no + 1), "-l", str(page_no + 1), str(path), "-"],
                           capture_output=True, text=True, check=True).stdout
    s = dpi / 72
    return [(m.group(5), tuple(float(m.group(i)) * s for i in range(1, 5)))
            for m in WORD_BBOX_RE.finditer(xhtml)]


def _value_for(kind: str, name: str, tip: str, p: Person, rng, addr: list[str]) -> str:
    s = f"{name} {tip}".lower().replace("last 4", "last four")
    if kind == PERSON:
        field = name.lower()
        if "first" in field or "last" in field or "initial" in field:
            s = field
        if "initial" in s:
            return p.middle or "J"
        if "first" in s:
            return p.given.upper() if rng.random() < 0.5 else p.given
        if "last" in s:
            return p.family.upper() if rng.random() < 0.5 else p.family
        return p.name("plain")
    if kind == SSN:
        a, b, c = p.ssn().split("-")
        return a if "first three" in s else b if "middle two" in s or "second two" in s else c if "last four" in s \
            else f"{a}-{b}-{c}"
    if kind == DATE_OF_BIRTH:
        return f"{int(rng.integers(1, 13)):02d}" if "month" in s else f"{int(rng.integers(1, 29)):02d}" \
            if "day" in s else str(int(rng.integers(1940, 2000))) if "year" in s else p.dob()
    if kind == PHONE:
        if "international" in s:
            return p.phone() if p.c.code != "US" else ""
        digits = _fill(rng, "9999999999")
        return digits[:3] if "first three" in s else digits[3:6] if "second three" in s else digits[6:] \
            if "last four" in s else p.phone()
    if kind == EMAIL:
        return p.email() if "line 1" in s or "line" not in s else ""
    if kind == ADDRESS:
        if "apartment" in s or "unit" in s:
            return str(int(rng.integers(1, 40)))
        if "zip" in s and "last four" in s:
            return _fill(rng, "9999")
        if "zip" in s:
            return _fill(rng, "99999")
        if "city" in s:
            return addr[1].split(",")[0] if len(addr) > 1 else "Springfield"
        if "state" in s:
            return rng.choice(["AZ", "MN", "GA", "OR"])
        if "country" in s:
            return "US"
        return addr[0]
    return ""


def filled_form_page(rng: np.random.Generator, dpi: int = 200) -> SynthPage:
    """A real blank form (../shared/data/docs/pikepdf_form_*.pdf) filled in with one generated person per section
    (typewriter-style text in the fields' rectangles), printed to an image and scanned."""
    from pdf2image import convert_from_path

    path = DOCS / FORM_FILES[int(rng.integers(len(FORM_FILES)))]
    page_no = 0
    fields, page_h = _form_fields(path, page_no)
    blank = np.asarray(convert_from_path(str(path), dpi=dpi, first_page=1, last_page=1)[0].convert("L"))
    h, w = blank.shape
    fams = available_fonts()
    family = rng.choice([f for f in fams if "mono" in f] or fams)
    canvas = Image.fromarray(blank.copy())
    draw = ImageDraw.Draw(canvas)
    ink = np.zeros((h, w), np.int32)
    words: list[SynthWord] = []
    items: list[Item] = []
    s = dpi / 72
    people: dict[str, tuple[Person, list[str]]] = {}
    for name, tip, (x0, y0, x1, y1) in fields:
        kind = _field_kind(tip, name)
        section = "claimant" if "claimant" in (name + tip).lower() or y1 < page_h * 0.5 and "210966" in path.name \
            else "current" if "current" in tip.lower() else "main"
        if section not in people:
            p = Person(rng, COUNTRIES[0])
            people[section] = (p, p.address())
        p, addr = people[section]
        value = _value_for(kind, name, tip, p, rng, addr) if kind else rng.choice(["", "", "N/A", "X-" +
                                                                                      _fill(rng, "9999")])
        if not value:
            continue
        box_h = (y1 - y0) * s
        size = max(10, min(int(box_h * 0.8), int(11 * s)))
        font = ImageFont.truetype(FONT_FILES[family][0], size)
        px, py = x0 * s + 3, (page_h - y1) * s + max(0, (box_h - size) / 2)
        k = -1
        if kind:
            items.append(Item(kind, value))
            k = len(items) - 1
        line = len(words) + 100000
        for t in value.split():
            bx0, by0, bx1, by1 = draw.textbbox((px, py), t, font=font)
            j = len(words)
            words.append(SynthWord(t, (float(bx0), float(by0), float(bx1), float(by1)), k >= 0, k, line))
            draw.text((px, py), t, fill=0, font=font)
            glyph = Image.new("L", (int(bx1) - int(bx0), int(by1) - int(by0)), 0)
            ImageDraw.Draw(glyph).text((px - int(bx0), py - int(by0)), t, fill=255, font=font)
            sub = ink[int(by0):int(by1), int(bx0):int(bx1)]
            sub[(np.asarray(glyph) >= INK)[: sub.shape[0], : sub.shape[1]]] = j + 1
            px += font.getlength(t + " ")
    grey = np.asarray(canvas)
    # the form's own printed words are plain words: their ink is the dark pixels in their boxes
    for text, (bx0, by0, bx1, by1) in _form_words(path, page_no, dpi):
        j = len(words)
        sub = ink[int(by0):int(np.ceil(by1)), int(bx0):int(np.ceil(bx1))]
        dark = blank[int(by0):int(np.ceil(by1)), int(bx0):int(np.ceil(bx1))] < 128
        free = (sub == 0) & dark
        if not free.any():
            continue
        sub[free] = j + 1
        words.append(SynthWord(text, (bx0, by0, bx1, by1), False, -1, -1))
    return _page(rng, grey, ink, words, items, dpi, "real_form:" + path.stem.replace("pikepdf_form_", ""),
                 family, 11.0)
