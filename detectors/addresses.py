"""Street addresses of many countries in a page's text, without a label: street lines, postcode lines, blocks.

``detectors.pii`` finds US/UK shapes ("12 Oak Street", "Springfield, IL 62704", "LS1 4DY"); this stage adds:

- street lines where the street type is a suffix and the number follows (DE, NL, Nordic: "Goethestrasse 12a",
  "Keizersgracht 123", "Storgatan 12", "Mannerheimintie 12 B 7", "Karl Johans gate 22"), or the type comes first
  (FR, BE, ES, IT, PT, PL, MY: "12 bis, boulevard Voltaire", "Rue Royale 124", "Calle de Alcala, 23",
  "Via Garibaldi, 12", "ul. Marszalkowska 12/4", "Jalan Ampang");
- postcode lines in each country's shape ("75011 Paris", "1015 CJ Amsterdam", "00-950 Warszawa", "1250-096 Lisboa",
  "114 55 Stockholm", "Montreal QC H2X 1Y4", "Fitzroy VIC 3065", "Co. Dublin D02 X285": an Eircode), taken when
  they stand on a short line of their own next to a street line or under one, or under a house line (a house
  or flat number and a capitalised word: "Unit 25, 24 Esplanade", a street of a type no list holds);
- the whole block: the short lines of an address block (left-aligned, one under another) around a street or
  postcode line, a country name closing it included, so that a flat number or a town OCR garbled goes too.
"""
from __future__ import annotations

import re

from detectors.pagetext import PageText, Span
from redact.core.regions import ADDRESS

SUFFIX_TYPES = (r"stra(?:ss|ß)e|str\.|gasse|weg|allee|platz|ring|damm|ufer|gracht|straat|laan|plein|kade|singel"
                r"|dijk|gatan|v[äa]gen|gata|gate|gaten|veien|vei|vej|vejen|gade|all[ée]|katu|tie|kuja|polku")
PREFIX_TYPES = (r"(?i:rue|avenue|av\.|bd\.?|boulevard|all[ée]e|impasse|chemin|place|quai|route|cours|calle|c/|avenida"
                r"|avda\.?|plaza|paseo|carrer|camino|via|viale|piazza|corso|largo|vicolo|rua|travessa|pra[çc]a"
                r"|estrada|ul\.|al\.|os\.|pl\.|jalan|jln\.?|lorong|am|an\s+der|im|kerkstraat)")
# a street's name after its type: capitalised words, particles between ("de la Paix", "dos Santos", "Victor-Hugo");
# "take place in Room 4" is no street
STREET_NAME = (r"(?:(?i:de|da|das|do|dos|del|della|dei|des|du|la|le|les|l['’]|d['’]|van|von|der)[ ]+){0,2}"
               r"[A-ZÄÖÜÅØÆ\d][\w'’.-]*"
               r"(?:[ ]+(?:(?i:de|da|do|dos|del|la|le|des|du)[ ]+)?[A-ZÄÖÜÅØÆ][\w'’.-]*){0,3}")
NUMBER = r"\d{1,4}\s?[a-zA-Z]?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?)?"
SUFFIX_STREET_RE = re.compile(
    rf"\b(?:[A-ZÄÖÜÅØÆ][\w'’.-]*[ ]+){{0,2}}[\w'’-]*(?:{SUFFIX_TYPES})(?:\b|(?<=\.))\.?,?[ ]+{NUMBER}"
    rf"(?:,?[ ]+(?:[A-Z][ ]?\d{{1,3}}|\d{{1,2}}\.?[ ]?(?:tv|th|mf|sal)\.?|lgh\.?[ ]?\d+|bus[ ]\d+))?", re.I)
PREFIX_STREET_RE = re.compile(
    rf"\b{NUMBER}(?:[ ]?(?:bis|ter))?,?[ ]+(?:{PREFIX_TYPES})[ ]+{STREET_NAME}"  # 12 rue de la Paix
    rf"|\b(?:{PREFIX_TYPES})[ ]+{STREET_NAME},?[ ]+{NUMBER}"  # Via Garibaldi, 12
    rf"(?:,[ ]*\d{{1,2}}[ ]?[ºo°]?[ ]?\w{{0,4}}\.?)?")
