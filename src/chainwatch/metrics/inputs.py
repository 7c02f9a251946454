"""The relations the metric definitions read, built from the store for one request."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics.formulas import calc_political_instability, calc_wgi_scaled

OPEN_FROM, OPEN_TO = 0, 9999
PRODUCTION_STAGES = ("mine", "refinery")


@dataclass(frozen=True)
class Perspective:
    """Who imports: a country (ISO3) or a group (EU27, ALLIED, a user group)."""

    code: str
    kind: str  # "country" or "group"
    name: str


def resolve_perspective(con: Any, code: str) -> Perspective:
    code = code.strip()
    row = con.execute("SELECT iso3, name FROM country WHERE iso3 = ?", [code.upper()]).fetchone()
    if row:
        return Perspective(row[0], "country", row[1])
    row = con.execute(
        "SELECT group_id, name FROM country_group WHERE upper(group_id) = ?", [code.upper()]
    ).fetchone()
    if row:
        return Perspective(row[0], "group", row[1])
    groups = [r[0] for r in con.execute("SELECT group_id FROM country_group ORDER BY 1").fetchall()]
    raise QueryError(
        f"unknown perspective {code!r}: use an ISO3 country code or a group ({', '.join(groups)})"
    )


def read_members(con: Any, perspectives: list[Perspective]) -> pd.DataFrame:
    """members(perspective, iso3, from_year, to_year) for the given perspectives."""
    frames = []
    for perspective in perspectives:
        if perspective.kind == "country":
            code = perspective.code
            frames.append(
                pd.DataFrame(
                    {"perspective": [code], "iso3": [code], "from_year": [OPEN_FROM],
                     "to_year": [OPEN_TO]}
                )
            )  # fmt: skip
        else:
            frames.append(read_group(con, perspective.code).assign(perspective=perspective.code))
    return pd.concat(frames, ignore_index=True)[["perspective", "iso3", "from_year", "to_year"]]


def read_group(con: Any, group_id: str) -> pd.DataFrame:
    """Members of a group with their years (open ends filled)."""
    frame: pd.DataFrame = con.execute(
        f"SELECT iso3, coalesce(member_from_year, {OPEN_FROM}) AS from_year, "
        f"coalesce(member_to_year, {OPEN_TO}) AS to_year "
        "FROM group_membership WHERE group_id = ?",
        [group_id],
    ).df()
    return frame


def read_all_country_members(con: Any) -> pd.DataFrame:
    """Every country its own perspective (the all-importers table)."""
    frame: pd.DataFrame = con.execute(
        f"SELECT iso3 AS perspective, iso3, {OPEN_FROM} AS from_year, {OPEN_TO} AS to_year "
        "FROM country WHERE kind <> 'aggregate'"
    ).df()
    return frame


def read_scope(con: Any, material: str | None, hs6: str | None, stage: str | None) -> pd.DataFrame:
    """scope(hs6, hs_revision, scope_key, material, stage): the codes each result covers."""
    if hs6 is not None:
        frame: pd.DataFrame = con.execute(
            "SELECT p.hs6, p.hs_revision, p.hs6 AS scope_key, mp.material, mp.stage "
            "FROM product p LEFT JOIN material_product mp USING (hs6, hs_revision) "
            "WHERE p.hs6 = ?",
            [hs6],
        ).df()
        if frame.empty:
            raise QueryError(f"unknown HS6 code {hs6!r}")
        return frame.drop_duplicates("hs_revision")
    query = (
        "SELECT hs6, hs_revision, material || '|' || stage AS scope_key, material, stage "
        "FROM material_product WHERE "
    )
    # the risk table covers the raw-material stages; a named material gets all its stages
    query += "true" if material else "stage IN ('mine', 'refinery', 'intermediate')"
    params: list[str] = []
    if material is not None:
        check_material(con, material)
        query += " AND material = ?"
        params.append(material)
    if stage is not None:
        query += " AND stage = ?"
        params.append(stage)
    frame = con.execute(query, params).df()
    return frame


def check_material(con: Any, material: str) -> None:
    if not con.execute("SELECT 1 FROM material WHERE material = ?", [material]).fetchone():
        known = [r[0] for r in con.execute("SELECT material FROM material ORDER BY 1").fetchall()]
        raise QueryError(f"unknown material {material!r}; known: {', '.join(known)}")


def read_production(con: Any, materials: list[str], years: list[int]) -> pd.DataFrame:
    """Country production per material, stage and year from the latest edition of each source.

    Quantities in the canonical unit of the series (t, kg, ct, m3); WLD is the world total,
    OTH the publisher's "other countries" row.
    """
    frame: pd.DataFrame = con.execute(
        """
        WITH ranked AS (
            SELECT *, dense_rank() OVER (
                PARTITION BY material, stage, year, source ORDER BY vintage DESC) AS edition_rank
            FROM production
            WHERE measure = 'production' AND material IN (SELECT unnest(?))
              AND year IN (SELECT unnest(?))
        )
        SELECT year, country_iso3, material, stage, product_type, quantity, unit, estimated,
               source, vintage
        FROM ranked WHERE edition_rank = 1
        """,
        [materials, years],
    ).df()
    return frame


def read_governance(con: Any, years: list[int]) -> pd.DataFrame:
    """Per country and year: WGI_scaled (EU CRM, 0-10) and g (GeoPolRisk, 0-1).

    Uses the latest WGI year not after the requested year (WGI ends before trade data do).
    """
    frame: pd.DataFrame = con.execute(
        """
        WITH yearly AS (
            SELECT country_iso3, year, avg(estimate) AS mean_estimate, count(*) AS indicators,
                   max(CASE WHEN indicator = 'pv' THEN estimate END) AS political_stability,
                   max(vintage) AS vintage
            FROM governance WHERE estimate IS NOT NULL GROUP BY country_iso3, year
        ), wanted AS (SELECT unnest(?) AS target_year)
        SELECT w.target_year AS year, y.country_iso3, y.mean_estimate, y.political_stability,
               y.year AS wgi_year, y.vintage
        FROM wanted w JOIN yearly y ON y.year <= w.target_year AND y.indicators = 6
        QUALIFY row_number() OVER (
            PARTITION BY w.target_year, y.country_iso3 ORDER BY y.year DESC) = 1
        """,
        [years],
    ).df()
    frame["wgi_scaled"] = frame["mean_estimate"].map(calc_wgi_scaled)
    frame["instability"] = frame["political_stability"].map(
        lambda value: None if pd.isna(value) else calc_political_instability(value)
    )
    return frame


@cache
def restriction_factors() -> dict[str, float]:
    """Trade-related factor t per export-restriction measure type (reference CSV)."""
    text = resources.files("chainwatch.reference").joinpath("trade_restriction_factors.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {row["measure_type"]: float(row["t"]) for row in rows}


def read_restrictions(con: Any, material: str, codes: list[str]) -> pd.DataFrame:
    """Restriction events touching a material: by its name or by an HS6 code it uses."""
    frame: pd.DataFrame = con.execute(
        "SELECT event_id, country_iso3, measure_type, effective_date, end_date, hs6_codes, "
        "materials FROM export_restriction_event"
    ).df()
    if frame.empty:
        return frame

    pattern = re.compile(rf"\b{re.escape(material)}\b")

    def touches(row: pd.Series) -> bool:
        listed = set(str(row["hs6_codes"] or "").split(";"))
        return bool(listed & set(codes)) or bool(pattern.search(str(row["materials"]).lower()))

    return frame[frame.apply(touches, axis=1)]
