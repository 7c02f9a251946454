"""Partnerships: the instruments read from the press texts added (``chainwatch texts add``),
filtered by theme and party, the coverage of the perspective's most exposed materials, and one
record with its commitments, dates, amounts, placeholders and evidence sentences."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.partnerships.model import Amount, Commitment, DateMention, Partnership
from chainwatch.services.partnerships import (
    DEFAULT_TOP,
    StoredText,
    clean_text,
    commitments_frame,
    filter_partnerships,
    find_partnership,
    party_name,
    record_document,
    theme_labels,
)
from chainwatch.services.reference import PERSPECTIVE_PATTERN
from chainwatch.ui.formatting import MISSING, country_names, number_or_none
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import PerspectiveOption
from chainwatch.ui.rendering import records
from chainwatch.ui.views.overview import material_names

COVERAGE_TOP = DEFAULT_TOP
"""How many of the perspective's most exposed materials the coverage table shows."""
COVERAGE_LABELS = {"named": "named", "theme": "theme", "none": "none"}
COVERAGE_TITLES = {
    "named": "a partnership's text names the material",
    "theme": "a theme of a partnership concerns the material; no text names it",
    "none": "no partnership of the perspective reaches the material: a gap",
}
API = "/api/v1/partnerships"


@dataclass(frozen=True)
class PartnershipsRequest:
    perspective: PerspectiveOption
    year: int
    theme: str | None
    party: str | None


def check_filters(theme: str, party: str) -> tuple[str | None, str | None]:
    """The theme and party asked (None where not), or a QueryError for one that cannot be."""
    chosen_theme = theme.strip() or None
    if chosen_theme is not None and chosen_theme not in theme_labels():
        raise QueryError(f"unknown theme {chosen_theme!r}: see {API}/themes")
    chosen_party = party.strip().upper() or None
    if chosen_party is not None and not re.fullmatch(PERSPECTIVE_PATTERN, chosen_party):
        raise QueryError(f"unknown party {party!r}: use an ISO3 country code or a group id")
    return chosen_theme, chosen_party


def api_url(path: str, params: dict[str, Any]) -> str:
    """An API address with the parameters given (those that are None left out)."""
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{API}{path}?{query}"


# ---- the list and the coverage ----------------------------------------------------------


def partnerships_context(data: PageData, wanted: PartnershipsRequest) -> dict[str, Any]:
    texts = data.text_ids()
    every = data.partnerships()
    labels = theme_labels()
    found = filter_partnerships(every, wanted.theme, wanted.party)
    parties = {party for record in every for party in record.parties}
    parties |= {wanted.party} if wanted.party else set()
    themes = {theme for record in every for theme in record.themes}
    themes |= {wanted.theme} if wanted.theme else set()
    return {
        "title": f"Partnerships — {wanted.perspective.label}",
        "texts": len(texts),
        "total": len(every),
        "rows": [_list_row(record, labels) for record in found],
        "theme": wanted.theme,
        "party": wanted.party,
        "theme_choices": sorted(((t, labels.get(t, t)) for t in themes), key=lambda c: c[1]),
        "party_choices": sorted(((p, party_name(p)) for p in parties), key=lambda c: c[1]),
        "list_csv": api_url("", {"theme": wanted.theme, "party": wanted.party, "format": "csv"}),
        "coverage": _coverage_context(data, wanted, every, labels) if every else None,
    }


def _list_row(record: Partnership, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "aliases": list(record.aliases),
        "instrument": record.instrument,
        "parties": [{"code": p, "name": party_name(p)} for p in record.parties],
        "status": record.status,
        "themes": [{"id": t, "label": labels.get(t, t)} for t in record.themes],
        "commitments": len(record.commitments),
        "placeholders": len(record.placeholders),
        "sources": list(record.sources),
    }


