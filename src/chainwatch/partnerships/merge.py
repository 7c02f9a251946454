"""Merging what several texts say about one partnership into one record with every source.

Two records are the same instrument when they have the same instrument type, the same parties
(or one text names only some of them), and
their core names (parties, filler and head words dropped, French name words in English) are
equal or one contains the other ("Digital" and "EU-Canada Digital"); or when one has no core
name of its own ("the EU-Canada Partnership") and the parties are the same. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from chainwatch.partnerships.extract import status_rank
from chainwatch.partnerships.mentions import core_name
from chainwatch.partnerships.model import Partnership
from chainwatch.partnerships.nlp import find_matches, ids


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@lru_cache(maxsize=65536)
def _core(name: str) -> str:
    return core_name(name)


@lru_cache(maxsize=65536)
def _parties_named(name: str) -> int:
    return len(ids(find_matches(name), "party"))


def same_instrument(first: Partnership, second: Partnership) -> bool:
    """Whether two records name the same instrument (see the module docstring)."""
    if first.instrument != second.instrument:
        return False
    parties = set(first.parties), set(second.parties)
    if len(parties[0]) >= 2 and len(parties[1]) >= 2 and parties[0] != parties[1]:
        return False  # "Digital Partnership" of Canada and Japan is not that of Canada and the EU
    if not parties[0] & parties[1] and parties[0] and parties[1]:
        return False
    cores = [{_core(name) for name in (record.name, *record.aliases)} for record in (first, second)]
    if cores[0] & cores[1] - {""}:
        return True
    for one in cores[0] - {""}:
        for other in cores[1] - {""}:
            words_one, words_other = set(one.split()), set(other.split())
            if words_one <= words_other or words_other <= words_one:
                return True
    same_parties = set(first.parties) == set(second.parties)
    return same_parties and ("" in cores[0] or "" in cores[1])


def merge_two(first: Partnership, second: Partnership) -> Partnership:
    """One record from two of the same instrument: the most specific name, the most advanced
    status, every party, theme, commitment, amount, date and source."""
    # the name that names more parties wins, then an English name, then the earlier text's
    ranks = [
        (_parties_named(record.name), record.languages[:1] == ("en",)) for record in (first, second)
    ]
    name = second.name if ranks[1] > ranks[0] else first.name
    aliases = _unique(n for n in (*first.aliases, first.name, *second.aliases, second.name)
                      if n != name)  # fmt: skip
    status = min((first.status, second.status), key=status_rank)
    return Partnership(
        id=first.id,
        name=name,
        instrument=first.instrument,
        parties=tuple(sorted(set(first.parties) | set(second.parties))),
        status=status,
        themes=_unique((*first.themes, *second.themes)),
        materials=_unique((*first.materials, *second.materials)),
        commitments=first.commitments + second.commitments,
        amounts=first.amounts + second.amounts,
        dates=tuple(dict.fromkeys(first.dates + second.dates)),
        sources=_unique((*first.sources, *second.sources)),
        aliases=aliases,
        related=_unique((*first.related, *second.related)),
        placeholders=tuple(dict.fromkeys(first.placeholders + second.placeholders)),
        evidence=_unique((*first.evidence, *second.evidence)),
        languages=_unique((*first.languages, *second.languages)),
    )


def merge_partnerships(records: Iterable[Partnership]) -> list[Partnership]:
    """Records merged so each instrument appears once; ``related`` ids follow the merges."""
    merged: list[Partnership] = []
    renamed: dict[str, str] = {}
    for record in records:
        for index, existing in enumerate(merged):
            if same_instrument(existing, record):
                merged[index] = merge_two(existing, record)
                renamed[record.id] = existing.id
                break
        else:
            merged.append(record)
            renamed.setdefault(record.id, record.id)
    return [
        replace(record, related=_unique(
            renamed.get(i, i) for i in record.related if renamed.get(i, i) != record.id))
        for record in merged
    ]  # fmt: skip
