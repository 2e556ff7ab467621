"""Knowledge of given names from a kept data package: gender-guesser's name dictionary (about 45,000 given names
from some 50 countries, each with its frequency per country; Jörg Michael's nam_dict, GFDL).

It is evidence beside spaCy's NER, not a verdict: "Siobhan", "Grainne", "Katarzyna" are given names whatever the
English word lists say, and a known given name before a capitalised word, or after "SURNAME," in a form, makes a
person where NER saw none. Words that are also common English words ("Grace", "Will", "May") count only where the
caller has other evidence.

Loaded lazily, once per process (about 0.3 s and 30 MB). names-dataset (first and last names of 105 countries) was
measured too and not taken: 18.5 s to load and 1.9 GB resident per process, and its lists hold common words
("Table", "Street", "The") as names.
"""
from __future__ import annotations

import functools
import unicodedata

# gender-guesser's answers for a name it knows; "unknown" is a word it has never seen as a given name
KNOWN = frozenset({"male", "female", "mostly_male", "mostly_female", "andy"})


@functools.lru_cache(maxsize=1)
def _detector():
    import gender_guesser.detector as gd

    return gd.Detector(case_sensitive=False)


def _plain(word: str) -> str:
    """``word`` without accents (OCR and the generator of a page may drop them: "Rocío" / "Rocio")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def is_given_name(word: str) -> bool:
    """Whether ``word`` (one word, letters only, any case) is a given name in the name dictionary."""
    core = word.strip(".,;:!?()[]{}\"'“”‘’")
    if len(core) < 2 or not core.replace("-", "").isalpha():
        return False
    det = _detector()
    return det.get_gender(core) in KNOWN or det.get_gender(_plain(core)) in KNOWN


def version() -> str:
    try:
        from importlib.metadata import version as v

        return f"gender-guesser-{v('gender-guesser')}"
    except Exception:  # noqa: BLE001 - metadata missing: the package still works
        return "gender-guesser"
