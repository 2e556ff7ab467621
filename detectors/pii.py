"""Recognisers for personal data other than names, over a page's OCR'd text.

Emails and street addresses by pattern; phone numbers by Google's ``phonenumbers`` (international formats; a
number valid for its region or written like one, also across a line break after "(303)" or "+44") plus numbers
after a "Tel"/"Phone"/"Mobile" cue; US SSNs with the SSA's validity rules; payment cards only when the Luhn check
passes (groups of three or more digits, never part of a date) or after a card cue; IBANs when the ISO 13616 mod-97
checksum passes, or when the text has an IBAN's exact shape (country code, two check digits, the country's length
in groups of four: OCR misread a character), or after an "IBAN" cue; dates only when a birth cue ("DOB", "Date of
birth", "born") comes shortly before them (other dates are not personal data). The cells of a table column headed
Phone / Tel / Mobile, Email / E-mail or IBAN are taken as such even when OCR damaged them (a "+" glued to the cell
before, an "@" read as "g"). Numeric recognisers read the page's ``digits`` view, where OCR's O/0, l/1, S/5
confusions are undone.

presidio-analyzer is not used: its recognisers for these types are the same regular expressions and checksums
(with phonenumbers for phones), it runs a second spaCy pass per page, and it needs its online suffix-list fetch
switched off; writing the few checks here keeps one pass and no network path.
"""
from __future__ import annotations

import re
from typing import Callable

import phonenumbers

from detectors.addresses import HOUSE_LINE_RE, find_addresses  # other countries' shapes, whole address blocks
from detectors.fields import LABEL_RES  # (the captions of form fields, one list of them)
from detectors.pagetext import TO_DIGIT, PageText, Span
from redact.core.regions import ADDRESS, CARD, DATE_OF_BIRTH, EMAIL, IBAN, PHONE, SSN

# Larger numbers win where recognisers overlap (a card number is also a possible phone number).
PRIORITY = {CARD: 6, IBAN: 6, SSN: 5, EMAIL: 4, DATE_OF_BIRTH: 3, PHONE: 2, ADDRESS: 1}

# OCR reads "@" as "©", "®" or "(a)" and splits an address after a dot ("jane. doe@example. com"); a space is
# allowed around a dot of the local part, and before the last part of the domain when that is a common TLD
AT = r"(?:@|©|®|\(a\)|\(at\)|\[at\])"
TLDS = r"(?i:com|org|net|edu|gov|info|biz|io|co|uk|ca|au|nz|ie|de|fr|nl|ch|eu|se|dk|fi|pl|cz|jp|cn|br|mx|za)"
# (a wide gap before the "@" may break the line: "beatriz.gomes" / "@ mail.example.net"; no line starts with "@")
EMAIL_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_%+-]*(?:[ ]?\.[ ]?[A-Za-z0-9_%+-]+)*(?:[ ]?|[ ]*\n[ ]*){AT}[ ]?"
                      rf"[A-Za-z0-9-]+(?:[ ]?\.{{1,2}}[ ]?[A-Za-z0-9-]+)*(?:\.[A-Za-z]{{2,}}|[ ]?\.[ ]?{TLDS}\b)")
# an address cut before its top-level domain, which OCR put on a line of its own ("jane@example." ... "com")
EMAIL_HEAD_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_%+-]*(?:[ ]?\.[ ]?[A-Za-z0-9_%+-]+)*[ ]?{AT}[ ]?"
                           rf"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?(?=\s|$)")
