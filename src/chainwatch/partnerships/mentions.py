"""Finding the instruments a sentence names: "EU-Canada Digital Partnership", "a new Canada-UK
trade working group", "Partenariat numérique UE-Canada", and anaphors such as "the initiative".

Rules over the sentence text, with the instrument head words of the gazetteer
(``partnership_gazetteer.csv``, kind ``instrument``). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chainwatch.partnerships.gazetteer import load_gazetteer
from chainwatch.partnerships.nlp import Match

#: Head words that name a body of another instrument when they follow its name
#: ("Digital Partnership Council" is a body of the Digital Partnership).
BODY_WORDS = ("Council", "Committee", "Joint Committee", "Forum", "Conseil", "Comité")
#: Words after an instrument name that make the phrase an event, not an instrument.
_EVENT_AFTER = re.compile(
    r"^\s(?:Summit|Board|Secretariat|Meeting|Ministerial|Leaders|Minister|Ministers|"
    r"Conference|Sommet|Réunion)\b"
)
#: Words that open a phrase but are not part of an instrument's name ("Under the ...").
_NOISE_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "on",
        "in",
        "under",
        "through",
        "new",
        "this",
        "our",
        "their",
        "its",
        "with",
        "as",
        "at",
        "since",
        "following",
        "after",
        "before",
        "during",
        "within",
        "today",
        "by",
        "from",
        "for",
        "to",
        "of",
        "and",
        "both",
        "via",
        "also",
        "each",
        "le",
        "la",
        "les",
        "un",
        "une",
        "nouveau",
        "nouvelle",
        "joint",
        "bilateral",
        "du",
        "des",
        "de",
        "au",
        "aux",
    ]
)
#: Verbs in headlines ("United States and Japan Sign Critical Minerals Agreement"): a name
#: starts after the last of them.
_VERB_WORDS = frozenset(
    [
        "sign",
        "signs",
        "signed",
        "launch",
        "launches",
        "launched",
        "announce",
        "announces",
        "announced",
        "agree",
        "agrees",
        "agreed",
        "boost",
        "boosts",
        "deepen",
        "deepens",
        "strengthen",
        "strengthens",
        "open",
        "opens",
        "welcome",
        "welcomes",
        "begin",
        "begins",
        "hold",
        "holds",
        "reach",
        "reaches",
        "establish",
        "establishes",
        "set",
        "sets",
        "unveil",
        "unveils",
        "renew",
        "renews",
        "expand",
        "expands",
        "conclude",
        "concludes",
        "adopt",
        "adopts",
        "join",
        "joins",
        "enter",
        "enters",
        "create",
        "creates",
        "form",
        "forms",
        "mark",
        "marks",
        "host",
        "hosts",
        "convene",
        "convenes",
        "commit",
        "commits",
        "is",
        "are",
        "will",
        "was",
        "were",
        "has",
        "have",
        "to",
        "at",
        "through",
        "into",
        "under",
        "toward",
        "towards",
        "upgrade",
        "upgrades",
        "advance",
        "advances",
        "lancent",
        "lance",
        "signent",
        "signe",
    ]
)
_BODY_AFTER = re.compile(r"^\s(?:Council|Committee|Joint Committee|Forum|Secretariat)\b")
_STOP_NAME_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "of",
        "new",
        "joint",
        "bilateral",
        "on",
        "for",
        "de",
        "la",
        "le",
        "les",
        "du",
        "des",
        "sur",
        "entre",
        "et",
        "l",
        "d",
        "un",
        "une",
        "nouveau",
        "nouvelle",
        "between",
        "with",
    ]
)
_INDEFINITE_BEFORE = re.compile(r"\b(?:a|an|new|joint)\s$", re.IGNORECASE)
_TOPIC_AFTER = re.compile(
    r"^\s(?P<topic>(?:on|for)\s[^,.;:()\u201d\"]+?)(?=[,.;:()\u201d\"]|\s(?:on|in|at|by|with|to|"
    r"that|which|and|will|was|is|between)\s|$)"
)
#: Month and day names end a name: "... Collaboration in January".
_CALENDAR = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
)
_DASH = r"\-\u2010-\u2014"  # for character classes: hyphen and the Unicode dashes


#: "SAFE (Security Action for Europe), the EU's ... programme": an acronym named in apposition.
_APPOSITION_BEFORE = re.compile(
    r"(?P<acronym>\b[A-Z][A-Za-z]*[A-Z]\b)(?:\s\((?P<long>[^()]{3,80})\))?,\s"
    r"(?:(?:the|a|an)\s[^,;]{0,60})?$"
)
#: "Memorandum of Understanding on Critical Minerals (MOU)": an acronym after the name.
_ACRONYM_AFTER = re.compile(r"^\s\((?P<acronym>[A-Z][A-Za-z]*[A-Z])\)")
_FRENCH_ADJECTIVE = (
    r"[a-zéèêàçôî]+(?:ique|iques|iel|ielle|iels|ielles|al|ale|aux|ales|if|ive|ifs|ives|aire|"
    r"aires|el|elle|els|elles|ien|ienne|ain|aine|é|ée|és|ées|ant|ante|eur|rice)"
)
_PROPER = r"[A-ZÉ][\w\u2019'.]*(?:[" + _DASH + r"][A-ZÉ][\w\u2019'.]*)*"


@dataclass(frozen=True)
class InstrumentMention:
    """An instrument named in a sentence; ``anaphor`` marks "the partnership" and the like."""

    name: str
    instrument: str
    start: int
    end: int
    anaphor: bool = False
    aliases: tuple[str, ...] = ()  # an acronym or long form given beside the name


@dataclass(frozen=True)
class _Heads:
    english: re.Pattern[str]
    lower: re.Pattern[str]
    french: re.Pattern[str]
    types: dict[str, str]  # head word, lower case -> instrument type


def _alternation(words: list[str]) -> str:
    ordered = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s") for word in ordered)


@lru_cache(maxsize=1)
def _heads() -> _Heads:
    gazetteer = load_gazetteer()
    english = [head for _, head, language in gazetteer.instruments if language == "en"]
    french = [head for _, head, language in gazetteer.instruments if language == "fr"]
    types = {head.casefold(): kind for kind, head, _ in gazetteer.instruments}
    cap = (
        r"(?:(?!(?:" + _CALENDAR + r")\b)[A-Z\u00c0-\u00dd][\w\u2019'.&]*"
        r"(?:[" + _DASH + r"/][A-Z]?[\w\u2019'.]+)*)"
    )
    link = r"(?:\s(?:and|of|on|for|the|&)\s|\s)"
    head = rf"(?P<head>{_alternation(english)})"
    tail = rf"(?:\s(?:of|on|for)\s(?:the\s)?{cap}(?:{link}{cap})*)?"
    english_re = re.compile(rf"(?P<name>(?:{cap}{link})*?{head}{tail})(?![\w])")
    lower_heads = _alternation([h.casefold() for h in english if not h.isupper()])
    modifier = r"(?:[\w" + _DASH + r"/\u2019'.]+)"
    lower_re = re.compile(
        rf"\b(?P<det>[Aa]n?|[Tt]he|[Nn]ew|[Jj]oint)\s(?P<mods>(?:{modifier}\s){{0,4}}?)"
        rf"(?P<head>{lower_heads})(?P<topic>\s(?:on|for)\s[^,.;:()\u201d\"]+?)?"
        rf"(?=[,.;:()\u201d\"]|\s(?:to|that|which|with|between|and|will|would|in|under|led|"
        rf"was|is|has|have|as|by|at)\b|$)"
    )
    french_heads = _alternation(french + [h.casefold() for h in french])
    french_re = re.compile(
        rf"(?P<name>(?P<head>{french_heads})(?P<rest>(?:\s(?:{_FRENCH_ADJECTIVE}|{_PROPER}))"
        rf"{{0,4}}(?:\s(?:sur|de|en matière de)\s(?:la\s|le\s|les\s|l'|l\u2019)?"
        rf"[\w\u2019'éèêàç{_DASH}]+(?:\s{_FRENCH_ADJECTIVE})?)?))(?![\w])"
    )
    return _Heads(english_re, lower_re, french_re, types)


def _clean(name: str) -> str:
    """The name without quotes, leading filler ("Under the", "new") or a headline's verb."""
    words = name.strip(" \u201c\u201d\"'\u2018\u2019,").split()
    verbs = [i for i, word in enumerate(words) if word.casefold() in _VERB_WORDS]
    if verbs:
        words = words[verbs[-1] + 1 :]
    while words and (words[0].casefold() in _NOISE_WORDS or words[0].endswith("-level")):
        words = words[1:]
    name = " ".join(words)
    if name.endswith(".") and not re.search(r"\b(?:[A-Z]\.){2,}$", name):
        name = name[:-1]  # the sentence's full stop, not an abbreviation such as "U.S."
    return name


