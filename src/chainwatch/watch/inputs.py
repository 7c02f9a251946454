"""The series the monitor reads, taken from a store connection up to a year (no later data).

:func:`read_watch_inputs` reads trade by exporter and HS6, imports of the perspectives by
supplier (flows between members excluded, as ``metrics/sql.py`` defines them), production,
monthly prices and export-restriction events, each cut at the end of the requested year.
:meth:`WatchInputs.until` cuts an already read set at an earlier year: the backtest reads once
and replays the years, and every signal of year T sees only what :meth:`until` (T) leaves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import inputs as metric_inputs
from chainwatch.metrics import sql, trade
from chainwatch.store import Store

DEFAULT_PERSPECTIVES = ("ALLIED", "CAN", "EU27", "GBR", "USA")
"""Perspectives the partner and import-structure signals cover when none is asked for."""
DEFAULT_BLOC = "ALLIED"

PRICE_MATERIALS = {
    "ALUMINUM": "aluminium", "COPPER": "copper", "NICKEL": "nickel", "LEAD": "lead",
    "Tin": "tin", "Zinc": "zinc", "IRON_ORE": "iron ore", "GOLD": "gold", "SILVER": "silver",
    "PLATINUM": "platinum", "COAL_AUS": "coal steam", "COAL_SAFRICA": "coal steam",
    "CRUDE_BRENT": "crude oil", "NGAS_EUR": "natural gas", "NGAS_US": "natural gas",
    "PHOSROCK": "phosphate rock",
}  # fmt: skip
"""World Bank Pink Sheet series the monitor watches, with the material each one prices."""

SHORT_NAMES = {
    "USA": "the United States", "GBR": "the United Kingdom", "COD": "DR Congo",
    "COG": "Congo", "NLD": "the Netherlands", "PHL": "the Philippines",
    "ARE": "the United Arab Emirates", "CZE": "Czechia", "KOR": "South Korea",
    "EU27": "the EU27", "ALLIED": "the allied bloc", "RUS": "Russia",
}  # fmt: skip


@dataclass(frozen=True)
class WatchInputs:
    """Everything the signals of years up to ``last_year`` are computed from."""

    last_year: int
    perspectives: tuple[str, ...]
    bloc_id: str
    exports: pd.DataFrame
    """year, exporter_iso3, hs6, hs_revision, value_usd, quantity_t (to all destinations),
    value_without_quantity_usd (value of the flows that report no quantity)"""
    imports: pd.DataFrame
    """perspective, year, exporter_iso3, hs6, hs_revision, value_usd, quantity_t,
    value_without_quantity_usd"""
    bloc: pd.DataFrame
    """iso3, from_year, to_year: members of the bloc that defines 'outside-bloc'"""
    scopes: pd.DataFrame
    """hs6, hs_revision, scope_key, material, stage ('material|stage', or 'hs6:CODE')"""
    production: pd.DataFrame
    prices: pd.DataFrame
    """month, series, value"""
    price_series: pd.DataFrame
    """series, name, unit, material"""
    events: pd.DataFrame
    """export_restriction_event rows with known_date and scope_materials"""
    names: dict[str, str] = field(default_factory=dict)
    """ISO3 or group code -> display name; 'material:ID' -> material display name"""
    sources: dict[str, str] = field(default_factory=dict)
    """table -> 'publisher vintage' of the rows read"""

    def until(self, year: int) -> WatchInputs:
        """The same inputs as they stood at the end of ``year``: nothing dated later.

        Events announced later disappear; an end date after ``year`` was not yet known and
        becomes missing.
        """
        end = pd.Timestamp(year=year, month=12, day=31)
        events = self.events[pd.to_datetime(self.events["known_date"]) <= end].copy()
        later = pd.to_datetime(events["end_date"]) > end
        events["end_date"] = pd.to_datetime(events["end_date"]).where(~later)
        return replace(
            self,
            last_year=min(self.last_year, year),
            exports=self.exports[self.exports["year"] <= year],
            imports=self.imports[self.imports["year"] <= year],
            production=self.production[self.production["year"] <= year],
            prices=self.prices[self.prices["month"] <= end],
            events=events,
        )

    def name(self, code: str | None) -> str:
        if not code:
            return ""
        return SHORT_NAMES.get(code) or self.names.get(code) or code

    def material_name(self, material: str | None) -> str:
        if not material:
            return ""
        return self.names.get(f"material:{material}", material).lower()


def read_watch_inputs(
    store: Store,
    year: int,
    perspectives: Sequence[str] | None = None,
    bloc: str = DEFAULT_BLOC,
) -> WatchInputs:
    """Read what the monitor needs for years up to ``year`` (nothing later is read)."""
    with store.connect() as con:
        wanted = [metric_inputs.resolve_perspective(con, code)
                  for code in (perspectives or DEFAULT_PERSPECTIVES)]  # fmt: skip
        bloc_of = metric_inputs.resolve_perspective(con, bloc)
        years = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT year FROM trade_flow WHERE year <= ? ORDER BY 1", [year]
            ).fetchall()
        ]
        if not years:
            raise QueryError(f"no trade data loaded for {year} or earlier")
        scopes = _read_scopes(con, year)
        exports = _frame(con, "SELECT year, exporter_iso3, hs6, hs_revision, "
                         "sum(value_usd) AS value_usd, sum(quantity_t) AS quantity_t, "
                         "coalesce(sum(value_usd) FILTER (WHERE quantity_t IS NULL), 0) "
                         "AS value_without_quantity_usd "
                         "FROM trade_flow WHERE year <= ? GROUP BY ALL", [year])  # fmt: skip
        imports = _read_imports(con, wanted, bloc_of, years)
        production = _frame(con, "SELECT year, country_iso3, material, stage, product_type, "
                            "quantity, unit, source, vintage FROM production "
                            "WHERE measure = 'production' AND year <= ?", [year])  # fmt: skip
        prices = _frame(con, "SELECT month, series, value FROM price WHERE series IN "
                        "(SELECT unnest(?)) AND month <= ?",
                        [list(PRICE_MATERIALS), f"{year}-12-31"])  # fmt: skip
        prices["month"] = pd.to_datetime(prices["month"])
        price_series = _frame(
            con,
            "SELECT series, name, unit FROM price_series WHERE series IN (SELECT unnest(?))",
            [list(PRICE_MATERIALS)],
        )
        price_series["material"] = price_series["series"].map(PRICE_MATERIALS)
        events = _read_events(con, scopes, year)
        bloc_members = metric_inputs.read_members(con, [bloc_of])[["iso3", "from_year", "to_year"]]
        names = read_names(con)
        sources = _read_sources(con, year)
    return WatchInputs(
        last_year=max(years), perspectives=tuple(p.code for p in wanted), bloc_id=bloc_of.code,
        exports=exports, imports=imports, bloc=bloc_members, scopes=scopes,
        production=production, prices=prices, price_series=price_series, events=events,
        names=names, sources=sources,
    )  # fmt: skip


def _frame(con: Any, query: str, params: list[Any] | None = None) -> pd.DataFrame:
    frame: pd.DataFrame = con.execute(query, params or []).df()
    return frame


def _read_scopes(con: Any, year: int) -> pd.DataFrame:
    """Every HS6 code mapped to a material and stage, plus traded codes mapped to none."""
    mapped = _frame(con, "SELECT hs6, hs_revision, material || '|' || stage AS scope_key, "
                    "material, stage FROM material_product")  # fmt: skip
    unmapped = _frame(con, "SELECT DISTINCT hs6, hs_revision, 'hs6:' || hs6 AS scope_key, "
                      "NULL AS material, NULL AS stage FROM trade_flow "
                      "WHERE year <= ? AND (hs6, hs_revision) NOT IN "
                      "(SELECT (hs6, hs_revision) FROM material_product)", [year])  # fmt: skip
    frame = pd.concat([mapped, unmapped], ignore_index=True)
    return frame.astype({"material": "object", "stage": "object"})


def _read_imports(
    con: Any,
    wanted: list[metric_inputs.Perspective],
    bloc_of: metric_inputs.Perspective,
    years: list[int],
) -> pd.DataFrame:
    """Imports of each perspective by supplier and HS6 code (flows between members excluded)."""
    members = metric_inputs.read_members(con, wanted)
    bloc_members = metric_inputs.read_members(con, [bloc_of])[["iso3", "from_year", "to_year"]]
    codes = _frame(con, "SELECT DISTINCT hs6, hs_revision, hs6 || '|' || hs_revision "
                   "AS scope_key FROM trade_flow WHERE year <= ?", [max(years)])  # fmt: skip
    trade.register_relations(con, members, bloc_members, codes, years)
    keys = ["perspective", "year", "scope_key", "exporter_iso3"]
    frame = _frame(con, f"SELECT * FROM ({sql.PARTNER_IMPORTS}) AS partner")
    # the same definition over the flows that report no quantity: their value
    con.execute("CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM trade_flow "
                f"WHERE quantity_t IS NULL AND year <= {max(years)}")  # fmt: skip
    unquantified = _frame(con, f"SELECT * FROM ({sql.PARTNER_IMPORTS}) AS partner")
    unquantified = unquantified.rename(columns={"value_usd": "value_without_quantity_usd"})
    frame = frame.merge(unquantified[[*keys, "value_without_quantity_usd"]], on=keys, how="left")
    frame["value_without_quantity_usd"] = frame["value_without_quantity_usd"].fillna(0.0)
    parts = frame["scope_key"].str.split("|", n=1, expand=True)
    frame = frame.assign(hs6=parts[0], hs_revision=parts[1]).drop(columns="scope_key")
    columns = ["perspective", "year", "exporter_iso3", "hs6", "hs_revision", "value_usd",
               "quantity_t", "value_without_quantity_usd"]  # fmt: skip
    return frame[columns]


def read_event_list(store: Store) -> pd.DataFrame:
    """Every export-restriction event on record, with its materials: the backtest's answer key
    (never a monitor input - those are cut at their year by :func:`read_watch_inputs`)."""
    with store.connect() as con:
        return _read_events(con, _read_scopes(con, 9999), 9999)


def _read_events(con: Any, scopes: pd.DataFrame, year: int) -> pd.DataFrame:
    """Events known by the end of ``year`` (announced, else effective), with their materials.

    An end date after ``year`` was not known then and is left out.
    """
    end = f"{year}-12-31"
    frame = _frame(con, "SELECT *, coalesce(announced_date, effective_date) AS known_date "
                   "FROM export_restriction_event "
                   "WHERE coalesce(announced_date, effective_date) <= ?", [end])  # fmt: skip
    for column in ("announced_date", "effective_date", "end_date", "known_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["end_date"] = frame["end_date"].where(frame["end_date"] <= pd.Timestamp(end))
    materials = sorted({str(m) for m in scopes["material"].dropna()})
    frame["scope_materials"] = [
        calc_event_materials(str(codes or ""), str(text or ""), scopes, materials)
        for codes, text in zip(frame["hs6_codes"], frame["materials"], strict=True)
    ]
    return frame


def calc_event_materials(codes: str, text: str, scopes: pd.DataFrame, materials: list[str]) -> str:
    """Materials an event touches: those of its HS6 codes, and those its text names."""
    listed = {code.strip() for code in codes.split(";") if code.strip()}
    found = set(scopes.loc[scopes["hs6"].isin(listed), "material"].dropna().astype(str))
    lowered = text.lower()
    found |= {m for m in materials if re.search(rf"\b{re.escape(m)}\b", lowered)}
    return ";".join(sorted(found))


def read_names(con: Any) -> dict[str, str]:
    """ISO3 or group code -> name; 'material:ID' -> the material's display name."""
    names = dict(con.execute("SELECT iso3, name FROM country").fetchall())
    names.update(con.execute("SELECT group_id, group_id FROM country_group").fetchall())
    names.update(
        (f"material:{material}", display)
        for material, display in con.execute(
            "SELECT material, display_name FROM material"
        ).fetchall()
    )
    return {str(k): str(v) for k, v in names.items()}


def _read_sources(con: Any, year: int) -> dict[str, str]:
    """'table: publisher vintage' of the rows the signals read."""

    def vintages(query: str, params: list[Any]) -> str:
        return "; ".join(str(row[0]) for row in con.execute(query, params).fetchall())

    events = con.execute(
        "SELECT publisher || ' ' || version FROM source "
        "WHERE tables LIKE '%export_restriction_event%'"
    ).fetchall()
    return {
        "trade_flow": vintages("SELECT DISTINCT source || ' ' || vintage FROM trade_flow "
                               "WHERE year <= ? ORDER BY 1", [year]),
        "production": vintages("SELECT DISTINCT source || ' ' || vintage FROM production "
                               "WHERE year <= ? ORDER BY 1", [year]),
        "price": vintages("SELECT DISTINCT source || ' ' || vintage FROM price "
                          "WHERE month <= ? ORDER BY 1", [f"{year}-12-31"]),
        "export_restriction_event": "; ".join(str(row[0]) for row in events),
    }  # fmt: skip