SSN_RE = re.compile(r"(?<![\d-])(\d{3})((?:[ ]?[-.][ ]?|[ ])?)(\d{2})((?:[ ]?[-.][ ]?|[ ])?)(\d{4})(?![\d-])")
SSN_CUE = re.compile(r"\b(?:SSN|S\.S\.N\.?|social\s+security(?:\s+(?:no|number|#))?)\b", re.I)
# runs of digit groups; a "." or "," between groups of three or more digits is OCR's or the writer's ("6232.7735")
DIGIT_GROUPS_RE = re.compile(r"(?<![\d.,])\d+(?:(?:[ \n-]|[.,](?=\d{3}))\d+)*(?![\d.,]\d)")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \n]{0,2}[A-Z0-9]){10,30}")
IBAN_HEAD_RE = re.compile(r"\b([A-Z]{2})(\d[0-9OQDISBZ|@]|[OQDISBZ|@]\d)(?=[ \n]{0,2}[A-Z0-9]{4}[ \n]{1,2}[A-Z0-9]{4})")
IBAN_GROUPED_RE = re.compile(r"\b([A-Z]{2})\d{2}(?:[ \n]{1,2}[A-Z0-9]{4}){2,7}(?:[ \n]{1,2}[A-Z0-9]{1,4})?\b")
GROUP_PUNCT_RE = re.compile(r"(?<=[A-Z0-9]{4})[.,:;](?=[ \n]?[A-Z0-9]{1,4}\b)")
IBAN_HEADERS = frozenset({"iban"})
PHONE_HEADERS = frozenset({"phone", "phones", "tel", "telephone", "mobile", "cell", "fax", "contact number"})
EMAIL_HEADERS = frozenset({"email", "e-mail", "emails"})
WRITE_TO_RE = re.compile(r"\b(?:(?:write|reply|send)\s+(?:to|us\s+at)|(?:reach|contact|e-?mail)\s+(?:\w+\s+)?at)"
                         r"[ ]*\n?[ ]*", re.I)
LOST_AT_RE = re.compile(rf"(?:\S+[ ]?){{0,2}}\S*[A-Za-z0-9]\.{TLDS}\b[.,;]?(?=\s|$)")  # an address without "@"
EMAIL_CUE = re.compile(r"\be-?mail(?:\s+address)?\s*:[ ]*", re.I)
IBAN_CUE = re.compile(r"\bIBAN\b[^\w\n]{0,4}")
# after an IBAN cue the head may carry a character OCR added ("GBO06 WEST 8717 ...")
IBAN_CUED_SHAPE_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{2,3}(?:[ ]{0,2}[A-Z0-9]{4}){0,7}(?:[ ]{0,2}[A-Z0-9]{1,4})?\b")
IBAN_SHAPE_RE = re.compile(r"[A-Z]{2}\d{2}(?:[ ]{0,2}[A-Z0-9]{4}){1,7}(?:[ ]{0,2}[A-Z0-9]{1,4})?\b")  # groups of four
CARD_CUE = re.compile(r"\b(?:card|visa|master\s?card|amex|american\s+express|discover|credit|debit)\b"
                      r"(?:\s+(?:no\.?|number|num|#|on\s+file))?[^\w\n]{0,4}", re.I)
SPLIT_GAP = 0.2  # words closer than this many heights are one word OCR split
CUE_REACH = 60  # characters after a cue within which its value may come later in the sentence
CARD_SHAPE_RE = re.compile(r"\d{3,6}(?:[.,]?[ \n-]\d{3,6}){2,4}(?![\d])")  # OCR may add a "." after a group
LEADING_SLASH_RE = re.compile(r"(?<!\S)/(?=\d{3}(?![\d/]))")
SHORT_SLASHED_RE = re.compile(r"(?<!\S)(?=[\d/]{3,6}(?!\S))\d+/\d+(?!\S)")
PHONE_CUE = re.compile(r"\b(?:tel|telephone|phone|ph|mobile|mob|cell|fax|home|work|contact)\b\.?\s*(?:no\.?|number|#)?"
                       r"\s*[:.]?\s*", re.I)