POSTCODE_LINE_RE = re.compile(
    r"^(?:\d{5}|\d{4}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}\s\d{2}|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}-\d{4,5})\s+"
    r"[A-ZÄÖÜÅØÆ][\w'’.-]+(?:\s+[\w'’.-]+){0,3}$"  # postcode first: most of Europe
    r"|^[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,2},?\s+(?:[A-Z]{2,3}\s+)?"
    r"(?:\d{4,5}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4})$"  # town then code
    r"|^(?:Co\.\s+)?[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)?,?\s+[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}$")
POSTCODE_TOKEN_RE = re.compile(r"\b(?:\d{4,5}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ ]\d{2}|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}"
                               r"|[A-Z]\d[A-Z][ ]?\d[A-Z]\d|[AC-FHKNPRTV-Y]\d{2}[ ]?[AC-FHKNPRTV-Y0-9]{4})\b")
MONEY_RE = re.compile(r"\d[.,]\d{2}\b|[$€£]")
HOUSE_LINE_RE = re.compile(r"\d{1,6}[A-Za-z]?[.,]?[ ]+[A-Z][A-Za-z'-]+")  # "1876 Birch ..." (a house number)
UNIT_LINE_RE = re.compile(r"(?i:flat|apt\.?|apartment|unit|suite|building|bldg\.?|floor|level|c/o|no\.)[ ]*\d")
COUNTRIES = frozenset("""usa|us|united states|united states of america|canada|uk|united kingdom|great britain|ireland
|eire|australia|france|deutschland|germany|netherlands|the netherlands|nederland|belgium|belgique|belgie|spain|espana
|italy|italia|portugal|poland|polska|sweden|sverige|norway|norge|denmark|danmark|finland|suomi|malaysia|austria
|osterreich|switzerland|schweiz|suisse""".replace("\n", "").split("|"))
TOWN_LINE_RE = re.compile(r"[A-Z][\w'’.-]+(?:[ -][A-Z][\w'’.-]+){0,2}")  # "Norwich", "Milton Keynes"
BLOCK_LINES = 3  # lines of a block taken above and below an address line
BLOCK_WORDS = 7  # a block line has at most this many words


def _lines(page: PageText) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in page.text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _left(page: PageText, start: int) -> tuple[float, float, float]:
    """Left x, top and bottom of the text line starting at ``start``."""
    idx = [i for i in page.words_in(start, page.line_of(start)[1]) if i >= 0]
    if not idx:
        return (0.0, 0.0, 0.0)
    return (min(page.words[i].box[0] for i in idx), min(page.words[i].box[1] for i in idx),
            max(page.words[i].box[3] for i in idx))


def _country_line(text: str) -> bool:
    return text.strip(" .,").lower() in COUNTRIES


def find_addresses(page: PageText, known: list[Span] = ()) -> list[Span]:
    """Street and postcode lines of the shapes above, and the blocks around them and around ``known`` address
    spans (the US/UK shapes found before)."""
    text = page.text
    out = [Span(m.start(), m.end(), ADDRESS, 0.8) for rx in (SUFFIX_STREET_RE, PREFIX_STREET_RE)
           for m in rx.finditer(text) if any(c.isdigit() for c in m.group()) or m.group().lower().startswith("jalan")]
    out = [s for s in out if len(text[s.start:s.end].split()) >= 2]
    lines = _lines(page)
    street_lines = {k for k, (a, b) in enumerate(lines) if any(a <= s.start < b for s in out + list(known))}
    # (in the digits view: a postcode OCR read with a letter for a digit, "Q8159 Torino TO")
    post_lines = {k for k, (a, b) in enumerate(lines) if POSTCODE_LINE_RE.match(page.digits[a:b].strip())}
    # a postcode line under a house line ("Unit 25, 24 Esplanade" / "Fremantle WA 6436"): a street of any type
    houses = {k - 1 for k in post_lines if k > 0 and _house_above(page, lines, k)}
    anchors = street_lines | houses | {k for k in post_lines if {k - 1, k - 2, k + 1} & (street_lines | houses)}
    for k in sorted(anchors):
        a, b = lines[k]
        start = _past_caption(text, a, b)
        if page.word_at[start] >= 0 and page.caption_blob(page.word_at[start]):  # ("eae" for "No. &" / "Street")
            start = page.word_start[page.word_at[start]] + len(page.words[page.word_at[start]].text) + 1
        out.append(Span(start, b, ADDRESS, 0.8))
        out += _block(page, lines, k)
    return out


