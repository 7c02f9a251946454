"""Time series and breakdowns behind the dashboard's charts and maps.

Each function returns a tidy DataFrame with the same provenance columns as the metric tables
(``method_id``, ``method_version``, ``sources``) so every plotted number is traceable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import inputs, sql, trade
from chainwatch.metrics.methods import METHODS
from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.metrics.supply import production_shares
from chainwatch.store import Store


def _provenance(frame: pd.DataFrame, metric: str, sources: str) -> pd.DataFrame:
    method = METHODS[metric]
    return frame.assign(method_id=method.method_id, method_version=method.version, sources=sources)


def calc_import_sources(
    store: Store,
    perspective: str,
    material: str | None = None,
    stage: str | None = None,
    hs6: str | None = None,
    years: Sequence[int] | None = None,
    bloc: str = DEFAULT_BLOC,
) -> pd.DataFrame:
    """Imports of a perspective by supplier and year: value, quantity, share, inside the bloc.

    Columns: year, stage, exporter_iso3, exporter_name, value_usd, quantity_t, share, in_bloc.
    """
    with store.connect() as con:
        who = inputs.resolve_perspective(con, perspective)
        bloc_of = inputs.resolve_perspective(con, bloc)
        scope = inputs.read_scope(con, material, hs6, stage)
        if scope.empty:
            raise QueryError("no HS6 code maps to that material and stage")
        wanted = list(years) if years else _all_years(con)
        members = inputs.read_members(con, [who])
        bloc_members = inputs.read_members(con, [bloc_of])[["iso3", "from_year", "to_year"]]
        trade.register_relations(con, members, bloc_members, scope, wanted)
        frame: pd.DataFrame = con.execute(
            f"""
            WITH partner AS ({sql.PARTNER_IMPORTS})
            SELECT p.year, split_part(p.scope_key, '|', 2) AS stage, p.exporter_iso3,
                   c.name AS exporter_name, p.value_usd, p.quantity_t,
                   p.value_usd / sum(p.value_usd) OVER (PARTITION BY p.year, p.scope_key)
                       AS share,
                   EXISTS (SELECT 1 FROM bloc b WHERE b.iso3 = p.exporter_iso3
                           AND p.year BETWEEN b.from_year AND b.to_year) AS in_bloc
            FROM partner p LEFT JOIN country c ON c.iso3 = p.exporter_iso3
            ORDER BY p.year, stage, p.value_usd DESC
            """
        ).df()
        sources = trade.trade_vintages(con)
    if hs6 is not None:
        frame["stage"] = hs6
    return _provenance(frame, "imports_value_usd", sources)


def calc_production_map(
    store: Store, material: str, stage: str, year: int | None = None
) -> pd.DataFrame:
    """Production by country for a material and stage (latest year if none): share of world.

    Columns: year, country_iso3, country_name, quantity, unit, share, product_type.
    """
    with store.connect() as con:
        inputs.check_material(con, material)
        years = [year] if year else _production_years(con, material, stage)
        production = inputs.read_production(con, [material], years)
        countries = dict(con.execute("SELECT iso3, name FROM country").fetchall())
    rows = production[production["stage"] == stage]
    if rows.empty:
        raise QueryError(f"no {stage} production figures for {material}")
    latest = int(rows["year"].max())
    rows = rows[rows["year"] == latest]
    counts = rows[~rows["country_iso3"].isin({"WLD", "OTH"})].groupby("product_type").size()
    series = rows[rows["product_type"] == counts.idxmax()]
    shares = production_shares(series)
    shares = shares.assign(
        year=latest,
        country_name=shares["country_iso3"].map(countries),
        unit=str(series["unit"].iloc[0]),
        product_type=str(series["product_type"].iloc[0]),
    ).sort_values("share", ascending=False)
    source = f"{series['source'].iloc[0]} {series['vintage'].iloc[0]}"
    columns = ["year", "country_iso3", "country_name", "quantity", "unit", "share", "product_type"]
    return _provenance(shares[columns].reset_index(drop=True), "production_hhi", source)


def calc_country_profile(
    store: Store, country: str, year: int, bloc: str = DEFAULT_BLOC
) -> pd.DataFrame:
    """What a country supplies to the bloc and imports, by material and stage, in one year.

    Columns: material, stage, exports_to_bloc_usd, share_of_bloc_imports, imports_usd,
    exports_usd.
    """
    with store.connect() as con:
        who = inputs.resolve_perspective(con, country)
        if who.kind != "country":
            raise QueryError(f"{country!r} is a group; the country view takes an ISO3 code")
        bloc_of = inputs.resolve_perspective(con, bloc)
        scope = inputs.read_scope(con, None, None, None)
        members = inputs.read_members(con, [bloc_of])
        trade.register_relations(con, members, members[["iso3", "from_year", "to_year"]],
                                 scope, [year])  # fmt: skip
        frame: pd.DataFrame = con.execute(
            """
            WITH scoped AS (
                SELECT f.*, s.scope_key FROM flows f
                JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
            ), bloc_members AS (SELECT iso3 FROM bloc)
            SELECT split_part(scope_key, '|', 1) AS material,
                   split_part(scope_key, '|', 2) AS stage,
                   sum(CASE WHEN exporter_iso3 = ?
                             AND importer_iso3 IN (SELECT iso3 FROM bloc_members)
                            THEN value_usd ELSE 0 END) AS exports_to_bloc_usd,
                   sum(CASE WHEN exporter_iso3 = ? THEN value_usd ELSE 0 END) AS exports_usd,
                   sum(CASE WHEN importer_iso3 = ? THEN value_usd ELSE 0 END) AS imports_usd,
                   sum(CASE WHEN importer_iso3 IN (SELECT iso3 FROM bloc_members)
                             AND exporter_iso3 NOT IN (SELECT iso3 FROM bloc_members)
                            THEN value_usd ELSE 0 END) AS bloc_external_imports_usd
            FROM scoped GROUP BY scope_key
            """,
            [who.code, who.code, who.code],
        ).df()
        sources = trade.trade_vintages(con)
    frame["share_of_bloc_imports"] = (
        frame["exports_to_bloc_usd"] / frame["bloc_external_imports_usd"].where(
            frame["bloc_external_imports_usd"] > 0)
    )  # fmt: skip
    frame = frame[(frame["exports_usd"] > 0) | (frame["imports_usd"] > 0)]
    frame = frame.sort_values("exports_to_bloc_usd", ascending=False).reset_index(drop=True)
    return _provenance(frame.assign(year=year, country_iso3=who.code), "exports_value_usd", sources)


def _all_years(con: Any) -> list[int]:
    return [r[0] for r in con.execute("SELECT DISTINCT year FROM trade_flow ORDER BY 1").fetchall()]


def _production_years(con: Any, material: str, stage: str) -> list[int]:
    rows = con.execute(
        "SELECT DISTINCT year FROM production WHERE material = ? AND stage = ? ORDER BY 1",
        [material, stage],
    ).fetchall()
    return [r[0] for r in rows]
