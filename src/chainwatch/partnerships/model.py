"""Records of the partnership tracker: texts, partnerships, commitments and their mentions.

Every record carries the text it came from (``source``: the text id) so each figure can be
traced back to a sentence. Party ids are ISO3 codes for countries and the group ids of the
store (``EU27``, ``G7``, ``NATO`` ...) for blocs and organisations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Instrument types (docs/partnerships.md lists the head words that map to each).
INSTRUMENT_TYPES: tuple[str, ...] = (
    "partnership",
    "dialogue",
    "working group",
    "agreement",
    "programme",
)

#: Kinds of action a commitment names, in the order they are tested.
ACTION_KINDS: tuple[str, ...] = (
    "establish",
    "exchange information",
    "explore",
    "fund",
    "procure",
    "cooperate",
    "coordinate",
    "develop",
    "review",
)

#: How binding a commitment sentence reads: "will"/"agreed" (firm), "intend"/"aim" (intended),
#: a past act ("launched", "signed": done).
MODALITIES: tuple[str, ...] = ("firm", "intended", "done")

#: Status of an instrument, most advanced first (merging keeps the most advanced).
STATUSES: tuple[str, ...] = (
    "in force",
    "signed",
    "concluded",
    "launched",
    "agreed",
    "planned",
    "referenced",
)


@dataclass(frozen=True)
class Amount:
    """A money amount as written; ``equivalents`` are the bracketed conversions after it."""

    text: str
    value: float
    currency: str
    equivalents: tuple[Amount, ...] = ()
    currency_assumed: bool = False  # a bare "$" or "dollars", read as USD


@dataclass(frozen=True)
class DateMention:
    """A date as written. Parts the text does not give stay ``None``: never guessed."""

    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    relative: bool = False  # "in the spring", "by the end of the year", "within six months"

    @property
    def iso(self) -> str | None:
        """ISO 8601 for the parts known (``2024-02``), or None without a year."""
        if self.year is None:
            return None
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Placeholder:
    """Template text left in a published text, such as "[date]": flagged, never filled in."""

    text: str
    sentence: str
    source: str


@dataclass(frozen=True)
class Commitment:
    """One sentence in which actors commit (or intend) to act."""

    sentence: str
    actors: tuple[str, ...]
    kinds: tuple[str, ...]
    modality: str
    themes: tuple[str, ...]
    materials: tuple[str, ...]
    amounts: tuple[Amount, ...]
    target_dates: tuple[DateMention, ...]
    source: str


@dataclass(frozen=True)
class DatedEvent:
    """A date attached to an instrument, with what happened then ("launched", "meeting")."""

    event: str
    date: DateMention
    source: str


@dataclass(frozen=True)
class Partnership:
    """One partnership-like instrument, merged over every text that names it."""

    id: str
    name: str
    instrument: str
    parties: tuple[str, ...]
    status: str
    themes: tuple[str, ...]
    materials: tuple[str, ...]
    commitments: tuple[Commitment, ...]
    amounts: tuple[Amount, ...]
    dates: tuple[DatedEvent, ...]
    sources: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # ids of instruments named in the same sentences
    placeholders: tuple[Placeholder, ...] = ()
    evidence: tuple[str, ...] = ()  # the sentences that name the instrument
    languages: tuple[str, ...] = field(default=("en",))


@dataclass(frozen=True)
class TextResult:
    """A text after reading and cleaning: what was kept, removed and flagged."""

    id: str
    name: str
    language: str
    title: str
    paragraphs: tuple[str, ...]
    duplicates_removed: int
    boilerplate_removed: tuple[str, ...]
    publishers: tuple[str, ...]
    placeholders: tuple[Placeholder, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)