def _past_caption(text: str, a: int, b: int) -> int:
    """Where the address on the line [a, b) starts: past a form's caption before it on the line ("STREET 227 Old
    Mill Lane", "Address: 12 Rue Royale", "Apt/Unit Number 13"), a caption being in capitals, ending in a colon, or
    of several words or parts (no street's or town's name: "Apt/Unit Number", "Home address")."""
    from detectors.fields import LABEL_RES  # (fields' captions, the one list of them)

    m = LABEL_RES[ADDRESS].match(text, a, b)
    if m and (m.group(1).isupper() or text[m.end():m.end() + 1] == ":" or len(re.split(r"[\s/]+", m.group(1))) >= 2):
        rest = re.match(r"[:.\s]*", text[m.end():b])
        if m.end() + rest.end() < b:
            return m.end() + rest.end()
    return a


def _house_above(page: PageText, lines, k: int) -> bool:
    """Whether the line just above line ``k`` is a house line (a house number or a flat's, then a capitalised
    word: a street whatever its type) of a few words, aligned with it as the lines of one address block are."""
    a, b = lines[k - 1]
    line = page.text[a:b].strip()
    if not (HOUSE_LINE_RE.match(line) or UNIT_LINE_RE.match(line)) or len(line.split()) > 6 or ":" in line:
        return False
    x, top, bottom = _left(page, lines[k][0])
    ax, atop, abottom = _left(page, a)
    height = max(1.0, bottom - top)
    return abs(ax - x) <= 1.0 * height and -0.5 * height <= top - abottom <= 1.0 * height


def _postcode_or_country(page: PageText, a: int, b: int) -> bool:
    line = page.text[a:b]
    return _country_line(line) or POSTCODE_LINE_RE.match(page.digits[a:b].strip()) is not None \
        or (POSTCODE_TOKEN_RE.search(line) is not None and not MONEY_RE.search(line))


def _block(page: PageText, lines, k: int) -> list[Span]:
    """The short lines aligned with line ``k`` just above and under it: the rest of its address block."""
    text = page.text
    x, top, bottom = _left(page, lines[k][0])
    height = max(1.0, bottom - top)
    out = []
    for step in (1, -1):
        prev_top, prev_bottom = top, bottom
        for n in range(1, BLOCK_LINES + 1):
            j = k + step * n
            if not 0 <= j < len(lines):
                break
            a, b = lines[j]
            line = text[a:b]
            lx, ltop, lbottom = _left(page, a)
            gap = ltop - prev_bottom if step == 1 else prev_top - lbottom
            if not line.strip() or abs(lx - x) > 1.0 * height or gap > 1.0 * height or gap < -0.5 * height \
                    or len(line.split()) > BLOCK_WORDS or "@" in line or ":" in line:
                break
            if step == -1 and not UNIT_LINE_RE.match(line.strip()):
                break  # above a street line only a flat's or building's line ("Flat 3", "Apt 5, ..."): not a name
            if step == 1 and not (_postcode_or_country(page, a, b) or (
                    TOWN_LINE_RE.fullmatch(line.strip()) and j + 1 < len(lines)
                    and _postcode_or_country(page, *lines[j + 1]) and abs(_left(page, lines[j + 1][0])[0] - x)
                    <= 1.0 * height)):
                break  # under it: a postcode line or the country ("Total 1,262.35" is none), or a town's name
                # with one of them under it (a UK address: "Norwich" / "PR2 3DM")
            out.append(Span(a, b, ADDRESS, 0.7))
            prev_top, prev_bottom = ltop, lbottom
    return out
