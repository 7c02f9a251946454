"""Service results shaped as API tables: validated rows, envelope extras, CSV rows.

Only reshaping happens here (nesting, pivoting, picking columns); every number and every row
comes from :mod:`chainwatch.services` (the request checks live in
:mod:`chainwatch.services.reference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from chainwatch.api import models
from chainwatch.api.representation import Table, plain, rows

WIDE_KEYS = ["perspective", "year", "scope"]
HEADLINE_METRICS = ("import_partner_hhi", "outside_bloc_share", "production_hhi",
                    "eu_supply_risk")  # fmt: skip


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(name): plain(value) for name, value in record.items()}
            for record in frame.to_dict(orient="records")]  # fmt: skip


def group_table(members: pd.DataFrame) -> Table:
    """Groups with their members nested; the CSV has one row per group and member."""
    groups: dict[str, dict[str, Any]] = {}
    for record in _records(members):
        group = groups.setdefault(record["group_id"], {
            "group_id": record["group_id"], "name": record["name"],
            "description": record["description"], "user_defined": record["user_defined"],
            "members": [],
        })  # fmt: skip
        if record["iso3"] is not None:
            group["members"].append({
                "iso3": record["iso3"], "name": record["country_name"],
                "from_year": record["member_from_year"], "to_year": record["member_to_year"],
            })  # fmt: skip
    items = [models.Group(member_count=len(group["members"]), **group)
             for group in groups.values()]  # fmt: skip
    csv = members.rename(columns={
        "iso3": "member_iso3", "country_name": "member_name",
        "member_from_year": "member_from_year", "member_to_year": "member_to_year",
    })  # fmt: skip
    return Table(items, csv=csv)


def metric_table(frame: pd.DataFrame, wide: bool) -> Table:
    if not wide:
        return Table(rows(models.MetricRow, frame))
    return Table(rows(models.MetricWideRow, wide_metrics(frame)))


def wide_metrics(frame: pd.DataFrame, metrics: Sequence[str] = ()) -> pd.DataFrame:
    """One row per perspective, year and scope; one column per metric (``metrics``: these,
    present or not)."""
    labels = frame.drop_duplicates(WIDE_KEYS)[[*WIDE_KEYS, "material", "stage"]]
    values = frame.drop_duplicates([*WIDE_KEYS, "metric"]).pivot(
        index=WIDE_KEYS, columns="metric", values="value"
    )
    values = values.reindex(columns=list(metrics) or list(values.columns)).reset_index()
    values.columns.name = None
    return labels.merge(values, on=WIDE_KEYS, how="left").reset_index(drop=True)


def concentration_table(frame: pd.DataFrame) -> Table:
    """Headline concentration and risk metrics per year and stage, with their sources."""
    headline = frame[frame["metric"].isin(HEADLINE_METRICS)]
    wide = wide_metrics(headline, HEADLINE_METRICS)
    sources = (
        headline.groupby(WIDE_KEYS)["sources"].agg(_joined_sources).rename("sources").reset_index()
    )
    wide = wide.merge(sources, on=WIDE_KEYS, how="left").sort_values(["year", "stage"])
    return Table(rows(models.ConcentrationRow, wide))


def _joined_sources(values: pd.Series) -> str:
    parts = {part for value in values.dropna() for part in str(value).split("; ") if part}
    return "; ".join(sorted(parts))


def risk_table(frame: pd.DataFrame) -> Table:
    provenance = frame.attrs.get("provenance", {})
    extra = {"method_ids": list(provenance.get("method_ids", [])),
             "sources": list(provenance.get("sources", []))}  # fmt: skip
    return Table(rows(models.RiskRow, frame), extra=extra)


def profile_table(frame: pd.DataFrame, country: pd.DataFrame, year: int, bloc: str) -> Table:
    (about,) = rows(models.Country, country)
    return Table(rows(models.CountryProfileRow, frame),
                 extra={"country": about, "year": year, "bloc": bloc})  # fmt: skip
