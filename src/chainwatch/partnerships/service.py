"""The tracker's services: add texts, read the merged records, coverage for a perspective.

The one place that joins the pure extraction (``extract``, ``merge``, ``coverage``) with the
app database (``store.text_store``) and the analytic store (risk table, group members). The
CLI, the API and the dashboard call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from threading import Lock
from typing import Any

import pandas as pd

from chainwatch.errors import InputError, QueryError
from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.partnerships.coverage import calc_coverage, calc_partnership_materials
from chainwatch.partnerships.extract import extract_from_text
from chainwatch.partnerships.gazetteer import load_gazetteer, party_name, theme_materials
from chainwatch.partnerships.merge import merge_partnerships
from chainwatch.partnerships.model import DateMention, Partnership, TextResult
from chainwatch.partnerships.text import clean_text, read_text_file
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.queries import read_group_members
from chainwatch.store.text_store import NewText, StoredText, read_texts, write_texts

_CACHE: dict[tuple[str, ...], list[Partnership]] = {}
_CACHE_LOCK = Lock()


@dataclass(frozen=True)
class AddedText:
    """A text after ``add_text_files``: stored (or already there) and what it yields."""

    text: StoredText
    cleaned: TextResult
    instruments: tuple[str, ...]


def read_text_files(paths: Sequence[Path]) -> list[tuple[TextResult, str]]:
    """Read and clean every file first: one bad file stops the lot before anything is stored."""
    read: list[tuple[TextResult, str]] = []
    for path in paths:
        raw = read_text_file(path)
        cleaned = clean_text(path.name, raw)
        if not cleaned.paragraphs:
            raise InputError(path, "no text left once page furniture is removed")
        read.append((cleaned, raw))
    return read


def add_text_files(state: AppState, paths: Sequence[Path], actor: str = "cli") -> list[AddedText]:
    """Store the texts (all or none) and report the instruments each one names."""
    read = read_text_files(paths)
    stored = write_texts(
        state,
        [NewText(c.id, c.name, c.language, c.title, raw) for c, raw in read],
        actor=actor,
    )
    return [
        AddedText(text, cleaned, tuple(r.name for r in extract_from_text(cleaned)))
        for text, (cleaned, _) in zip(stored, read, strict=True)
    ]


def extract_stored(texts: Sequence[StoredText]) -> list[Partnership]:
    """The merged records of the stored texts (cached by the set of text ids)."""
    key = tuple(text.id for text in texts)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    records: list[Partnership] = []
    for text in texts:
        records.extend(extract_from_text(clean_text(text.name, text.content)))
    merged = merge_partnerships(records)
    with _CACHE_LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = merged
    return merged


def read_partnerships(state: AppState) -> list[Partnership]:
    return extract_stored(read_texts(state))


def filter_partnerships(
    records: Sequence[Partnership],
    theme: str | None = None,
    party: str | None = None,
    instrument: str | None = None,
    material: str | None = None,
) -> list[Partnership]:
    """Records with the theme, party, instrument type and (named or linked) material asked."""
    links = theme_materials()
    return [
        record
        for record in records
        if (theme is None or theme in record.themes)
        and (party is None or party.upper() in record.parties)
        and (instrument is None or record.instrument == instrument)
        and (material is None or material in calc_partnership_materials(record, links))
    ]


def find_partnership(records: Sequence[Partnership], partnership_id: str) -> Partnership:
    for record in records:
        if record.id == partnership_id:
            return record
    raise QueryError(f"no partnership with id {partnership_id!r} (see `chainwatch partnerships`)")


def partnerships_frame(records: Sequence[Partnership]) -> pd.DataFrame:
    """One row per record, for tables and CSV."""
    rows = [
        {
            "id": r.id, "name": r.name, "instrument": r.instrument,
            "parties": "; ".join(r.parties), "status": r.status, "themes": "; ".join(r.themes),
            "materials": "; ".join(r.materials), "commitments": len(r.commitments),
            "amounts": "; ".join(f"{a.currency} {a.value:,.0f}" for a in r.amounts),
            "dates": "; ".join(f"{d.event} {d.date.iso or d.date.text}" for d in r.dates),
            "placeholders": "; ".join(p.text for p in r.placeholders),
            "sources": "; ".join(r.sources),
        }
        for r in records
    ]  # fmt: skip
    columns = ["id", "name", "instrument", "parties", "status", "themes", "materials",
               "commitments", "amounts", "dates", "placeholders", "sources"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def commitments_frame(record: Partnership) -> pd.DataFrame:
    rows = [
        {
            "modality": c.modality, "kinds": "; ".join(c.kinds), "actors": "; ".join(c.actors),
            "themes": "; ".join(c.themes), "materials": "; ".join(c.materials),
            "amounts": "; ".join(a.text for a in c.amounts),
            "target_dates": "; ".join(d.text for d in c.target_dates),
            "sentence": c.sentence, "source": c.source,
        }
        for c in record.commitments
    ]  # fmt: skip
    columns = ["modality", "kinds", "actors", "themes", "materials", "amounts", "target_dates",
               "sentence", "source"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def record_document(record: Partnership) -> dict[str, Any]:
    """The record as JSON-ready data, with party names, theme labels and material links."""
    labels = {theme.id: theme.label for theme in load_gazetteer().taxonomy}
    document: dict[str, Any] = _plain(record)
    document["party_names"] = {party: party_name(party) for party in record.parties}
    document["theme_labels"] = {theme: labels.get(theme, theme) for theme in record.themes}
    document["linked_materials"] = {
        material: list(via)
        for material, via in calc_partnership_materials(record, theme_materials()).items()
    }
    return document


def _plain(value: Any) -> Any:
    """Dataclasses as dicts (dates with their ISO form), tuples as lists."""
    if isinstance(value, DateMention):
        return {**{f.name: getattr(value, f.name) for f in fields(value)}, "iso": value.iso}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def texts_frame(texts: Sequence[StoredText]) -> pd.DataFrame:
    """The stored texts, one row each (no content), for tables and CSV."""
    columns = ["id", "name", "language", "title", "added_by", "added_at"]
    rows = [[t.id, t.name, t.language, t.title, t.added_by, t.added_at.isoformat()] for t in texts]
    return pd.DataFrame(rows, columns=columns)


def themes_frame() -> pd.DataFrame:
    """The theme taxonomy with the materials each theme concerns and why."""
    return pd.DataFrame(
        [
            {"theme": t.id, "label": t.label, "materials": "; ".join(t.materials), "basis": t.basis}
            for t in load_gazetteer().taxonomy
        ]
    )


def group_members(store: Store) -> dict[str, set[str]]:
    members = read_group_members(store).dropna(subset=["iso3"])
    return {str(g): set(frame["iso3"]) for g, frame in members.groupby("group_id")}


def calc_partnership_coverage(
    store: Store,
    records: Sequence[Partnership],
    perspective: str,
    year: int | None = None,
    top: int = 15,
    bloc: str = DEFAULT_BLOC,
    exposures: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The perspective's most exposed materials (risk-table order) and the partnerships that
    cover each; ``exposures`` may pass a risk table already computed."""
    risk = exposures if exposures is not None else calc_risk_table(store, perspective, year, bloc)
    members = group_members(store)
    wanted = members.get(perspective.upper(), {perspective.upper()})
    return calc_coverage(risk.head(top), records, wanted, members, theme_materials())
