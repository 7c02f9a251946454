"""From one cleaned text to partnership records: instruments, parties, themes, commitments.

The rules, in order (docs/partnerships.md explains them with examples):

1. Every sentence is matched against the gazetteer (parties, themes, materials) and searched
   for instrument names (``mentions.py``); "the initiative" refers to the instrument named last.
2. Mentions with the same core name and type are one instrument ("EU-Canada Digital
   Partnership" and "Digital Partnership"). The instrument of the title, else the first one
   named, is the text's main instrument.
3. A sentence that names instruments gives each the clause from its name to the next name; a
   sentence that names none belongs to the main instrument. Themes, materials, amounts and
   dates come from the text an instrument owns.
4. Parties: those in the instrument's name when it names two or more, else those in the
   sentence that first names it, else the parties the text's lead names.
5. A commitment is a sentence (outside commentary) with a commitment cue (will, agreed,
   intend, aim, launched ...) and an action (establish, exchange information, explore, fund
   ...); it belongs to the instrument named nearest before the cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from chainwatch.partnerships.mentions import InstrumentMention, core_name, find_instruments
from chainwatch.partnerships.model import (
    STATUSES,
    Amount,
    Commitment,
    DatedEvent,
    Partnership,
    TextResult,
)
from chainwatch.partnerships.nlp import Match, find_matches, ids
from chainwatch.partnerships.quantities import find_amounts, find_dates
from chainwatch.partnerships.text import split_sentences

_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("done", re.compile(
        r"\b(launched|signed|established|concluded|set up|created|inaugurated|adopted|"
        r"endorsed|agreed(?! to)|announced|committed(?! to)|pledged(?! to)|lancé|signé|conclu|"
        r"établi|créé)\b",
        re.IGNORECASE)),
    ("firm", re.compile(
        r"\b(will|shall|agree|agrees|agreed to|commit|commits|committed to|pledge|pledges|"
        r"pledged to|are to|is to|decided|"
        r"va|vont|s'engagent|s’engagent|conviennent|convenu|\w{3,}(?:eront|iront)|"
        r"seront|feront|auront|tiendront|pourront|devront)\b", re.IGNORECASE)),
    ("intended", re.compile(
        r"\b(intends?|intended|aims?|aimed|plans? to|planned|planning to|seeks?|hopes?|"
        r"envisages?|expects?|propose[sd]?|entend(?:ent)?|visent|vise|prévoient|prévoit|souhaitent)\b",
        re.IGNORECASE)),
)  # fmt: skip
_ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("establish", re.compile(
        r"\b(set(?:ting)? up|establish\w*|launch\w*|convene\w*|creat\w+|sign(?:s|ed|ing)?|"
        r"draft\w*|form(?:s|ed|ing)?|build\w*|open\w* pathways|mettre en place|établir|créer|"
        r"lancer|instaur\w+)\b", re.IGNORECASE)),
    ("exchange information", re.compile(
        r"\b(exchang\w+|share\w* (?:information|data|best practices|intelligence)|"
        r"information[- ]sharing|discuss(?:es|ed|ing)?|dialogue on|échang\w+|partag\w+)\b",
        re.IGNORECASE)),
    ("explore", re.compile(r"\b(explor\w+|identif\w+|assess\w*|stud(?:y|ies)|examin\w+|"
                           r"évaluer|étudier)\b", re.IGNORECASE)),
    ("fund", re.compile(r"\b(fund\w*|invest\w*|financ\w+|allocat\w+|grants?|loans?|"
                        r"mobili[sz]\w+|budget\w*)\b", re.IGNORECASE)),
    ("procure", re.compile(r"\b(procur\w+|purchas\w+|stockpil\w+|offtake|acquisition|"
                           r"achats?|approvisionnement conjoint)\b", re.IGNORECASE)),
    ("cooperate", re.compile(r"\b(cooperat\w+|co-operat\w+|collaborat\w+|work together|"
                             r"partner with|coopér\w+|collabor\w+)\b", re.IGNORECASE)),
    ("coordinate", re.compile(r"\b(coordinat\w+|align\w*|harmonis\w+|harmoniz\w+|"
                              r"interoperab\w+|coordonn\w+)\b", re.IGNORECASE)),
    ("develop", re.compile(r"\b(develop\w*|expand\w*|strengthen\w*|deepen\w*|promot\w+|"
                           r"accelerat\w+|diversif\w+|renforcer|développer)\b",
                           re.IGNORECASE)),
    ("review", re.compile(r"\b(take stock|review\w*|monitor\w*|report\w* on|evaluat\w+|"
                          r"early warning|examiner|faire le point|suivi)\b", re.IGNORECASE)),
)  # fmt: skip
_COLLECTIVE = re.compile(
    r"\b(they|the partners|both sides|the two sides|both partners|the parties|both parties|"
    r"the two partners|the two countries|both countries|the two governments|both governments|"
    r"the two leaders|both leaders|les deux parties|les partenaires|les deux pays)\b",
    re.IGNORECASE,
)
_COMMENTARY = re.compile(
    r"\b(commentary|analysts?|analytical|experts? (?:say|said|note)|according to|critics|"
    r"observers)\b",
    re.IGNORECASE,
)
_STATUS_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("in force", re.compile(r"\b(entered into force|in force|ratified|en vigueur)\b",
                            re.IGNORECASE)),
    ("signed", re.compile(r"\b(signed|signing|signé|signée)\b", re.IGNORECASE)),
    ("concluded", re.compile(r"\b(concluded|conclu|conclue)\b", re.IGNORECASE)),
    ("planned", re.compile(r"\b(will (?:establish|launch|create|set up|sign)|"
                           r"(?-i:plan(?:s|ned)? to)|propos\w+|announced (?:its|their) "
                           r"intention|(?:begin|launch|start|open)\w* negotiations|negotiating|"
                           r"under negotiation)\b", re.IGNORECASE)),
    ("launched", re.compile(r"\b(launch(?:ed|es)?|established|set up|created|inaugurated|announced|"
                            r"lancé|lancée|établi|créé)\b", re.IGNORECASE)),
    ("agreed", re.compile(r"\b(agreed|adopted|endorsed|convenu|adopté)\b", re.IGNORECASE)),
)  # fmt: skip
#: A list item: "- share information ...", "• launch ...", "1. establish ...", "(a) fund ...".
_LIST_ITEM = re.compile(
    r"^\s*(?:[-\u2022*\u2013\u25aa\u25cf]|\(?[0-9a-z]{1,2}[.)])\s+(?P<body>.+)$"
)
_EVENT_WORDS = re.compile(
    r"\b(met|meeting|meet|summit|signed|concluded|launched|convene|held|signé|conclu|lancé|"
    r"sommet|réunion)\b",
    re.IGNORECASE,
)


@dataclass
class _Sentence:
    text: str
    matches: list[Match]
    mentions: list[InstrumentMention]
    commentary: bool
    in_title: bool
    lead: str = ""  # for a list item: the sentence that introduces the list ("... will:")


@dataclass
class _Draft:
    key: str
    name: str
    instrument: str
    aliases: list[str] = field(default_factory=list)
    parties: tuple[str, ...] = ()
    owned: list[str] = field(default_factory=list)  # text owned: sentences or clauses
    naming: list[str] = field(default_factory=list)  # sentences that name it
    status_text: list[str] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


def _sentences(text: TextResult) -> list[_Sentence]:
    out: list[_Sentence] = []
    lead = ""  # "The two leaders committed to:" carries its cue to the list items after it
    for index, paragraph in enumerate(text.paragraphs):
        commentary = _COMMENTARY.search(paragraph) is not None
        item = _LIST_ITEM.match(paragraph)
        if item is None:
            lead = ""
        for sentence in split_sentences(item.group("body") if item else paragraph):
            matches = find_matches(sentence, text.language)
            # commentary names no instruments of its own ("the security/defence pact")
            mentions = [] if commentary else find_instruments(sentence, matches, text.language)
            in_title = index == 0 and bool(text.title)
            out.append(_Sentence(sentence, matches, mentions, commentary, in_title, lead))
        if item is None and paragraph.rstrip().endswith(":") and _modality(paragraph):
            lead = paragraph.strip()
    return out


def _key(mention: InstrumentMention) -> str:
    return f"{mention.instrument}|{core_name(mention.name)}"


def _name_parties(mention: InstrumentMention, sentence: _Sentence) -> tuple[str, ...]:
    inside = [m for m in sentence.matches if mention.start <= m.start and m.end <= mention.end]
    return tuple(sorted(ids(inside, "party")))


def _status(texts: list[str]) -> str:
    for status, pattern in _STATUS_WORDS:
        if any(pattern.search(text) for text in texts):
            return status
    return "referenced"


def _modality(sentence: str) -> tuple[str, int] | None:
    """The first commitment cue in the sentence: (modality, position)."""
    hits = [(m.start(), kind) for kind, pattern in _CUES for m in pattern.finditer(sentence)]
    if not hits:
        return None
    position, kind = min(hits)
    return kind, position


def _commitment(sentence: _Sentence, parties: tuple[str, ...], source: str,
                language: str) -> Commitment | None:  # fmt: skip
    if sentence.commentary:
        return None
    cue = _modality(sentence.text) or (_modality(sentence.lead) if sentence.lead else None)
    if cue is None:
        return None
    kinds = tuple(kind for kind, pattern in _ACTIONS if pattern.search(sentence.text))
    if not kinds:
        return None
    actors = tuple(sorted(ids(sentence.matches, "party")))
    if sentence.lead and not actors:
        actors = tuple(sorted(ids(find_matches(sentence.lead, language), "party")))
    if not actors or _COLLECTIVE.search(f"{sentence.lead} {sentence.text}"):
        actors = tuple(sorted(set(actors) | set(parties)))
    return Commitment(
        sentence=f"{sentence.lead} {sentence.text}" if sentence.lead else sentence.text,
        actors=actors,
        kinds=kinds,
        modality=cue[0],
        themes=ids(sentence.matches, "theme"),
        materials=ids(sentence.matches, "material"),
        amounts=find_amounts(sentence.text, language),
        target_dates=find_dates(sentence.text),
        source=source,
    )


def _resolve(sentences: list[_Sentence]) -> list[list[tuple[InstrumentMention, str]]]:
    """Each sentence's mentions with the key of the instrument they name; anaphors take the
    instrument named last (of the same type where there is one)."""
    resolved: list[list[tuple[InstrumentMention, str]]] = []
    history: list[tuple[str, str]] = []  # (key, type), in order of mention
    known: dict[str, str] = {}  # core key -> key of the longest-named instrument
    acronyms: dict[str, tuple[str, str]] = {}  # acronym -> (key, instrument type)
    for sentence in sentences:
        row: list[tuple[InstrumentMention, str]] = []
        for acronym, (key, kind) in acronyms.items():
            for hit in re.finditer(rf"(?<![\w-]){re.escape(acronym)}(?![\w-])", sentence.text):
                if not any(m.start < hit.end() and hit.start() < m.end for m in sentence.mentions):
                    row.append((InstrumentMention(acronym, kind, hit.start(), hit.end()), key))
        for mention in sentence.mentions:
            if mention.anaphor:
                same = [k for k, t in history if t == mention.instrument]
                earlier = same or [k for k, _ in history]
                if earlier:
                    row.append((mention, earlier[-1]))
                continue
            key = acronyms[mention.name][0] if mention.name in acronyms else _same_as_known(
                _key(mention), known)  # fmt: skip
            row.append((mention, key))
            history.append((key, mention.instrument))
            for alias in (mention.name, *mention.aliases):
                if re.fullmatch(r"[A-Z][A-Za-z]*[A-Z]", alias):
                    acronyms.setdefault(alias, (key, mention.instrument))
        resolved.append(sorted(row, key=lambda item: item[0].start))
    return resolved


def _same_as_known(key: str, known: dict[str, str]) -> str:
    """The key of an instrument already named whose core name contains this one's words, or
    whose words this one contains ("Clean Energy" and "U.S.-ROK Clean Energy")."""
    if key in known:
        return known[key]
    kind, core = key.split("|", 1)
    words = set(core.split())
    for other, target in known.items():
        other_kind, other_core = other.split("|", 1)
        other_words = set(other_core.split())
        if (
            other_kind == kind
            and words
            and other_words
            and (words <= other_words or other_words <= words)
        ):
            known[key] = target
            return target
    known[key] = key
    return key


def _lead_parties(sentences: list[_Sentence]) -> tuple[str, ...]:
    for window in (2, 4, len(sentences)):
        found = {m.id for s in sentences[:window] if not s.commentary for m in s.matches
                 if m.kind == "party"}  # fmt: skip
        if len(found) >= 2:
            return tuple(sorted(found))
    return tuple(sorted({m.id for s in sentences for m in s.matches if m.kind == "party"}))


def _dated_events(text: str, source: str) -> list[DatedEvent]:
    events: list[DatedEvent] = []
    for date in find_dates(text):
        at = text.find(date.text)
        before = text[max(0, at - 80) : at]
        words = _EVENT_WORDS.findall(before)
        event = words[-1].casefold() if words else "mentioned"
        event = {"met": "meeting", "meet": "meeting", "held": "meeting", "convene": "meeting"}.get(
            event, event
        )
        events.append(DatedEvent(event=event, date=date, source=source))
    return events


def extract_from_text(text: TextResult) -> list[Partnership]:
    """The instruments one cleaned text names, each with what the text says about it."""
    sentences = _sentences(text)
    resolved = _resolve(sentences)
    drafts: dict[str, _Draft] = {}
    for sentence, row in zip(sentences, resolved, strict=True):
        for mention, key in row:
            if mention.anaphor:
                continue
            draft = drafts.setdefault(key, _Draft(key, mention.name, mention.instrument))
            draft.aliases.extend((mention.name, *mention.aliases))
            if len(_name_parties(mention, sentence)) > len(draft.parties):
                draft.parties = _name_parties(mention, sentence)
    if not drafts:
        return []
    title_keys = [key for s, row in zip(sentences, resolved, strict=True) if s.in_title
                  for _, key in row]  # fmt: skip
    main = title_keys[0] if title_keys else next(iter(drafts))
    lead = _lead_parties(sentences)
    for sentence, row in zip(sentences, resolved, strict=True):
        _assign(sentence, row, drafts, main, lead)
    for sentence, row in zip(sentences, resolved, strict=True):
        owner = _commitment_owner(sentence, row, main)
        draft = drafts[owner]
        commitment = _commitment(sentence, draft.parties or lead, text.name, text.language)
        if commitment is not None:
            draft.commitments.append(commitment)
    frozen = {key: _freeze(draft, text) for key, draft in drafts.items()}
    return [
        replace(record, related=tuple(frozen[key].id for key in record.related if key in frozen))
        for record in frozen.values()
    ]


def _assign(sentence: _Sentence, row: list[tuple[InstrumentMention, str]],
            drafts: dict[str, _Draft], main: str, lead: tuple[str, ...]) -> None:  # fmt: skip
    if sentence.commentary:
        return
    if not row:
        drafts[main].owned.append(sentence.text)
        return
    keys = list(dict.fromkeys(key for _, key in row))
    for index, (mention, key) in enumerate(row):
        draft = drafts[key]
        stop = row[index + 1][0].start if index + 1 < len(row) else len(sentence.text)
        begin = 0 if index == 0 else mention.start
        clause = sentence.text[begin:stop]
        draft.owned.append(clause)
        draft.status_text.append(clause)
        if not mention.anaphor:
            draft.naming.append(sentence.text)
        draft.related.extend(k for k in keys if k != key)
        if not draft.parties:
            found = tuple(sorted(ids(sentence.matches, "party")))
            draft.parties = found if len(found) >= 2 else lead


def _commitment_owner(sentence: _Sentence, row: list[tuple[InstrumentMention, str]],
                      main: str) -> str:  # fmt: skip
    if not row:
        return main
    cue = _modality(sentence.text)
    position = cue[1] if cue else 0
    before = [key for mention, key in row if mention.start <= position]
    return before[-1] if before else row[0][1]


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def partnership_id(parties: tuple[str, ...], instrument: str, core: str) -> str:
    """Stable id: parties, instrument type and core name, as a slug."""
    words = [*(p.casefold() for p in sorted(parties)), instrument, core]
    return re.sub(r"[^a-z0-9]+", "-", " ".join(words).casefold()).strip("-")


def _freeze(draft: _Draft, text: TextResult) -> Partnership:
    owned = " ".join(draft.owned)
    own_matches = find_matches(owned + " " + draft.name, text.language) if owned else []
    name_themes = ids(find_matches(draft.name, text.language), "theme")
    amounts: list[Amount] = []
    dates: list[DatedEvent] = []
    for chunk in draft.owned:
        amounts.extend(find_amounts(chunk, text.language))
        dates.extend(_dated_events(chunk, text.name))
    first: dict[str, int] = {}
    for index, alias in enumerate(draft.aliases):
        first.setdefault(alias, index)
    name = max(first, key=lambda alias: (len(_name_parties_of(alias)), -first[alias]))
    core = draft.key.split("|", 1)[1]
    return Partnership(
        id=partnership_id(draft.parties, draft.instrument, core),
        name=name,
        instrument=draft.instrument,
        parties=draft.parties,
        status=_status(draft.status_text),
        themes=_unique([*name_themes, *ids(own_matches, "theme")]),
        materials=ids(own_matches, "material"),
        commitments=tuple(draft.commitments),
        amounts=tuple(amounts),
        dates=tuple(dict.fromkeys(dates)),
        sources=(text.name,),
        aliases=tuple(a for a in _unique(draft.aliases) if a != name),
        related=_unique(draft.related),
        placeholders=text.placeholders,
        evidence=_unique(draft.naming),
        languages=(text.language,),
    )


def _name_parties_of(name: str) -> tuple[str, ...]:
    return ids(find_matches(name), "party")


def status_rank(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


__all__ = ["extract_from_text", "partnership_id", "status_rank"]
