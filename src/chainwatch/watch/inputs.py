"""The series the monitor reads, taken from the store's relations up to a year (no later data).

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

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import sql
from chainwatch.store.relations import Perspective, Relations, Source, open_relations

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
    source: Source,
    year: int,
    perspectives: Sequence[str] | None = None,
    bloc: str = DEFAULT_BLOC,
) -> WatchInputs:
    """Read what the monitor needs for years up to ``year`` (nothing later is read)."""
    with open_relations(source) as relations:
        wanted = [relations.resolve_perspective(code)
                  for code in (perspectives or DEFAULT_PERSPECTIVES)]  # fmt: skip
        bloc_of = relations.resolve_perspective(bloc)
        years = relations.trade_years(year)
        if not years:
            raise QueryError(f"no trade data loaded for {year} or earlier")
        scopes = _read_scopes(relations, year)
        exports = relations.exports_until(year)
        imports = _read_imports(relations, wanted, bloc_of, years)
        production = relations.production_until(year)
        prices = relations.prices_until(list(PRICE_MATERIALS), year)
        prices["month"] = pd.to_datetime(prices["month"])
        price_series = relations.price_series(list(PRICE_MATERIALS))
        price_series["material"] = price_series["series"].map(PRICE_MATERIALS)
        events = _read_events(relations, scopes, year)
        bloc_members = relations.bloc_members(bloc_of)
        names = relations.names()
        sources = relations.sources_until(year)
    return WatchInputs(
        last_year=max(years), perspectives=tuple(p.code for p in wanted), bloc_id=bloc_of.code,
        exports=exports, imports=imports, bloc=bloc_members, scopes=scopes,
        production=production, prices=prices, price_series=price_series, events=events,
        names=names, sources=sources,
    )  # fmt: skip


def _read_scopes(relations: Relations, year: int) -> pd.DataFrame:
    """Every HS6 code mapped to a material and stage, plus traded codes mapped to none."""
    frame = pd.concat([relations.mapped_scopes(), relations.unmapped_traded_scopes(year)],
                      ignore_index=True)  # fmt: skip
    return frame.astype({"material": "object", "stage": "object"})


def _read_imports(
    relations: Relations,
    wanted: list[Perspective],
    bloc_of: Perspective,
    years: list[int],
) -> pd.DataFrame:
    """Imports of each perspective by supplier and HS6 code (flows between members excluded)."""
    members = relations.members(wanted)
    bloc_members = relations.bloc_members(bloc_of)
    codes = relations.traded_codes(max(years))
    codes["scope_key"] = codes["hs6"] + "|" + codes["hs_revision"]
    relations.register_trade(members, bloc_members, codes, years)
    keys = ["perspective", "year", "scope_key", "exporter_iso3"]
    engine = relations.engine
    frame = engine.frame(sql.PARTNER_IMPORTS)
    # the same definition over the flows that report no quantity: their value
    relations.register_flows(range(min(years), max(years) + 1), quantity_missing_only=True)
    unquantified = engine.frame(sql.PARTNER_IMPORTS)
    unquantified = unquantified.rename(columns={"value_usd": "value_without_quantity_usd"})
    frame = frame.merge(unquantified[[*keys, "value_without_quantity_usd"]], on=keys, how="left")
    frame["value_without_quantity_usd"] = frame["value_without_quantity_usd"].fillna(0.0)
    parts = frame["scope_key"].str.split("|", n=1, expand=True)
    frame = frame.assign(hs6=parts[0], hs_revision=parts[1]).drop(columns="scope_key")
    columns = ["perspective", "year", "exporter_iso3", "hs6", "hs_revision", "value_usd",
               "quantity_t", "value_without_quantity_usd"]  # fmt: skip
    return frame[columns]


def read_event_list(source: Source) -> pd.DataFrame:
    """Every export-restriction event on record, with its materials: the backtest's answer key
    (never a monitor input - those are cut at their year by :func:`read_watch_inputs`)."""
    with open_relations(source) as relations:
        return _read_events(relations, _read_scopes(relations, 9999), 9999)


def _read_events(relations: Relations, scopes: pd.DataFrame, year: int) -> pd.DataFrame:
    """Events known by the end of ``year`` (announced, else effective), with their materials.

    An end date after ``year`` was not known then and is left out.
    """
    end = f"{year}-12-31"
    frame = relations.events_known_by(year)
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