# "+33 I 25 ...": OCR's I for 1; "+33: 195'36 30:77", "1°60 /6": stray marks OCR put between the groups
PHONE_AFTER_CUE = re.compile(r"[+£#]?\(?\d[\d ()./Il|:;'’,°*OSBG-]{5,18}\d")  # "G1" for 61, "O" for 0 ...
# a number written internationally: "+", a country code and groups, whatever stray marks OCR put between them
# ("+351 21 013: 3556")
INTL_PHONE_RE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .:;'’,()-]{1,3}\d{1,5}){2,6}(?![\d])")
LONE_AT_RE = re.compile(r"(?<=\d )@(?= \d)")  # an "@" alone between number groups: a 0
PHONE_GROUP_RE = re.compile(r"\d{1,4}[.,]?")  # a phone number's group the line broke off
# an IBAN's group the line broke off: with a digit, or a bank code of four letters before digits ("WEST 4081")
IBAN_GROUP_RE = re.compile(r"(?=[A-Z0-9]{0,3}\d)[A-Z0-9]{1,4}[.,]?|[A-Z]{4}(?=[ \n]{1,2}\d)")
DOB_CUE = re.compile(r"\b(?:D\.?O\.?B\.?|date[.,]?\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?|geb\.?)\s*[:.-]?",
                     re.I)
MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DATE_RE = re.compile(
    r"\b(?:\d{1,2}[/.-][ ]?\d{1,2}[/.-][ ]?\d{2,4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|\.)?\s+{MONTHS}(?:,\s*|\s+|(?<=\.))\d{{4}}"
    rf"|{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s*|\s+)\d{{4}})",
    re.I)
STREET_TYPES = (r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|way|terrace|ter"
                r"|close|crescent|cres|parkway|pkwy|circle|cir|highway|hwy|square|sq|row|mews|gardens|grove|hill"
                r"|trail|trl|alley|walk|loop|path|pike")
# the street type capitalised, as an address writes it ("4 Elm Close"; "Room 4. The library will close" is prose)
STREET_RE = re.compile(
    r"\b\d{1,6}[A-Za-z]?(?:-\d{1,4})?[.,]?[ ]+(?:[NSEW]\.?[ ]+)?(?:[A-Za-z][A-Za-z.'-]*[ ]+){0,4}"
    rf"(?=(?-i:[A-Z]))(?:{STREET_TYPES})\b\.?(?:,?[ ]+(?:apt|apartment|suite|ste|unit|flat|floor|fl|#)\.?\s*#?\s*[A-Za-z0-9-]+)?",
    re.I)
PO_BOX_RE = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I)
CITY_ZIP_RE = re.compile(r"\b[A-Z][A-Za-z.'-]*:?(?:[ ][A-Z][A-Za-z.'-]*){0,3}[,;]\.?\s*[A-Z]{2}\.?(?:,?\s+\.?|-)"
                         r"\d{5}(?:-\d{4})?\b")
UK_POSTCODE_RE = re.compile(r"\b(?:[A-Z][A-Za-z.'-]*(?:[ ][A-Z][A-Za-z.'-]*){0,2},?\s+)?"
                            r"(?:[A-Z]|0(?=[A-Z]))[A-Z]?\d[A-Z\d]?(?:\s|\.\s?)?\d[A-Z]{2}\b")  # "0X1": OCR's 0