def _coverage_context(
    data: PageData, wanted: PartnershipsRequest, every: Sequence[Partnership],
    labels: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    code = wanted.perspective.code
    frame = data.partnership_coverage(code, wanted.year, COVERAGE_TOP)
    names = material_names(data.materials())
    by_id = {record.id: record for record in every}
    rows = records(frame)
    for row in rows:
        row["display_name"] = names.get(row["material"], row["material"])
        row["partnerships"] = [
            {"id": pid, "name": by_id[pid].name if pid in by_id else pid}
            for pid in _split(row["partnership_ids"])
        ]
        row["themes"] = [labels.get(t, t) for t in _split(row["via_themes"])]
        row["coverage_label"] = COVERAGE_LABELS[row["coverage"]]
        row["coverage_title"] = COVERAGE_TITLES[row["coverage"]]
    counts = {kind: sum(1 for row in rows if row["coverage"] == kind) for kind in COVERAGE_LABELS}
    return {
        "rows": rows,
        "counts": counts,
        "top": COVERAGE_TOP,
        "csv": api_url(
            "/coverage",
            {"perspective": code, "year": wanted.year, "bloc": data.bloc, "format": "csv"},
        ),
    }


def _split(joined: Any) -> list[str]:
    return [part.strip() for part in str(joined or "").split(";") if part.strip()]


# ---- one record ---------------------------------------------------------------------------


def partnership_context(data: PageData, partnership_id: str) -> dict[str, Any]:
    every = data.partnerships()
    record = find_partnership(every, partnership_id)
    document = record_document(record)
    labels: dict[str, str] = document["theme_labels"]
    linked: dict[str, list[str]] = document["linked_materials"]
    names = material_names(data.materials())
    by_id = {other.id: other for other in every}
    texts = [text for text in data.texts() if text.name in record.sources]
    return {
        "title": f"{record.name} — partnership",
        "record": record,
        "parties": _parties(data, record.parties),
        "themes": [{"id": t, "label": labels.get(t, t)} for t in record.themes],
        "materials_named": [_material(m, names) for m in record.materials],
        "materials_by_theme": _materials_by_theme(record, linked, names, labels),
        "dates": [{"event": d.event, **_date(d.date), "source": d.source} for d in record.dates],
        "amounts": [_amount(amount) for amount in record.amounts],
        "placeholders": list(record.placeholders),
        "commitments": [_commitment(c, labels, names) for c in record.commitments],
        "related": [
            {"id": rid, "name": by_id[rid].name if rid in by_id else rid, "known": rid in by_id}
            for rid in record.related
        ],
        "evidence": _evidence(record, texts),
        "sources": [_text(text) for text in texts],
        "unknown_sources": sorted(set(record.sources) - {t.name for t in texts}),
        "json_url": f"{API}/{record.id}",
    }


def commitments_table(data: PageData, partnership_id: str) -> pd.DataFrame:
    """A record's commitments, one row each, for the CSV download."""
    return commitments_frame(find_partnership(data.partnerships(), partnership_id))


def _commitment(
    commitment: Commitment, labels: dict[str, str], names: dict[str, str]
) -> dict[str, Any]:
    return {
        "modality": commitment.modality,
        "kinds": list(commitment.kinds),
        "actors": [party_name(actor) for actor in commitment.actors],
        "themes": [labels.get(theme, theme) for theme in commitment.themes],
        "materials": [_material(material, names) for material in commitment.materials],
        "amounts": [_amount(amount) for amount in commitment.amounts],
        "target_dates": [_date(date) for date in commitment.target_dates],
        "sentence": commitment.sentence,
        "source": commitment.source,
    }


def _text(text: StoredText) -> dict[str, str]:
    return {
        "name": text.name,
        "title": text.title,
        "language": text.language,
        "added_at": text.added_at.strftime("%Y-%m-%d"),
    }


def _parties(data: PageData, parties: Iterable[str]) -> list[dict[str, Any]]:
    """Each party with its name and where it links: a country page or a group's overview."""
    countries = data.countries()
    known = set(countries.loc[countries["kind"] == "country", "iso3"].astype(str))
    groups = set(data.groups()["group_id"].astype(str))
    everyday = country_names(countries)
    out = []
    for party in parties:
        kind = "country" if party in known else "group" if party in groups else None
        name = everyday.get(party) if kind == "country" else None
        out.append({"code": party, "name": name or party_name(party), "kind": kind})
    return out


def _material(material: str, names: dict[str, str]) -> dict[str, Any]:
    return {"id": material, "name": names.get(material, material), "known": material in names}


def _materials_by_theme(
    record: Partnership, linked: dict[str, list[str]], names: dict[str, str],
    labels: dict[str, str],
) -> list[dict[str, Any]]:  # fmt: skip
    """For each theme of the record, the materials it concerns (theme taxonomy)."""
    groups = []
    for theme in record.themes:
        materials = [m for m, via in linked.items() if theme in via]
        if materials:
            items = sorted((_material(m, names) for m in materials), key=lambda m: m["name"])
            groups.append({"theme": theme, "label": labels.get(theme, theme), "materials": items})
    return groups


def _date(date: DateMention) -> dict[str, Any]:
    """A date as written, its ISO form where the year is known; the year is never guessed."""
    return {"text": date.text, "iso": date.iso, "year": date.year, "relative": date.relative}


def format_money(value: Any, currency: str) -> str:
    """An amount with its currency and a scale word: EUR 50.0 M, CAD 1.2 bn."""
    amount = number_or_none(value)
    if amount is None:
        return f"{currency} {MISSING}"
    for scale, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(amount) >= scale:
            return f"{currency} {amount / scale:,.1f}{suffix}"
    return f"{currency} {amount:,.0f}"


def _amount(amount: Amount) -> dict[str, Any]:
    return {
        "text": amount.text,
        "money": format_money(amount.value, amount.currency),
        "assumed": amount.currency_assumed,
        "equivalents": [
            {"text": e.text, "money": format_money(e.value, e.currency)} for e in amount.equivalents
        ],
    }


def _plain(text: str) -> str:
    return " ".join(text.split())


def _evidence(record: Partnership, texts: Sequence[StoredText]) -> list[dict[str, Any]]:
    """The sentences that name the instrument, each with the texts it is read from."""
    cleaned = [(text.name, _plain(clean_text(text.name, text.content).text)) for text in texts]
    out = []
    for sentence in record.evidence:
        wanted = _plain(sentence)
        found = [name for name, body in cleaned if wanted in body]
        out.append({"sentence": sentence, "sources": found or list(record.sources)})
    return out