def _inner_instrument(name: str, heads: _Heads) -> str | None:
    """For "Digital Partnership Council", the name of the instrument the body belongs to."""
    for body in BODY_WORDS:
        if name.endswith(" " + body):
            inner = name[: -len(body) - 1]
            if any(inner.casefold().endswith(h) for h in heads.types):
                return inner
    return None


def _chained_head(following: str, heads: _Heads) -> str | None:
    """A head word right after a name ("Advanced Framework| Agreement"), bodies excepted."""
    for head in sorted(heads.types, key=len, reverse=True):
        match = re.match(rf"\s({re.escape(head)})(?![\w])", following, re.IGNORECASE)
        if match and match.group(1)[0].isupper() and match.group(1) not in BODY_WORDS:
            return match.group(1)
    return None


def _type_of(head: str, heads: _Heads) -> str:
    return heads.types.get(re.sub(r"\s+", " ", head).casefold(), "partnership")


def _has_party_or_theme(text: str, start: int, end: int, matches: list[Match]) -> bool:
    return any(m.kind in ("party", "theme") and start <= m.start and m.end <= end for m in matches)


def find_instruments(sentence: str, matches: list[Match], language: str = "en") -> list[
        InstrumentMention]:  # fmt: skip
    """Instruments named in ``sentence`` (``matches``: its gazetteer hits), in order."""
    heads = _heads()
    found: list[InstrumentMention] = []
    taken: list[tuple[int, int]] = []

    def add(mention: InstrumentMention) -> None:
        if any(s < mention.end and mention.start < e for s, e in taken):
            return
        taken.append((mention.start, mention.end))
        found.append(mention)

    for match in heads.english.finditer(sentence):
        if _EVENT_AFTER.match(sentence[match.end() :]):
            continue
        # "Digital Partnership Council": a body of the Digital Partnership, named as such
        body_match = _BODY_AFTER.match(sentence[match.end() :])
        body = body_match is not None
        end = match.end() + (body_match.end() if body_match else 0)
        raw = match.group("name")
        name = _clean(raw)
        start = match.start("name") + raw.find(name) if name in raw else match.start("name")
        # "Framework Agreement", "Partnership Agreement": the last head word gives the type
        while chained := _chained_head(sentence[end:], heads):
            name, end = f"{name} {chained}", end + 1 + len(chained)
        inner = _inner_instrument(name, heads)
        if inner is not None:
            name = _clean(inner)
        elif body:
            name = _clean(name)
        head = re.search(rf"({_alternation(list(heads.types))})$", name, re.IGNORECASE)
        kind = _type_of(head.group(1) if head else match.group("head"), heads)
        generic = not name or name.casefold() == (head.group(1).casefold() if head else "")
        if generic and name and _INDEFINITE_BEFORE.search(sentence[:start]):
            # "a Memorandum of Cooperation on semiconductors": a new instrument, named by topic
            named_topic = _TOPIC_AFTER.match(sentence[end:])
            if named_topic:
                name = f"{name} {named_topic.group('topic')}"
                end += named_topic.end()
                generic = False
        after = _ACRONYM_AFTER.match(sentence[end:])
        aliases = (after.group("acronym"),) if after and not generic else ()
        add(InstrumentMention(name, kind, start, end, anaphor=generic, aliases=aliases))
    for match in heads.lower.finditer(sentence):
        mods, topic = match.group("mods").strip(), (match.group("topic") or "").strip()
        if any(word.casefold() in _VERB_WORDS for word in mods.split()):
            continue
        name_end = match.end("head")
        if not mods and not topic:
            if match.group("det").casefold() == "the":
                kind = _type_of(match.group("head"), heads)
                add(InstrumentMention(match.group(0), kind, match.start(), match.end(), True))
            continue
        has_entity = _has_party_or_theme(sentence, match.start("mods"), name_end, matches)
        topic_entity = topic and _has_party_or_theme(
            sentence, match.start("topic"), match.end("topic"), matches)  # fmt: skip
        if not has_entity and not topic_entity:
            continue
        name = sentence[match.start("mods") : name_end] if has_entity else (
            sentence[match.start("mods") : match.end("topic")])  # fmt: skip
        name = _clean(name)
        described: tuple[str, ...] = ()
        apposition = _APPOSITION_BEFORE.search(sentence[: match.start()])
        if apposition:  # the instrument's own name is the acronym; the phrase describes it
            long_form = apposition.group("long")
            described = (name, long_form) if long_form else (name,)
            name = apposition.group("acronym")
        add(InstrumentMention(name, _type_of(match.group("head"), heads), match.start(),
                              match.end(), False, described))  # fmt: skip
    if language == "fr":
        for match in heads.french.finditer(sentence):
            name = _clean(match.group("name"))
            if not match.group("rest").strip():
                if match.group("head")[0].islower():
                    continue
                add(InstrumentMention(name, _type_of(match.group("head"), heads),
                                      match.start(), match.end(), True))  # fmt: skip
                continue
            add(InstrumentMention(name, _type_of(match.group("head"), heads), match.start(),
                                  match.end()))  # fmt: skip
    return sorted(found, key=lambda m: m.start)


def core_name(name: str, matches: list[Match] | None = None) -> str:
    """The words that tell one instrument from another: parties, filler words and the head
    word dropped, French name words put in English ("numérique" -> "digital")."""
    from chainwatch.partnerships.nlp import find_matches

    heads = _heads()
    text = name
    for match in sorted(matches if matches is not None else find_matches(name),
                        key=lambda m: -m.start):  # fmt: skip
        if match.kind == "party":
            text = text[: match.start] + " " + text[match.end :]
    text = text.casefold()
    for english, french in load_gazetteer().name_words:
        text = re.sub(rf"(?<!\w){re.escape(french.casefold())}(?!\w)", english, text)
    head_words = _alternation(list(heads.types))
    text = re.sub(rf"(?<!\w)({head_words})$|^({head_words})(?!\w)", " ", text.strip())
    words = re.findall(r"[\w]+", text.replace("\u2019", "'"))
    return " ".join(w for w in words if w not in _STOP_NAME_WORDS)