IBAN_LENGTHS = {"AD": 24, "AT": 20, "BE": 16, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
                "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21,
                "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
                "SE": 24, "SI": 19, "SK": 24, "SM": 27}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    iban = "".join(iban.split()).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    want = IBAN_LENGTHS.get(iban[:2])
    if want is not None and len(iban) != want:
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _emails(page: PageText) -> list[Span]:
    text = page.text
    out = [_with_split_head(page, Span(m.start(), m.end(), EMAIL)) for m in EMAIL_RE.finditer(text)]
    heads = [m for m in EMAIL_HEAD_RE.finditer(text) if not any(s.start <= m.start() < s.end for s in out)]
    for start, end in [(s.start, s.end) for s in out] + [(m.start(), m.end()) for m in heads]:
        word_end = end
        while word_end < len(text) and not text[word_end].isspace():
            word_end += 1
        if not text[start:word_end].endswith("."):
            continue
        tail = page.beside(word_end - 1)  # the domain's end, beside the head on the same row but another line
        if tail is not None and re.fullmatch(rf"\.?{TLDS}[.,;]?", text[tail[0]:tail[1]]):
            out += [Span(start, end, EMAIL, 0.9), Span(tail[0], tail[1], EMAIL, 0.9)]
    for cue in WRITE_TO_RE.finditer(page.text):  # "write to ANDREW. THOMPSONGEXAMPLE.NET": OCR lost the "@"
        m = LOST_AT_RE.match(text, cue.end())
        if m and "@" not in m.group() and not any(s.start < m.end() and m.start() < s.end for s in out):
            out.append(Span(m.start(), m.end() - len(m.group()) + len(m.group().rstrip(".,;")), EMAIL, 0.7))
    for cue in EMAIL_CUE.finditer(page.text):  # after "Email:", the rest of the line if it has an "@"
        for start in _after(page, cue):
            end = page.line_of(start)[1] if start < len(text) else start
            value = text[start:end]
            if re.search(AT, value) and len(value.split()) <= 6 and not any(s.start <= start < s.end for s in out):
                out.append(Span(start, end, EMAIL, 0.9))
    for cell in _column(page, EMAIL_HEADERS):  # a table column of addresses: every cell with an "@" or a dot, or
        # one OCR garbled (all of it unsure)
        spans = _cell_spans(page, cell, EMAIL, 0.8)
        value = " ".join(text[s.start:s.end] for s in spans)
        if len(cell) <= 5 and (re.search(rf"{AT}|\w\.\w|\.\s?{TLDS}$", value) and sum(c.isalnum() for c in value) >= 5
                               or page.unsure(cell)):
            out += spans
    return out


def _with_split_head(page: PageText, span: Span) -> Span:
    """``span`` from the start of the word before it when OCR split one word in two there, their boxes touching
    ("ame Lie.duboismartin@exampLe.co.uk": no space's width between them)."""
    first = page.word_at[span.start]
    if first < 0 or page.word_start[first] != span.start or span.start < 2 or page.text[span.start - 1] != " ":
        return span
    prev = page.word_at[span.start - 2]
    a, b = page.words[prev].box, page.words[first].box
    if re.fullmatch(r"[A-Za-z0-9._%+-]+", page.words[prev].text) and b[0] - a[2] < SPLIT_GAP * (b[3] - b[1]):
        return Span(page.word_start[prev], span.end, span.kind, span.score)
    return span


def _ssns(page: PageText) -> list[Span]:
    """123-45-6789 (one separator twice) within the SSA's rules; after an SSN cue any 3-2-4 digits (OCR may have
    misread a digit or a separator), a bare run of nine included."""
    out = []
    for m in SSN_RE.finditer(page.digits):
        area, sep1, group, sep2, serial = m.groups()
        sep1, sep2 = sep1.strip() or sep1, sep2.strip() or sep2
        cue = SSN_CUE.search(page.text, max(0, m.start() - 40), m.start())
        if cue and any(c.isdigit() for c in page.text[cue.end():m.start()]):
            cue = None  # the cue is another number's
        if cue or (sep1 and sep1 == sep2 and ssn_ok(area, group, serial)):
            out.append(Span(m.start(), m.end(), SSN, 1.0 if cue else 0.8))
    return out


def _after(page: PageText, cue: re.Match) -> list[int]:
    """Where a value after a cue may start: right after it, and the word to its right when OCR read the value
    as a line of its own (a form's value beside its label)."""
    last = cue.end() - 1 - (len(cue.group()) - len(cue.group().rstrip()))
    starts = [cue.end()]
    nxt = cue.end() + len(page.text[cue.end():]) - len(page.text[cue.end():].lstrip())
    if nxt < len(page.text) and page.word_at[last] >= 0 and page.word_at[nxt] >= 0 \
            and page.words[page.word_at[nxt]].line == page.words[page.word_at[last]].line:
        starts.append(nxt)  # the same OCR line, past a wide gap
    beside = page.right_of(last)
    if beside is not None:
        starts.append(beside)
    return starts


