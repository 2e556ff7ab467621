"""Label-driven fields: the value of a form field whose label names personal data is removed whole.

A label naming a person ("Name", "Patient name", "Tenant", "Signed by", "Nom", "Nachname", "Apellidos" ...), an
address ("Home address", "Street", "City", "ZIP Code", "Adresse", "Indirizzo", "Kod pocztowy" ...), a phone, an
email, a social security number or a date of birth marks a field; its value is taken whole, whatever its shape
("Surname, Firstname", initials, lower case, particles, digits split over boxes), up to the field's end:

- where it is: after the label on its text line (a label ending in ":" or standing alone), else the words to the
  label's right on its visual row, else the first row under the label starting below it (a boxed form's value
  under its small caption); an address goes on over the rows under its first one, aligned with it;
- where it ends: the end of the row (``PageText`` already breaks a row at a wide gap: a cell border), the next
  label, or, for a name, a word that cannot be part of one (digits, an "@"); for a number, a word with letters;
- over boxes: box borders OCR reads as "|", "[" or "~" are passed over, and a dash carries a number on past the empty
  boxes of its comb to the next box (an SSN, phone or date in three combs, a ZIP code and its +4).

A table column headed by such a label ("Tenant", "Address", "Telephone") has every cell taken the same way.
Each span carries its field's kind, so the audit labels each region.
"""
from __future__ import annotations

import re

import numpy as np

from detectors.pagetext import TO_DIGIT, UNSURE_CONF, PageText, Span, edit_distance
from redact.core.regions import ADDRESS, DATE_OF_BIRTH, EMAIL, PERSON, PHONE, SSN

_OWNER = r"(?:[a-z]+['’]s[.,]?\s+)?"  # "Veteran's name", "Claimant's last name" (a stray mark OCR added after it)
PERSON_LABELS = (
    rf"{_OWNER}(?:full\s+|first\s+|last\s+|family\s+|given\s+|middle\s+|maiden\s+|birth\s+|current\s+|legal\s+)?"
    r"names?(?:\s+of\s+(?:applicant|patient|tenant|holder|account\s+holder|cardholder|deceased|employee|student))?"
    r"|surname|forenames?|given\s+names?|first\s+names?(?:\(s\))?|patient(?:\s+name)?|applicant|co-applicant"
    r"|tenant|landlord|cardholder|card\s+holder|account\s+holder|policy\s*holder|insured|beneficiary|claimant"
    r"|guardian|next\s+of\s+kin|spouse|witness|addressee|recipient|contact\s+person|attn\.?|attention"
    r"|signed\s+by|declared\s+by|signature(?:\s+of\s+[a-z]+)?|printed\s+name|customer|client|member|employee"
    r"|student|resident|guest|cashier|served\s+by|prepared\s+by|approved\s+by|issued\s+to|to|from|cc"
    # other languages: FR, DE, NL, ES, IT, PT, PL, the Nordic ones
    r"|nom(?:\s+de\s+famille)?|pr[ée]noms?|nom\s+et\s+pr[ée]nom|vorname|nachname|familienname|name,\s*vorname"
    r"|naam|voornaam|voornamen|achternaam|nombre(?:\s+y\s+apellidos)?|apellidos?|nome|cognome|apelidos?"
    r"|imi[ęe]|nazwisko|imi[ęe]\s+i\s+nazwisko|navn|fornavn|etternavn|efternavn|namn|f[öo]rnamn|efternamn"
    r"|nimi|etunimi|sukunimi"
    r"|last|first|middle(?:\s+initial)?")  # a name field's part captions ("LAST  Okafor", "FIRST  Latisha")
ADDRESS_LABELS = (
    r"(?<!mail\s)(?<!mail-)(?:home\s+|postal\s+|mailing\s+|permanent\s+|residential\s+|current\s+|billing\s+"
    r"|delivery\s+|street\s+"
    r"|correspondence\s+|previous\s+)?address|street|no\.?\s*&\s*street"
    r"|no\.\s*(?:[&8®](?=\s*$|\s*\n)|[&®]|8(?=[ ]+\d))"  # "No. &" over "Street" (OCR: "No.®", "No.8 39 Elm St")
    r"|number\s+and\s+street|city|town"
    r"|state/province|province|county|post\s*code|postal\s*code|zip[.,]?(?:\s+code)?(?:/posta[li]\s*code)?"
    r"|apt[.,\-]?/unit\s+number|eircode|country(?:/[a-z]+)?|state(?:/[a-z]+)?"
    r"|adresse|anschrift|stra(?:ß|ss)e|plz|wohnort|adres|woonplaats|direcci[óo]n|domicilio|c[óo]digo\s+postal"
    r"|indirizzo|cap|citt[àa]|morada|ulica|kod\s+pocztowy|miejscowo[śs][ćc]|adress|postnummer|postnr|osoite"
    r"|postinumero")
PHONE_LABELS = (r"(?:international\s+)?(?:tele)?phone(?:[\s.]+number)?|tel\.?|mobile|cell|fax|t[ée]l[ée]phone|telefon"
                r"|handy|tel[ée]fono|telefone|telem[óo]vel|puhelin")
