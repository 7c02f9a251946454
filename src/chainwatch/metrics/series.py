"""Time series and breakdowns behind the dashboard's charts and maps.

Each function returns a tidy DataFrame with the same provenance columns as the metric tables
(``method_id``, ``method_version``, ``sources``) so every plotted number is traceable.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import sql
from chainwatch.metrics.methods import METHODS
from chainwatch.metrics.production import choose_production_series, production_shares
from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.store.relations import Source, open_relations


def _provenance(frame: pd.DataFrame, metric: str, sources: str) -> pd.DataFrame:
    method = METHODS[metric]
    return frame.assign(method_id=method.method_id, method_version=method.version, sources=sources)


def calc_import_sources(
    source: Source,
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
    with open_relations(source) as relations:
        who = relations.resolve_perspective(perspective)
        bloc_of = relations.resolve_perspective(bloc)
        scope = relations.scope(material, hs6, stage)
        if scope.empty:
            raise QueryError("no HS6 code maps to that material and stage")
        wanted = list(years) if years else relations.trade_years()
        relations.register_trade(relations.members([who]), relations.bloc_members(bloc_of),
                                 scope, wanted)  # fmt: skip
        frame = relations.engine.frame(sql.IMPORT_SOURCES).drop(columns="perspective")
        names = relations.names()
        sources = relations.trade_vintages()
    frame.insert(3, "exporter_name", frame["exporter_iso3"].map(names))
    if hs6 is not None:
        frame["stage"] = hs6
    return _provenance(frame, "imports_value_usd", sources)


def calc_production_map(
    source: Source, material: str, stage: str, year: int | None = None
) -> pd.DataFrame:
    """Production by country for a material and stage (latest year if none): share of world.

    Columns: year, country_iso3, country_name, quantity, unit, share, product_type.
    """
    with open_relations(source) as relations:
        relations.check_material(material)
        years = [year] if year else relations.production_years(material, stage)
        production = relations.production([material], years)
        countries = relations.names()
    rows = production[production["stage"] == stage]
    if rows.empty:
        raise QueryError(f"no {stage} production figures for {material}")
    latest = int(rows["year"].max())
    series = choose_production_series(rows[rows["year"] == latest])
    shares = production_shares(series)
    shares = shares.assign(
        year=latest,
        country_name=shares["country_iso3"].map(countries),
        unit=str(series["unit"].iloc[0]),
        product_type=str(series["product_type"].iloc[0]),
    ).sort_values("share", ascending=False)
    source_label = f"{series['source'].iloc[0]} {series['vintage'].iloc[0]}"
    columns = ["year", "country_iso3", "country_name", "quantity", "unit", "share", "product_type"]
    return _provenance(shares[columns].reset_index(drop=True), "production_hhi", source_label)


def calc_country_profile(
    source: Source, country: str, year: int, bloc: str = DEFAULT_BLOC
) -> pd.DataFrame:
    """What a country supplies to the bloc and imports, by material and stage, in one year.

    Columns: material, stage, exports_to_bloc_usd, share_of_bloc_imports, imports_usd,
    exports_usd.
    """
    with open_relations(source) as relations:
        who = relations.resolve_perspective(country)
        if who.kind != "country":
            raise QueryError(f"{country!r} is a group; the country view takes an ISO3 code")
        bloc_of = relations.resolve_perspective(bloc)
        scope = relations.scope(None, None, None)
        members = relations.members([bloc_of])
        relations.register_trade(members, members[["iso3", "from_year", "to_year"]], scope,
                                 [year])  # fmt: skip
        frame = relations.engine.frame(sql.COUNTRY_PROFILE, {"country": who.code})
        sources = relations.trade_vintages()
    frame["share_of_bloc_imports"] = (
        frame["exports_to_bloc_usd"] / frame["bloc_external_imports_usd"].where(
            frame["bloc_external_imports_usd"] > 0)
    )  # fmt: skip
    frame = frame[(frame["exports_usd"] > 0) | (frame["imports_usd"] > 0)]
    frame = frame.sort_values("exports_to_bloc_usd", ascending=False).reset_index(drop=True)
    return _provenance(frame.assign(year=year, country_iso3=who.code), "exports_value_usd", sources)