def _continued(page: PageText, view: str, span: Span, group: re.Pattern, room: int,
               complete: Callable[[str], bool]) -> list[Span]:
    """``span`` (a value after a cue) and the groups that continue it where OCR or the layout broke it off: the
    word beside its end on the same visual row that OCR put in another text line, and the first word of the next
    line when the value ended its line ("TEL. +1 602 268" / "7252"), each followed by the groups after it on its
    line. Each continuation is a word matching ``group``; at most ``room`` more characters are taken, and none
    once the value is ``complete``."""
    out = [span]
    end = home = span.end  # the value's end, and its end on its own run of text lines
    on_home = True  # whether the last group taken lies on that run (not beside it)
    while room > 0 and not complete(" ".join(view[p.start:p.end] for p in out)):
        line_end, home_end = page.line_of(end - 1)[1], page.line_of(home - 1)[1]
        beside = page.right_of(end - 1)
        if end < line_end and view[end] == " " and len(out) > 1:
            nxt = end + 1  # the next group on the line a continuation started
        elif beside is not None and page.text[end:line_end].strip() == "" and page.word_at[beside] >= 0 \
                and page.words[page.word_at[beside]].box[0] - page.words[page.word_at[end - 1]].box[2] \
                < 3 * _height(page, end - 1):
            nxt, on_home = beside, False
        elif page.text[home:home_end].strip() == "" and home_end < len(page.text):
            nxt, on_home = home_end + 1, True  # the first word of the line after the value's own
        else:
            break
        stop = _group_end(view, nxt, group)
        if stop is None:
            break
        out.append(Span(nxt, stop, span.kind, span.score))
        room -= stop - nxt
        end = stop
        if on_home:
            home = stop
    return out


def _group_end(view: str, pos: int, group: re.Pattern) -> int | None:
    """The end of the ``group`` that is the whole word at ``pos`` (a trailing "." or "," left out), or None."""
    m = group.match(view, pos)
    if not m or (m.end() < len(view) and not view[m.end()].isspace()):
        return None
    return pos + len(m.group().rstrip(".,"))


def _iban_complete(value: str) -> bool:
    value = "".join(value.split())
    return len(value) >= IBAN_LENGTHS.get(value[:2], 34)


def _phone_complete(value: str) -> bool:
    """A number that is already a valid phone number for its own country (or the US/UK when written without one)."""
    digits = re.sub(r"[^\d+]", "", value.translate(TO_DIGIT))
    for region in ("US", "GB"):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return True
        except phonenumbers.NumberParseException:
            pass
    return False


def _height(page: PageText, pos: int) -> float:
    box = page.words[page.word_at[pos]].box
    return max(1.0, box[3] - box[1])


def _sevens(view: str) -> str:
    """``view`` with "/" read as "7" inside short number groups ("54/2", "7/051"): a common OCR confusion in
    grouped card and account numbers (dates keep theirs: they have two slashes or more than six characters)."""
    view = SHORT_SLASHED_RE.sub(lambda m: m.group().replace("/", "7"), view)
    return LEADING_SLASH_RE.sub("7", view)  # "/841": a group's first 7