EMAIL_LABELS = r"e-?mail(?:\s+address)?|courriel"
SSN_LABELS = r"social\s+security(?:\s+(?:number|no\.?))?|ssn(?:\s+while\s+serving)?"
DOB_LABELS = (r"date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|geburtsdatum|date\s+de\s+naissance|fecha\s+de\s+nacimiento"
              r"|data\s+di\s+nascita|data\s+de\s+nascimento|data\s+urodzenia|f[öo]delsedatum|f[øo]dselsdato")
FIELD_KINDS = ((PERSON, PERSON_LABELS), (ADDRESS, ADDRESS_LABELS), (PHONE, PHONE_LABELS), (EMAIL, EMAIL_LABELS),
               (SSN, SSN_LABELS), (DATE_OF_BIRTH, DOB_LABELS))
# labels that name data only when they end in ":" ("to" and "from" are common words)
COLON_RE = re.compile(r"\s*(?:\([^)]*\)\s*)?[:;]")  # a colon after a label (a parenthetical between)
NEEDS_COLON = frozenset("to from cc attention member client customer student employee guest resident cap".split())
LABEL_RES = {kind: re.compile(rf"(?<![\w'’])(?:\d{{1,2}}[a-z]?\.[ ]*)?({_OWNER}(?:{labels}))(?!\w|['’]\w)", re.I)
             for kind, labels in FIELD_KINDS}
# what may stand beside a label on its line and still leave it a label: numbering, a parenthetical, a colon
# (an item number may be read with a dash: "17-" for "17.")
# (a box's border before a caption: "[LAST")
LABEL_NOISE_RE = re.compile(r"\([^)\d]*\)?|\d{1,2}[a-z]?[.,\-–]|[:;|_\-–.,*'‘’\"“”\[\]]+|\s+")
# a field's value is as sure as a label rule's (names.py): below NER's 0.85, so that a common word in a value ("ATTN:
# Naval Discharge") is not looked for on every page as a name
FIELD_SCORE = 0.8
NUMBER_KINDS = frozenset((PHONE, SSN, DATE_OF_BIRTH))
SHAPED_KINDS = NUMBER_KINDS | {EMAIL}  # kinds whose values have a shape (``_value_ok``) a stray word lacks
MAX_HELD = 2  # garbled words (OCR unsure of them) a number's value may hold between its digits
MAX_WORDS = {PERSON: 6, ADDRESS: 10, PHONE: 8, EMAIL: 3, SSN: 7, DATE_OF_BIRTH: 7}
ADDRESS_ROWS = 4
REREAD_CONF = UNSURE_CONF  # a word OCR was unsure of, in a field's value, is read again on its own
REREAD_ROWS = 4.5  # ... on a label's row to its right or within this many text heights under it
REREAD_MAX = 16  # at most this many words a page (one small tesseract call)
REREAD_KINDS = frozenset((PERSON, SSN, DATE_OF_BIRTH, PHONE))  # fields whose values OCR garbles between boxes
MAX_RIGHT_GAP = 12.0  # a value to a label's right starts within this many label heights of it
BELOW = 8.0  # a value under a label starts within this many label heights under it (a form's boxes, a row of
# check boxes between a caption and its value)
SET_APART = 1.2  # a gap wider than this many heights after a label sets its value apart (no colon needed)
ROW_PITCH_BREAK = 1.8  # a column ends where its next cell is this many row pitches below the last
CELL_GAP = 2.5  # a name's or an address's value ends at a gap wider than this many heights (a cell border)
ZIP_GAP = 10.0  # a ZIP code's +4 starts within this many heights of its five digits (a form's comb of nine)
GAP_STOP = 6.5  # a number's value (phone, SSN, date) ends at a gap wider than this many heights (the next cell)
# a label for a whole address (its value may run over several lines), not for one part of it (City, ZIP Code)
WHOLE_ADDRESS_RE = re.compile(r"(?i)addres|adress|anschrift|indirizzo|direcci|morada|osoite|domicilio")
# a form's item number, as OCR may misread it ("ba." for "5a.", a digit doubled)
ITEM_NUMBER_RE = re.compile(r"^\s*[\dA-Za-z]{1,2}[.,]{1,2}\s*$|^\s*\d{3}[.,]{1,2}\s*$")  # ("141.." for "11.")
# a box border or a separator between the boxes of one field ("|", "—", "[", "_"): passed over inside a value
SEPARATOR_RE = re.compile(r"[-–—=~|_\[\]()!:.\\/+]+")
BORDER_EDGE_RE = re.compile(r"^[\\|/\[\]]+|[\\|/\[\]]+$")  # a box border on a word's edge
DASH_RE = re.compile(r"[-–—=~_]+")  # a split field's dash ("ZIP 55802 — 1234", "SSN 123 - 45 - 6789")
DASH_LEAD_RE = re.compile(r"[-–—=~_]+[|\[]?\d")  # the dash read with the next box's number ("—|1901")
GLYPH_BAR = 0.45  # a bar or bracket this many text heights wide holds a glyph: OCR's "|" for a 1 ("| 9" for 19)
FLAT = 0.4  # a mark no taller than this share of the value's height is a dash, whatever OCR read ("ay" for "—")
# one-word captions as OCR may garble them by one letter ("ciy" for "City"): taken where one starts its text line
FUZZY_CAPTIONS = {ADDRESS: ("city", "town", "street", "county", "country", "state"), PERSON: ("name", "surname"),
                  PHONE: ("phone",), EMAIL: ("email",)}
