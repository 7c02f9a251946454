"""Country page: what a country supplies to the perspective and what it imports itself."""

from __future__ import annotations

from typing import Any

from chainwatch.errors import QueryError
from chainwatch.ui.formatting import country_label, format_percent, format_stage, format_usd
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import PerspectiveOption
from chainwatch.ui.rendering import provenance, records
from chainwatch.ui.views import charts
from chainwatch.ui.views.overview import material_names

TOP_BARS = 15


def country_context(
    data: PageData, iso3: str, perspective: PerspectiveOption, year: int
) -> dict[str, Any]:
    info = _country_info(data, iso3)
    code = str(info["iso3"])
    groups = data.groups()
    member_of = [
        {"group_id": str(row.group_id), "name": str(row.name)}
        for row in groups.itertuples()
        if code in str(row.member_iso3 or "").split(",")
    ]
    inside = code == perspective.code or any(g["group_id"] == perspective.code for g in member_of)
    profile = data.country_profile(code, year)
    names = material_names(data.materials())
    rows = records(profile)
    for row in rows:
        row["display_name"] = names.get(row["material"], row["material"])
    name = country_label(code, info["name"])
    return {
        "title": f"{name} — supplier profile, {year}",
        "country": {**info, "label": name},
        "member_of": member_of,
        "inside": inside,
        "rows": rows,
        "year": year,
        "headline": _headline(name, rows, perspective, year, inside),
        "provenance": provenance(profile),
        "charts": {"supplies": _supply_bars(rows, code, perspective, year)},
    }


def _country_info(data: PageData, iso3: str) -> dict[str, Any]:
    countries = data.countries()
    match = countries[countries["iso3"] == iso3.strip().upper()]
    if match.empty:
        raise QueryError(f"unknown country {iso3!r}: use an ISO3 code (see the Countries page)")
    return records(match)[0]


def _headline(
    name: str,
    rows: list[dict[str, Any]],
    perspective: PerspectiveOption,
    year: int,
    inside: bool,
) -> str:
    buyer = perspective.phrase
    whose = f"{buyer}'s imports" + (" from outside it" if perspective.is_group else "")
    total = sum(row["exports_to_bloc_usd"] or 0.0 for row in rows)
    if inside:
        return f"{name} is part of {buyer}: its deliveries there are internal flows, not imports."
    if total == 0:
        return f"{name} supplied none of the tracked materials to {buyer} in {year}."
    top = max(rows, key=lambda row: row["exports_to_bloc_usd"] or 0.0)
    share = format_percent(top["share_of_bloc_imports"])
    return (
        f"{name} supplied {format_usd(total)} of the tracked materials to {buyer} in {year}; "
        f"largest: {top['display_name'].lower()} ({format_stage(top['stage']).lower()}), "
        f"{format_usd(top['exports_to_bloc_usd'])}, {share} of {whose}."
    )


def _supply_bars(
    rows: list[dict[str, Any]], iso3: str, perspective: PerspectiveOption, year: int
) -> dict[str, Any]:
    supplied = [row for row in rows if (row["exports_to_bloc_usd"] or 0.0) > 0][:TOP_BARS]
    supplied.reverse()
    return charts.material_bars(
        [f"{row['display_name']} ({format_stage(row['stage']).lower()})" for row in supplied],
        [row["exports_to_bloc_usd"] for row in supplied],
        f"Deliveries to {perspective.code}, US$",
        f"supplies-{iso3}-to-{perspective.code}-{year}",
    )