def _cards(page: PageText) -> list[Span]:
    """Runs of 13-19 digits (in groups of three or more, dates aside) that pass the Luhn check; every run of
    groups is tried, since a card number may follow other digits (an IBAN on the line before). After a card cue
    ("Card number:", "Visa"), card-shaped groups go without the check: OCR may have misread a digit."""
    out = []
    view = _sevens(page.digits)
    for cue in CARD_CUE.finditer(page.text):
        starts = _after(page, cue)
        later = CARD_SHAPE_RE.search(view, cue.end(), min(len(view), cue.end() + CUE_REACH))
        if later and not re.search(r"[.!?]\s+[A-Z]", page.text[cue.end():later.start()]):
            starts.append(later.start())  # later in the same sentence: "card number we hold for you is 3727 ..."
        for start in starts:
            m = CARD_SHAPE_RE.match(view, start)
            if m and 12 <= sum(c.isdigit() for c in m.group()) <= 20:
                out.append(Span(m.start(), m.end(), CARD, 0.7))
    view = DATE_RE.sub(lambda m: "x" * len(m.group()), view)  # a date is never part of a card number
    for run in DIGIT_GROUPS_RE.finditer(view):
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in re.finditer(r"\d+", run.group())]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                if groups[j][1] - groups[j][0] < 3:
                    break  # card numbers come in groups of three to six digits, or none
                digits += view[groups[j][0]:groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_ok(digits) and len(set(digits)) > 1:
                    out.append(Span(groups[i][0], groups[j][1], CARD))
    return out


def _iban_view(page: PageText) -> str:
    """The page's text in capitals, as IBANs need it read: number groups in the ``digits`` view (with "/" read as
    "7"), the two check digits after a country code with O/0, S/5 ... undone, and a full stop or comma that OCR
    put between two groups read as a space (same length as the text)."""
    view = list(_sevens(page.digits).upper())
    upper = list(page.text.upper())
    for m in GROUP_PUNCT_RE.finditer("".join(upper)):
        view[m.start()] = upper[m.start()] = " "
    for m in re.finditer(r"(?<![\w.])@(?=\d)|(?<=\d)@(?!\w)", "".join(upper)):
        view[m.start()] = "0"  # OCR's "@" for a zero in a number group ("5435 @1")
    for m in IBAN_HEAD_RE.finditer("".join(upper)):
        if m.group(1) in IBAN_LENGTHS:
            view[m.start():m.end()] = m.group(1) + m.group(2).translate(TO_DIGIT).replace("@", "0")
    return "".join(view)


def _ibans(page: PageText) -> list[Span]:
    """IBANs whose checksum holds; IBAN-shaped text (a country code, two check digits and the country's length in
    groups of four) whose checksum fails because OCR misread a character; and after an "IBAN" cue or under an
    IBAN column header, IBAN-shaped text of any length."""
    view = _iban_view(page)
    out = _checked_ibans(view)
    for m in IBAN_GROUPED_RE.finditer(view):
        if any(s.start < m.end() and m.start() < s.end for s in out):
            continue
        want = IBAN_LENGTHS.get(m.group(1))
        length = 4
        for g in re.finditer(r"[A-Z0-9]+", view[m.start() + 4:m.end()]):
            length += len(g.group())
            if length == want:
                out.append(Span(m.start(), m.start() + 4 + g.end(), IBAN, 0.8))
                break
    starts = [start for cue in IBAN_CUE.finditer(page.text.upper()) for start in _after(page, cue)]
    starts += [min(page.word_start[j] for j in cell) for cell in _column(page, IBAN_HEADERS) if len(cell) <= 9]
    for start in starts:
        m = IBAN_CUED_SHAPE_RE.match(view, start)
        if m and not any(s.start < m.end() and m.start() < s.end for s in out):
            groups = list(re.finditer(r"\S+", m.group()))
            while groups and not any(c.isdigit() for c in groups[-1].group()):
                groups.pop()  # the words after the number
            length = sum(len(g.group()) for g in groups)
            if groups and length <= 34:  # a value the line broke off is continued before its length is judged
                parts = _continued(page, view, Span(m.start(), m.start() + groups[-1].end(), IBAN, 0.7),
                                   IBAN_GROUP_RE, 34 - length, _iban_complete)
                if 15 <= sum(len("".join(view[p.start:p.end].split())) for p in parts) <= 34:
                    out += parts
    return out


def _checked_ibans(view: str) -> list[Span]:
    out = []
    for m in IBAN_RE.finditer(view):
        text = m.group()
        # the pattern is greedy (it may run into the next word): the longest prefix that checks out is the IBAN
        # (and holds digits: every IBAN's account number has many; "TH15 FORM YOUR ..." is no IBAN by chance)
        for end in range(len(text), 14, -1):
            if not text[end - 1].isspace() and sum(c.isdigit() for c in text[4:end]) >= 8 and iban_ok(text[:end]):
                out.append(Span(m.start(), m.start() + end, IBAN))
                break
    return out


def _column(page: PageText, headers: frozenset[str]) -> list[list[int]]:
    """The cells (word indices) of every table column whose header is one of ``headers`` (lower case)."""
    return [cell for h, w in enumerate(page.words) if w.text.strip(".:;,").lower() in headers
            for cell in page.column_under(h) if cell]


def _cell_spans(page: PageText, cell: list[int], kind: str, score: float) -> list[Span]:
    """One span per word of a table cell (a cell's words need not be neighbours in the page's text)."""
    return [Span(page.word_start[j], page.word_start[j] + len(page.words[j].text), kind, score) for j in cell]


def _phones(page: PageText) -> list[Span]:
    out = []
    text = LONE_AT_RE.sub("0", page.digits)  # ("+358 @ 110 4605": OCR's "@" for a group's 0)
    one_line = text.replace("\n", " ")  # also a number the line broke ("(303)" / "431-7144")
    for view, region in [(v, r) for v in (text, one_line) for r in ("US", "GB")]:
        for match in phonenumbers.PhoneNumberMatcher(view, region, leniency=phonenumbers.Leniency.POSSIBLE):
            raw = re.sub(r"\D", "", match.raw_string)
            # a bare run of digits is an invoice or account number as often as a phone: those need a cue
            formatted = bool(re.search(r"[+()]|\d[ .-]+\d", match.raw_string))
            head = text[match.start:match.end].split("\n")[0]
            if view is one_line and (head == match.raw_string or not re.match(r"[+(]", head)
                                     or _phone_complete(head)):
                continue  # across a line break only a number that starts "+" or "(" and is not whole yet
            # a number valid for its region, or one written the way phone numbers are ("80186 16 bit" is not)
            phone_like = phonenumbers.is_valid_number(match.number) or re.search(r"[+()]|(?<!\d)\d{3}[-.]\d{4}",
                                                                                 match.raw_string)
            if 7 <= len(raw) <= 15 and formatted and phone_like and not DATE_RE.fullmatch(match.raw_string):
                out.append(Span(match.start, match.end, PHONE, 0.9))
    for m in INTL_PHONE_RE.finditer(text):
        if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
            out.append(Span(m.start(), m.end(), PHONE, 0.8))
    for cue in PHONE_CUE.finditer(page.text):
        for start in _after(page, cue):  # right after the cue, or the value beside a form label
            m = PHONE_AFTER_CUE.match(text, start)
            if not m:
                if cue.group().rstrip().endswith(":"):  # a form's "Phone:" label: its value, however OCR read it
                    value = text[start:page.line_of(start)[1]]
                    if len(value.split()) <= 6 and sum(c.isdigit() for c in value) >= 3 and not re.search(AT, value):
                        out.append(Span(start, start + len(value.rstrip()), PHONE, 0.6))
                continue
            parts = _continued(page, text, Span(m.start(), m.end(), PHONE), PHONE_GROUP_RE, 6, _phone_complete)
            if 7 <= sum(c.isdigit() or c in "Il|OSBG" for p in parts for c in text[p.start:p.end]) <= 15:
                out += parts
    for cell in _column(page, PHONE_HEADERS):  # a table column of phone numbers: every cell of 7-15 digits, or
        spans = _cell_spans(page, cell, PHONE, 0.8)  # one OCR garbled ("ool Bal jis} 2G.)", all of it unsure, as
        value = "".join(text[s.start:s.end] for s in spans)  # long as a phone number)
        if len(cell) <= 7 and (7 <= sum(c.isdigit() for c in value) <= 20
                               and sum(c.isdigit() for c in value) > sum(c.isalpha() for c in value)
                               or page.unsure(cell) and 7 <= sum(c.isalnum() for c in value) <= 20):
            out += spans
    return out


def _dates_of_birth(page: PageText) -> list[Span]:
    out = []
    for cue in DOB_CUE.finditer(page.text):
        # the date follows within a short distance: same line, or the next line under a form label
        m = DATE_RE.search(page.digits, cue.end(), min(len(page.text), cue.end() + 60))
        beside = page.right_of(cue.end() - 1) if cue.group().strip() else None
        if beside is not None:  # a form value to the right of its label
            m = DATE_RE.match(page.digits, beside) or m
        if m:
            out.append(Span(m.start(), m.end(), DATE_OF_BIRTH))
    return out


def _addresses(page: PageText) -> list[Span]:
    out = [Span(m.start(), m.end(), ADDRESS) for m in STREET_RE.finditer(page.text)]
    out += [Span(m.start(), m.end(), ADDRESS) for m in PO_BOX_RE.finditer(page.text)]
    # the city line of an address: "Springfield, IL 62704", or a UK postcode line
    cities = [m for view in (page.text, page.digits, _sevens(page.digits)) for m in CITY_ZIP_RE.finditer(view)]
    out += [Span(m.start(), m.end(), ADDRESS, 0.9) for m in cities]
    out += [Span(m.start(), m.end(), ADDRESS, 0.8) for m in UK_POSTCODE_RE.finditer(page.text)
            if any(c.isdigit() for c in m.group())]
    # the city line under a street line, even when OCR garbled its postcode ("Leeds LS] 4Dy")
    for m in STREET_RE.finditer(page.text):
        end = page.line_of(m.end() - 1)[1]
        if end < len(page.text):
            below = page.line_of(end + 1)
            line = page.text[below[0]:below[1]]
            if re.match(r"[A-Z][a-z]", line) and len(line.split()) <= 4 and ":" not in line \
                    and any(c.isdigit() for c in line):
                # (past a form's caption starting the line: "Apt/Unit Number 13" is the caption's field)
                caption = LABEL_RES[ADDRESS].match(page.text, below[0], below[1])
                rest = line[caption.end() - below[0]:] if caption else line
                start = below[1] - len(rest.lstrip())
                out.append(Span(start, below[1], ADDRESS, 0.7))
    # the street line above a city line, even when OCR garbled its street type ("16076 Birch Ser.")
    for m in cities:
        start = page.line_of(m.start())[0]
        if start > 0:
            above = page.line_of(start - 1)
            line = page.text[above[0]:above[1]]
            if HOUSE_LINE_RE.match(line) and len(line.split()) <= 6:
                out.append(Span(above[0], above[1], ADDRESS, 0.7))
    return out + find_addresses(page, out)


RECOGNISERS = (_emails, _ssns, _cards, _ibans, _phones, _dates_of_birth, _addresses)


def find_pii(page: PageText) -> list[Span]:
    """Every span of personal data (other than names) on the page, overlaps resolved by ``PRIORITY``."""
    spans = [s for rec in RECOGNISERS for s in rec(page) if s.end > s.start]
    spans.sort(key=lambda s: (-PRIORITY[s.kind], s.start))
    kept: list[Span] = []
    for s in spans:
        overlapping = [k for k in kept if k.start < s.end and s.start < k.end]
        if not overlapping:
            kept.append(s)
        elif all(k.start <= s.start and s.end <= k.end for k in overlapping):
            continue  # wholly inside a stronger match
        else:  # partly outside a stronger match: keep the part that sticks out (it is masked either way)
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)