# part captions whose first letter a box's border may take, leaving a mark in its place ("‘AST", "|IRST")
LOST_FIRST = {PERSON: ("last", "first", "middle")}
CAPS_DOT_RE = re.compile(r"(?<=[A-Z]{2})\.(?=[A-Z]{2})")  # a dot between words in capitals, no space
# a check box as OCR reads it: "[_]", "[-]", "[]", '["]FIDUCIARY' (its option glued to it)
CHECK_BOX_RE = re.compile(r"[\[(][^A-Za-z0-9\s]{0,2}[\])]")
LABEL_LIKE_RE = re.compile(r"[A-Za-z][a-z]+:$")  # a word ending in ":" is another field's label ("Co:" for "Cc:")
NUMBERED_RE = re.compile(r"\d{1,2}[a-z]?\.\s+[A-Z]")  # "3. HAVE YOU ...": the next numbered item of a form
OTHER_LABEL_RE = re.compile(r"(?i)^(?:date|signature|sex|gender|ref\.?|no\.?|number|total|amount|title|occupation"
                            r"|nationality|relationship|reason|subject|unit|qty|price|description)[:.]?$")


def _word_ok(kind: str, word: str) -> bool:
    """Whether ``word`` can be part of a value of ``kind`` (a value ends at the first word that cannot)."""
    letters = sum(c.isalpha() for c in word)
    digits = sum(c.isdigit() for c in word)
    if kind == PERSON:
        word = BORDER_EDGE_RE.sub("", word)  # a box border read on the word's edge: "\\Nguyen", "Okafor|"
        return letters > 0 and digits == 0 and not re.search(r"[@\\/|{}<>=]", word)  # ("F\\RST": a caption)
    if kind in (PHONE, SSN, DATE_OF_BIRTH):
        if kind == DATE_OF_BIRTH and re.fullmatch(r"(?i)[a-z]{3,9}\.?,?", word):
            return True  # a month's name
        return (_numeric([word]) or SEPARATOR_RE.fullmatch(word) is not None  # ("Sls": OCR's 515)
                or word.lower() in ("ext", "ext.", "x"))
    return True


def _glyph(word: str, kind: str) -> bool:
    """Whether ``word`` holds a letter or a digit (in a value that may hold digits, OCR's "©" or "&" for a round
    digit counts; before a name it is a box's border), not only marks."""
    return any(c.isalnum() or (c in "©&" and kind != PERSON) for c in word)


def _same_row(a, b) -> bool:
    """Whether boxes ``a`` and ``b`` overlap vertically by more than half the lower one's height; a flat mark (a
    dash between a comb's boxes, set low) when its middle lies within the other's height."""
    ha, hb = a[3] - a[1], b[3] - b[1]
    if min(ha, hb) < FLAT * max(ha, hb):
        flat, other = (a, b) if ha < hb else (b, a)
        return other[1] <= (flat[1] + flat[3]) / 2 <= other[3] + 0.25 * (other[3] - other[1])
    return min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(ha, hb)


def _numeric(words) -> bool:
    """Whether a value's words are a number (more digits than letters, OCR's O for 0 undone): one a form may
    split over boxes."""
    text = "".join(words).translate(TO_DIGIT)
    digits = sum(c.isdigit() for c in text)
    return digits > 0 and digits >= sum(c.isalpha() for c in text)


