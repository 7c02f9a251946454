"""Partnership tracker: agreements, dialogues, working groups and commitments from press texts.

>>> from chainwatch.partnerships import extract_partnerships
>>> extract_partnerships([("statement.txt", open("statement.txt").read())])
"""

from __future__ import annotations

from collections.abc import Iterable

from chainwatch.partnerships.extract import extract_from_text
from chainwatch.partnerships.merge import merge_partnerships
from chainwatch.partnerships.model import (
    ACTION_KINDS,
    INSTRUMENT_TYPES,
    STATUSES,
    Amount,
    Commitment,
    DatedEvent,
    DateMention,
    Partnership,
    Placeholder,
    TextResult,
)
from chainwatch.partnerships.text import clean_text, read_text_file


def extract_partnerships(texts: Iterable[tuple[str, str]]) -> list[Partnership]:
    """Partnerships from (source name, raw text) pairs, merged across texts."""
    records: list[Partnership] = []
    for name, raw in texts:
        records.extend(extract_from_text(clean_text(name, raw)))
    return merge_partnerships(records)


__all__ = [
    "ACTION_KINDS",
    "INSTRUMENT_TYPES",
    "STATUSES",
    "Amount",
    "Commitment",
    "DateMention",
    "DatedEvent",
    "Partnership",
    "Placeholder",
    "TextResult",
    "clean_text",
    "extract_from_text",
    "extract_partnerships",
    "merge_partnerships",
    "read_text_file",
]
