"""Gazetteer matching with spaCy: ``blank(lang)`` tokenizers and phrase matchers, no model.

Names are matched on tokens, so "Niger" never matches inside "Nigeria" and the longest name
wins ("United States of America" over "United States"). Acronyms written in capitals ("US",
"AI", "EV") match only in capitals, so "us" and "ai" stay words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer  # type: ignore[import-not-found]  # Cython, no stub
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, filter_spans

from chainwatch.partnerships.gazetteer import load_gazetteer

KINDS = ("party", "theme", "material")


@dataclass(frozen=True)
class Match:
    """A gazetteer hit: its kind, id and character offsets in the matched text."""

    kind: str
    id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Pipeline:
    nlp: Language
    matchers: dict[str, tuple[PhraseMatcher, PhraseMatcher]]  # kind -> (lower, exact)


def _is_acronym(variant: str) -> bool:
    letters = [c for c in variant if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 5


def _add(matchers: tuple[PhraseMatcher, PhraseMatcher], nlp: Language,
         entries: Iterable[tuple[str, str]]) -> None:  # fmt: skip
    lower, exact = matchers
    for key, variant in entries:
        doc = nlp.make_doc(variant)
        (exact if _is_acronym(variant) else lower).add(key, [doc])


@lru_cache(maxsize=4)
def pipeline(language: str = "en") -> _Pipeline:
    """The tokenizer and matchers for ``language`` ("en" or "fr"); built once per process."""
    nlp = spacy.blank(language if language in ("en", "fr") else "en")
    # "U.S.-Japan" and "U.S.–ROK" are two names joined by a dash: split after the period
    infixes = [*(nlp.Defaults.infixes or []), r"(?<=\.)[\-\u2010-\u2014](?=\w)"]
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    gazetteer = load_gazetteer()
    entries = {
        "party": gazetteer.parties,
        "theme": gazetteer.themes,
        "material": gazetteer.materials,
    }
    matchers: dict[str, tuple[PhraseMatcher, PhraseMatcher]] = {}
    for kind, items in entries.items():
        pair = (PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="ORTH"))
        _add(pair, nlp, items)
        # plurals and singulars written in lower case ("critical mineral", "batteries")
        matchers[kind] = pair
    return _Pipeline(nlp=nlp, matchers=matchers)


def _spans(doc: Doc, pair: tuple[PhraseMatcher, PhraseMatcher]) -> list[Span]:
    spans = [Span(doc, start, end, label=key) for key, start, end in pair[0](doc)]
    spans += [Span(doc, start, end, label=key) for key, start, end in pair[1](doc)]
    return filter_spans(spans)


def _capitalised(name: str) -> bool:
    """Whether a name is written as a proper noun ("l'Union européenne" counts)."""
    bare = re.sub(r"^(?:[ld][\u2019'])", "", name, flags=re.IGNORECASE)
    return bare[:1].isupper()


def find_matches(text: str, language: str = "en") -> list[Match]:
    """Every party, theme and material named in ``text``, in reading order."""
    engine = pipeline(language)
    doc = engine.nlp.make_doc(text)
    found: list[Match] = []
    for kind in KINDS:
        for span in _spans(doc, engine.matchers[kind]):
            if kind == "party" and not _capitalised(span.text):
                continue  # "réunion ministérielle" is a meeting, not Réunion
            found.append(Match(kind, span.label_, span.start_char, span.end_char, span.text))
    return sorted(found, key=lambda m: (m.start, m.kind))


def ids(matches: Iterable[Match], kind: str) -> tuple[str, ...]:
    """The distinct ids of one kind, in order of first mention."""
    return tuple(dict.fromkeys(m.id for m in matches if m.kind == kind))