def _value_ok(kind: str, text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    if kind == PERSON:
        return sum(c.isalpha() for c in text) >= 1
    if kind == ADDRESS:  # (an apartment number: "1", OCR's "Q" for 9, "|" for 1)
        return sum(c.isalnum() for c in text.translate(TO_DIGIT)) >= 1
    if kind == EMAIL:
        return "@" in text or re.search(r"\w\.\w", text) is not None
    if kind == PHONE:  # (or a comb's first box read clean, the rest garbled: "972 —pl2e")
        return digits >= 6 or (digits >= 3 and text.split()[0].strip("|[(").isdigit())
    digits = sum(c.isdigit() for c in text.translate(TO_DIGIT))  # (a comb's 0s read as O: "174 OO OLE")
    if kind == SSN:
        return digits >= 4
    return digits >= 2


class FieldFinder:
    """The values of labelled fields on one page."""

    def __init__(self, page: PageText, kinds: frozenset[str]):
        self.page = page
        self.kinds = kinds
        self.labels: list[tuple[str, int, int]] = []  # kind, start, end in page.text
        captions = CAPS_DOT_RE.sub(" ", page.letters)  # (a dot OCR put between a caption's words: "OF.BIRTH")
        for kind, rx in LABEL_RES.items():
            for m in rx.finditer(captions):  # (OCR's confusions undone: "F\\RST" for FIRST)
                if m.group(1).split()[-1].strip(".").lower() in NEEDS_COLON and not COLON_RE.match(page.text, m.end()):
                    continue  # "to", "from" ... without a colon: a common word, no caption (a value's "tO)")
                if self._check_box_option(m.start()):
                    continue
                self.labels.append((kind, m.start(), m.end()))
        self.labels += self._garbled_captions()
        self.label_words = {i for _, a, b in self.labels for i in page.words_in(a, b)}
        self.right_limit = float("inf")  # where the value of the label at hand must end (a table's next column)
        heights = [w.box[3] - w.box[1] for w in page.words if sum(c.isalnum() for c in w.text) >= 2]
        self.text_height = float(np.median(heights)) if heights else float("inf")  # the page's usual word height

    def _check_box_option(self, start: int) -> bool:
        """Whether the label at ``start`` is one option of a row of check boxes ("[spouse [-] CHILD [_] OTHER"): a
        check box right before it (glued to it, "[spouse", or the word before it, "[_] SPOUSE") and another
        check box elsewhere on its line. A box's bracket before a caption with no other box on its line ("[LAST")
        leaves it a caption."""
        page = self.page
        i = page.word_at[start]
        if i < 0:
            return False
        # (OCR's own line: the text line breaks at the wide gaps between a row's options)
        line = sorted((j for j, w in enumerate(page.words) if w.line == page.words[i].line),
                      key=lambda j: page.words[j].box[0])
        boxes = [j for j in line if CHECK_BOX_RE.match(page.words[j].text)]
        before = line[:line.index(i)]
        ticked = (page.word_start[i] < start and set(page.text[page.word_start[i]:start]) == {"["}) or (
            bool(before) and CHECK_BOX_RE.fullmatch(page.words[before[-1]].text) is not None)
        return ticked and any(j != i and (not before or j != before[-1]) for j in boxes)

    def _garbled_captions(self) -> list[tuple[str, int, int]]:
        """One-word captions OCR misread by a letter ("ciy" for "City"), where the word starts its text line (a
        form's caption; ``_value_start`` still wants its value set apart) and no label regex took it."""
        page, out = self.page, []
        taken = {i for _, a, b in self.labels for i in page.words_in(a, b)}
        for i, w in enumerate(page.words):
            word = w.text.strip(".:;'’‘").lower()  # (a quote OCR added: "ciy’")
            a = page.line_of(page.word_start[i])[0]
            if i in taken or len(word) < 3 or LABEL_NOISE_RE.sub("", page.text[a:page.word_start[i]]):
                continue
            kind = next((k for k, caps in FUZZY_CAPTIONS.items() for c in caps
                         if word[0] == c[0] and word != c and edit_distance(word, c, 1) <= 1), None)
            core = w.text.rstrip(".:;'’")  # its first letter lost to a box's border: "‘AST" (or "‘AST.") for LAST
            lost = core.lstrip("‘’'`|\\[(").lower()
            if kind is None and lost != core.lower():
                kind = next((k for k, caps in LOST_FIRST.items() for c in caps if lost == c[1:]), None)
            if kind is None and lost.isalpha() and core.lstrip("‘’'`|\\[(").isupper() and len(lost) >= 4:
                # ... or misread as another capital ("EAST", "(CAST" for LAST): the rest of it whole
                kind = next((k for k, caps in LOST_FIRST.items() for c in caps if lost[1:] == c[1:]), None)
            if kind is not None:
                out.append((kind, page.word_start[i], page.word_start[i] + len(w.text)))
        return out

    def spans(self) -> list[Span]:
        out: list[Span] = []
        for kind, start, end in self.labels:
            if kind not in self.kinds:
                continue
            self.right_limit = float("inf")
            value = self._value_start(kind, start, end)
            if value is None:
                continue
            caption = self.page.text[slice(*self.page.line_of(start))]
            whole_row = re.search(r"\([^)]*,[^)]*\)", caption) is not None  # "(First, Middle Initial, Last)"
            whole_address = kind == ADDRESS and WHOLE_ADDRESS_RE.search(self.page.text[start:end]) is not None
            taken = self._take(kind, value, multi_row=whole_address, whole_row=whole_row)
            if not taken and kind in SHAPED_KINDS:  # what follows the caption on its row is no value of its
                below = self._below(start, end)  # shape (a check box's "[7]", its text): the row under it
                if below is not None and below != value and not self._caption_line(self.page.word_start[below[0]]):
                    taken = self._take(kind, below, multi_row=whole_address)
            out += taken
        out += self._columns()
        return out

    def _value_start(self, kind: str, start: int, end: int) -> list[int] | None:
        """The word the value starts with, or None when this is no field label: a label starts its line (after
        a number such as "7." or other captions) and ends in ":", or stands alone, or is set apart from what
        follows on its line by more than a word space ("City      Duluth") or by its case (a caption in capitals,
        "ADDRESS Tucson"); "Name of the scheme" is a heading, "the tenant's" prose."""
        page, text = self.page, self.page.text
        line_end = page.line_of(end - 1)[1]  # (a label may run over a line break: "No. &" / "Street")
        line_start = page.line_of(start)[0]
        before = text[line_start:start]
        for _, a, b in self.labels:  # other captions before it on its line: a compound caption ("NAME ... FIRST")
            if line_start <= a and b <= start:
                before = before[:a - line_start] + " " * (b - a) + before[b - line_start:]
        after = text[end:line_end]
        colon = COLON_RE.match(after) is not None
        # a caption after other words on its line stands apart from them (a form's part caption beside the
        # field's own caption: "3. NAME WHILE   LAST   Castillo"); its value must then stand apart too
        apart = False
        if LABEL_NOISE_RE.sub("", ITEM_NUMBER_RE.sub("", before)) and not colon:
            if not self._apart_before(start):
                return None
            apart = True
        label = text[start:end].strip().lower()
        if label.split()[-1].strip(".") in NEEDS_COLON and not colon:
            return None
        # (a quote OCR added after the caption, a box's border before the value)
        rest = re.sub(r"^['’‘“”\"!]?\s*(?:\([^)]*\)\s*)*[:;]?\s*(?:[|_.—–\-\[\]]+\s+)*", "", after)
        bars = [i for i in page.words_in(end, line_end - len(rest)) if self._glyph_bar(kind, i)]
        if bars:  # (not a border: a digit OCR read as a bar, "Apt./Unit Number | 9" for 19)
            rest = text[page.word_start[bars[0]]:line_end]
        # (a number alone after an address's or a number's caption is its value, not an item number: "Apt. 3.")
        lone = (kind == ADDRESS or kind in NUMBER_KINDS) and re.fullmatch(r"\d{1,2}[.,]", rest.strip()) is not None
        if bars or lone or LABEL_NOISE_RE.sub("", rest):  # something follows the label on its line
            pos = line_end - len(rest)
            if page.word_at[pos] < 0 or page.word_at[pos] in self.label_words:
                return None  # (another caption follows: its value is its own)
            if label.endswith(" by") and not colon and not re.sub(r"^[^\w]+", "", text[pos:line_end])[:1].isupper():
                return None  # "Prepared by the office team": prose, not a name (a mark before the name aside:
                # "served by «Theo")
            value = page.words[page.word_at[pos]].text
            # a caption in capitals before a value that is not; a number after its caption ("Apt. No. |2", OCR's
            # box border before the 2)
            core = value.strip("|[]_")
            number = (_numeric([core]) and any(c.isdigit() for c in core)) or (len(core) == 1 and _glyph(core, kind)) \
                or bool(bars)
            caps_caption = (text[start:end].isupper() and not value.isupper()) or number
            # (a caption set over two lines is a form's, no prose's: "No. &" / "Street  eRe")
            marked = colon or label.endswith(" by") or caps_caption or "\n" in text[start:end]
            if self._gap(end - 1, pos) >= SET_APART or (marked and not apart):
                return [page.word_at[pos]]
            return None
        nxt = self._next_on_ocr_line(end - 1)
        if nxt is not None and self._beside_label(end - 1, page.word_start[nxt]):
            return [nxt]
        right = page.right_of(end - 1)
        if right is not None and self._beside_label(end - 1, right):
            return [page.word_at[right]]
        straddle = self._straddling(start, end)
        if straddle is not None:
            return [straddle]
        if apart:
            return None  # (a caption among other words takes only the value beside it)
        below = self._below(start, end)
        if below is None or self._caption_line(page.word_start[below[0]]):
            return None  # an empty field: what lies under it is the next caption or heading, not its value
        return below

    def _glyph_bar(self, kind: str, i: int) -> bool:
        """Whether word ``i`` is a bar or bracket as wide as a digit (OCR's "|" for a 1, "|]" for 11), not a box's
        border, in a value that may hold digits."""
        w = self.page.words[i]
        return (kind in NUMBER_KINDS or kind == ADDRESS) and re.fullmatch(r"[|\[\]!]+", w.text) is not None \
            and w.box[2] - w.box[0] >= GLYPH_BAR * self.text_height

    def _straddling(self, start: int, end: int) -> int | None:
        """The word to the right of a caption set over two lines ("No. &" / "Street"), whose value box stands
        level with the pair, lower than its first line: the nearest word right of it whose box spans the
        caption's bottom edge (a line of text under the caption starts below that edge)."""
        page = self.page
        idx = page.words_in(start, end)
        x1 = max(page.words[i].box[2] for i in idx)
        y0 = min(page.words[i].box[1] for i in idx)
        y1 = max(page.words[i].box[3] for i in idx)
        h = max(1.0, y1 - y0)
        near = [j for j, w in enumerate(page.words) if j not in self.label_words and w.box[0] > x1
                and w.box[0] - x1 < MAX_RIGHT_GAP * h and w.box[1] > y0 and w.box[1] <= y1 <= w.box[3]
                and any(c.isalnum() for c in w.text)]
        best = min(near, key=lambda j: page.words[j].box[0], default=None)
        x0 = min(page.words[i].box[0] for i in idx)
        # the caption's own second line ("Street" under "No. &"), which OCR may read with the value's first word
        own = {a for _, a, _ in self.labels if a not in range(start, end)
               and x0 - h <= page.words[page.word_at[a]].box[0] <= x1
               and y1 - 0.5 * h <= page.words[page.word_at[a]].box[1] <= y1 + h}
        if best is None or not self._beside_label(page.word_start[idx[-1]], page.word_start[best], own):
            return None
        return best

    def _apart_before(self, start: int) -> bool:
        """Whether the label at ``start`` has words before it on its text line, the nearest of them more than
        ``SET_APART`` text heights away."""
        page = self.page
        i = page.word_at[start]
        k = page.order.index(i)
        if k == 0 or page.text[page.word_start[i] - 1] == "\n":
            return False
        # (a box's border OCR read as a mark between them is no word: "3.NAME WHILE  .  LAST  Brennan")
        while k > 1 and not any(c.isalnum() for c in page.words[page.order[k - 1]].text) \
                and page.text[page.word_start[page.order[k - 1]] - 1] != "\n":
            k -= 1
        prev = page.words[page.order[k - 1]].box
        box = page.words[i].box
        return (box[0] - prev[2]) / max(1.0, min(box[3] - box[1], self.text_height)) >= SET_APART

    def _caption_line(self, pos: int, own=frozenset()) -> bool:
        """Whether the text line at ``pos`` is a caption or a heading: it holds a field label (other than those
        starting at ``own``), or starts with an item number or "Section" (a blank form's next field, not a value)."""
        a, b = self.page.line_of(pos)
        return (any(a <= s < b and s not in own for _, s, _ in self.labels)
                or NUMBERED_RE.match(self.page.text[a:b]) is not None
                or re.match(r"(?i)section\b", self.page.text[a:b]) is not None)

    def _next_on_ocr_line(self, pos: int) -> int | None:
        """The word after the one at ``pos`` on the same OCR line, past a gap so wide that the page's text put it
        on a line of its own (a memo's "To:      Name")."""
        page = self.page
        i = page.word_at[pos]
        k = page.order.index(i)
        if k + 1 < len(page.order) and page.words[page.order[k + 1]].line == page.words[i].line:
            nxt = page.order[k + 1]
            if page.text[page.word_start[nxt] - 1] == "\n":  # (a word after a plain space is the label's own)
                return nxt
        return None

    def _gap(self, a: int, b: int) -> float:
        """The gap between the words at text positions ``a`` and ``b``, in heights of the first or of the page's
        text, the smaller (a caption's box OCR made taller with a box border it read with it)."""
        page = self.page
        wa, wb = page.words[page.word_at[a]].box, page.words[page.word_at[b]].box
        return (wb[0] - wa[2]) / max(1.0, min(wa[3] - wa[1], self.text_height))

    def _beside_label(self, last: int, right: int, own=frozenset()) -> bool:
        """Whether the word at ``right`` (to the right of the label's last character) is its value: near it, and
        not another field's label or numbered heading ("3. HAVE YOU EVER FILED ...")."""
        page = self.page
        a, b = page.words[page.word_at[last]].box, page.words[page.word_at[right]].box
        h = max(1.0, a[3] - a[1])
        line = page.text[right:page.line_of(right)[1]]
        return (b[0] - a[2] < MAX_RIGHT_GAP * h and page.word_at[right] not in self.label_words
                and not NUMBERED_RE.match(line) and not self._caption_line(right, own))

    def _below(self, start: int, end: int) -> list[int] | None:
        """The first word of the row under a label, starting under it."""
        page = self.page
        idx = page.words_in(start, end)
        x0 = min(page.words[i].box[0] for i in idx)
        x1 = max(page.words[i].box[2] for i in idx)
        y1 = max(page.words[i].box[3] for i in idx)
        h = max(page.words[i].box[3] - page.words[i].box[1] for i in idx)
        line_start = page.line_of(start)[0]
        if not LABEL_NOISE_RE.sub("", page.text[line_start:start]):  # the caption's item number ("10."): its left
            x0 = min([x0] + [page.words[i].box[0] for i in page.words_in(line_start, start)])  # edge is the box's
        under = [j for j, w in enumerate(page.words) if j not in idx and any(c.isalnum() for c in w.text)
                 and y1 - 0.3 * h <= w.box[1] <= y1 + BELOW * h and x0 - 2.0 * h <= w.box[0] <= max(x1, x0 + 4 * h)]
        # the leftmost word of the first row under it (the first of a split value's boxes: "513 - 19 - 0170"),
        # a row being the words beside the topmost one (whose box a comb's border OCR read with it made taller)
        top = min(under, key=lambda j: page.words[j].box[1], default=None)
        first_row = [j for j in under if _same_row(page.words[j].box, page.words[top].box)]
        best = min(first_row, key=lambda j: page.words[j].box[0], default=None)
        if best is None or best in self.label_words or NUMBERED_RE.match(page.text[page.word_start[best]:]) \
                or LABEL_LIKE_RE.match(page.words[best].text):
            return None
        y0 = min(page.words[i].box[1] for i in idx)
        own_line = page.line_of(start)  # (the caption's own words after the label: "(Include Area Code)")
        beside = [w.box[0] for j, w in enumerate(page.words) if j not in idx and w.box[0] > x1
                  and not own_line[0] <= page.word_start[j] < own_line[1]
                  and min(w.box[3], y1) - max(w.box[1], y0) > 0.5 * min(h, w.box[3] - w.box[1])]
        self.right_limit = min(beside, default=float("inf"))  # the next caption on the label's row: the cell's end
        return [best]

    def _row_from(self, first: int) -> list[int]:
        """The words of ``first``'s visual row from it rightwards, in order: each beside the one before it (so
        the row follows a skewed scan's slope)."""
        page = self.page
        b = page.words[first].box
        h = b[3] - b[1]
        near = sorted((j for j, w in enumerate(page.words) if w.box[0] >= b[0] - 0.3 * h and j != first
                       and abs((w.box[1] + w.box[3]) - (b[1] + b[3])) < 3 * h), key=lambda j: page.words[j].box[0])
        row = [first]
        for j in near:
            if _same_row(page.words[j].box, page.words[row[-1]].box) or _same_row(page.words[j].box, b):
                row.append(j)
        return sorted(row, key=lambda j: page.words[j].box[0])

    def _take(self, kind: str, first: list[int], multi_row: bool, whole_row: bool = False) -> list[Span]:
        """The value from word ``first[0]`` rightwards to the field's end (and, for ``multi_row``, the rows
        under it); past a cell break (a gap wider than ``CELL_GAP`` heights; ``GAP_STOP`` for numbers, whose
        digits a form spreads over boxes) only when ``whole_row`` (a caption naming several parts)."""
        page = self.page
        rows, out = 0, []
        start = first[0]
        x_left = page.words[start].box[0]
        while start is not None and rows < (ADDRESS_ROWS if multi_row else 1):
            taken, held, prev = [], [], None
            for j in self._row_from(start):
                prev = prev if prev is not None else page.words[start].box
                word = page.words[j].text
                # a box border, or a mark with no letter or digit ("§", "‘"): passed over
                separator = (SEPARATOR_RE.fullmatch(word) is not None or not _glyph(word, kind)) \
                    and not self._glyph_bar(kind, j)
                bad = not (separator or _word_ok(kind, word) or self._glyph_bar(kind, j))
                wb = page.words[j].box
                if j in self.label_words and j != start and wb[0] < prev[2] - 0.3 * (wb[3] - wb[1]):
                    continue  # a caption's word stacked over the value's first word, not after it ("No. &")
                ref = max((page.words[t].box[3] - page.words[t].box[1] for t in taken + held), default=0.0)
                # a dash, whatever OCR read ("ay", "sas:" for "—"); a name has none (its first word may be one OCR
                # made taller with a box's border: "eS oe")
                flat = kind != PERSON and ref > 0 and wb[3] - wb[1] < FLAT * ref
                if j in self.label_words or (not flat and (OTHER_LABEL_RE.match(word) or LABEL_LIKE_RE.match(word))) \
                        or len(taken) >= MAX_WORDS[kind]:
                    break
                # a number's box OCR garbled into letters ("280 ae chi =I2Z617", its first box too: "kesh) = 09"):
                # held, and taken if more of the number follows in the field
                garble = page.words[j].conf < REREAD_CONF or sum(c.isalnum() for c in word) <= 2  # ("EL" for 01;
                if bad and not flat and not (kind in NUMBER_KINDS and len(held) < MAX_HELD and garble):  # "and" is
                    break  # no garble)
                if not whole_row and wb[0] > self.right_limit - 0.3 * (wb[3] - wb[1]):
                    break  # under the next column's caption
                dash = flat or DASH_RE.fullmatch(word) is not None or DASH_LEAD_RE.match(word) is not None
                if separator and not dash:
                    continue  # a box border or stray mark: passed over, wherever it lies
                number = _numeric(page.words[t].text for t in taken)
                if (taken or held) and not whole_row:
                    # a number's digits (and a ZIP code's: an address value that is a number so far) a form
                    # spreads over boxes: the wider gap
                    limit = GAP_STOP if kind in NUMBER_KINDS or (kind == ADDRESS and number) else CELL_GAP
                    zip5 = re.sub(r"\W", "", "".join(page.words[t].text for t in taken).translate(TO_DIGIT))
                    if kind == ADDRESS and re.fullmatch(r"\d{5}", zip5):
                        limit = ZIP_GAP  # a ZIP code's +4, past its comb's empty boxes and a dash OCR garbled
                    if wb[0] - prev[2] > limit * max(1.0, ref) and not (dash and number):
                        break  # the next cell (but a dash carries a number on to its next box: ZIP + 4)
                prev = wb
                if bad and not flat:
                    held.append(j)
                elif not (separator or flat):
                    taken += held + [j]
                    held = []
            # a number's last boxes garbled too ("972 —pl2e mle"): taken up to the field's end, when they may hold
            # a digit as OCR misreads one
            if taken and _numeric(page.words[t].text for t in taken):
                taken += [j for j in held if any(c.isdigit() for c in page.words[j].text.translate(TO_DIGIT))]
            while taken and not _glyph(page.words[taken[-1]].text, kind):
                taken.pop()
            if taken and not rows and page.caption_blob(taken[0]):
                taken.pop(0)  # the value's own small caption, read as one garbled word before it ("eae 10 ...")
            value = " ".join(page.words[j].text for j in taken)
            if not taken or not _value_ok(kind, value):
                break
            out += [Span(page.word_start[j], page.word_start[j] + len(page.words[j].text), kind, FIELD_SCORE)
                    for j in taken]
            if kind in NUMBER_KINDS and len({page.words[j].line for j in taken}) == 1:
                # a number's boxes on one OCR line go as one region: a box OCR read nothing of between them
                # too ("121 ake — 2990": the SSN's middle box, unread)
                last = max(taken, key=lambda j: page.word_start[j])
                out.append(Span(min(page.word_start[j] for j in taken), page.word_start[last]
                                + len(page.words[last].text), kind, FIELD_SCORE))
            rows += 1
            start = self._next_row(taken, x_left)
        return out

    def _next_row(self, taken: list[int], x_left: float) -> int | None:
        """The first word of the row just under ``taken``, aligned with the value's left edge (an address's next
        line), or None."""
        page = self.page
        y1 = max(page.words[j].box[3] for j in taken)
        h = max(page.words[j].box[3] - page.words[j].box[1] for j in taken)
        best, best_y = None, float("inf")
        for j, w in enumerate(page.words):
            if abs(w.box[0] - x_left) < 1.0 * h and y1 - 0.3 * h < w.box[1] < y1 + 1.2 * h and w.box[1] < best_y:
                best, best_y = j, w.box[1]
        return best

    def _columns(self) -> list[Span]:
        """Cells of table columns headed by a field label of a wanted kind (a header cell of one to three words)."""
        page = self.page
        out = []
        for kind, start, end in self.labels:
            if kind not in self.kinds or kind == EMAIL:
                continue
            words = page.words_in(start, end)
            line_start, line_end = page.line_of(start)
            if LABEL_NOISE_RE.sub("", page.text[line_start:start] + page.text[end:line_end]):
                continue  # a header is its cell's whole text ("Customer Support" heads no column of customers)
            tops: list[float] = []
            for cell in page.column_under(words[0]):
                if any(j in self.label_words for j in cell):
                    break  # another caption: a boxed form's next field, not the next row of a table
                tops.append(min(page.words[j].box[1] for j in cell))
                if len(tops) >= 3 and tops[-1] - tops[-2] > ROW_PITCH_BREAK * (tops[1] - tops[0]):
                    break  # wider apart than the table's rows: what follows is no row of it
                taken = []
                for j in cell:
                    if not _word_ok(kind, page.words[j].text) or j in self.label_words:
                        break
                    taken.append(j)
                if taken and _value_ok(kind, " ".join(page.words[j].text for j in taken)):
                    out += [Span(page.word_start[j], page.word_start[j] + len(page.words[j].text), kind, 0.8)
                            for j in taken]
        return out


def is_caption(text: str) -> bool:
    """Whether ``text`` is a field's caption and nothing else ("Applicant", "Postal address", "Telephone:"): a
    form's next field, not a value or a row of a table."""
    text = LABEL_NOISE_RE.sub(" ", text).strip()
    return any(rx.fullmatch(text) and text.split()[-1].lower() not in NEEDS_COLON for rx in LABEL_RES.values())


def weak_field_words(page: PageText) -> list[int]:
    """Words OCR was unsure of (``REREAD_CONF``) where the value of a person's, an SSN's, a date of birth's or a
    phone's field may be: on the label's row to its right, or within a few rows under it ("3. NAME   LAST  Nguyen /
    FIRST Yolanda", a comb's "ohh"). Worth a second OCR pass on their own (``detectors.ocr.reread``)."""
    weak = [i for i, w in enumerate(page.words) if w.conf < REREAD_CONF and any(c.isalnum() for c in w.text)]
    if not weak or not page.text.strip():
        return []
    finder = FieldFinder(page, REREAD_KINDS)
    th = finder.text_height
    labels = [page.words[i].box for kind, a, b in finder.labels if kind in REREAD_KINDS for i in page.words_in(a, b)]
    out = []
    for i in weak:
        x0, y0, x1, y1 = page.words[i].box
        cy = (y0 + y1) / 2
        if i not in finder.label_words and any(
                -0.5 * th < cy - (b[1] + b[3]) / 2 < REREAD_ROWS * th and b[0] - th <= x0 <= b[2] + MAX_RIGHT_GAP * th
                for b in labels):
            out.append(i)
    return sorted(out, key=lambda i: page.words[i].conf)[:REREAD_MAX]


def find_fields(page: PageText, names: bool, pii: bool) -> list[Span]:
    """Spans of the values of labelled fields: names when ``names``, the other kinds when ``pii``."""
    kinds = set()
    if names:
        kinds.add(PERSON)
    if pii:
        kinds |= {ADDRESS, PHONE, EMAIL, SSN, DATE_OF_BIRTH}
    if not kinds or not page.text.strip():
        return []
    return FieldFinder(page, frozenset(kinds)).spans()
