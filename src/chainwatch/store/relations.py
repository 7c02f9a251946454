"""Relations built in one place: the only code that names the canonical tables.

A computation asks :class:`Relations` for what it reads - perspectives and their members, the
bloc, product scopes, trade flows for some years, production, governance, restrictions, prices
- and gets DataFrames back or relations registered on its :class:`Engine` under the names the
definitions of ``metrics/sql.py`` read (``flows``, ``members``, ``bloc``, ``scope``).

Two seams sit here, so that no caller has to know about them:

* ``visible``: a row predicate per canonical table (SQL, DuckDB dialect) applied to every read
  of that table - where access labels will filter what a caller may read;
* ``flow_transform``: a function from the SQL of the base flows to the SQL of the flows a
  computation sees - where disruption scenarios apply their shocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from chainwatch import schema
from chainwatch.errors import QueryError
from chainwatch.store.duckdb_store import Store
from chainwatch.store.engine import DUCKDB, Engine, EngineSpec, open_engine

OPEN_FROM, OPEN_TO = 0, 9999
"""Membership years of a country in itself, and of open-ended group memberships."""
FlowTransform = Callable[[str], str]
COUNTED_MAPPING = (
    "(SELECT hs6, hs_revision, material, stage FROM {material_product} WHERE role <> 'shared' "
    "UNION ALL SELECT DISTINCT CAST(NULL AS VARCHAR) AS hs6, CAST(NULL AS VARCHAR) AS "
    "hs_revision, s.material, s.stage FROM {material_product} s WHERE s.role = 'shared' "
    "AND NOT EXISTS (SELECT 1 FROM {material_product} c WHERE c.material = s.material "
    "AND c.stage = s.stage AND c.role <> 'shared'))"
)
"""The mapped codes a material's trade metrics count: a ``shared`` code (another material
dominates it, docs/adr/0011-material-hs6-table.md) is never counted; a stage that has only
shared codes keeps a code-less scope, so it is reported as lacking trade, not dropped."""
ONE_REVISION_FLOWS = """
SELECT f.* FROM ({flows}) f
JOIN (
    SELECT DISTINCT ranked.year, ranked.hs6, ranked.hs_revision
    FROM (
        SELECT p.year, p.hs6, p.hs_revision, s.scope_key, {rank} AS revision_rank
        FROM (SELECT DISTINCT year, hs6, hs_revision FROM {trade_flow}
              WHERE year IN :years AND hs6 IN (SELECT hs6 FROM scope)) p
        JOIN scope s ON s.hs6 = p.hs6 AND s.hs_revision = p.hs_revision
    ) ranked
    JOIN (
        SELECT p.year, s.scope_key, max({rank}) AS revision_rank
        FROM (SELECT DISTINCT year, hs6, hs_revision FROM {trade_flow}
              WHERE year IN :years AND hs6 IN (SELECT hs6 FROM scope)) p
        JOIN scope s ON s.hs6 = p.hs6 AND s.hs_revision = p.hs_revision
        GROUP BY p.year, s.scope_key
    ) newest ON newest.year = ranked.year AND newest.scope_key = ranked.scope_key
        AND newest.revision_rank = ranked.revision_rank
) preferred ON preferred.year = f.year AND preferred.hs6 = f.hs6
    AND preferred.hs_revision = f.hs_revision
"""
"""The flows a scoped computation reads: per scope and year, those of the newest HS revision
loaded for it. BACI publishes the same trade in every revision, and the material <-> HS6
table maps each material in every revision, so a store holding a year in two revisions (the
bundled HS92 subset and a fetched HS22 release) would otherwise count that trade twice."""


def _revision_rank(alias: str) -> str:
    """SQL ranking ``alias.hs_revision`` in nomenclature order (HS92 = 1 ... HS22 = 7)."""
    revisions = schema.table("trade_flow").column("hs_revision").allowed_values
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for rank, name in enumerate(revisions, 1))
    return f"CASE {alias}.hs_revision {cases} END"


@dataclass(frozen=True)
class Perspective:
    """Who imports: a country (ISO3) or a group (EU27, ALLIED, a user group)."""

    code: str
    kind: str  # "country" or "group"
    name: str


class Relations:
    """The relations one computation reads, on one engine."""

    def __init__(
        self,
        engine: Engine,
        visible: Mapping[str, str] | None = None,
        flow_transform: FlowTransform | None = None,
    ) -> None:
        unknown = set(visible or {}) - set(schema.tables())
        if unknown:
            raise QueryError(f"no canonical table {', '.join(sorted(unknown))}")
        self.engine = engine
        self.visible = dict(visible or {})
        self.flow_transform = flow_transform
        self._scope_registered = False

    # --- the canonical tables -------------------------------------------------------------

    def table(self, name: str) -> str:
        """SQL naming canonical table ``name`` as this computation may read it."""
        if name not in schema.tables():
            raise QueryError(f"no canonical table {name}")
        predicate = self.visible.get(name)
        if predicate is None:
            return name
        return f"(SELECT * FROM {name} WHERE {predicate}) AS {name}"

    def frame(self, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run ``query``, in which ``{table}`` placeholders name canonical tables."""
        return self.engine.frame(self._tables(query), params)

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.engine.rows(self._tables(query), params)

    def _tables(self, query: str) -> str:
        return query.format(**{name: self.table(name) for name in schema.tables()})

    # --- perspectives ---------------------------------------------------------------------

    def resolve_perspective(self, code: str) -> Perspective:
        code = code.strip()
        found = self.rows(
            "SELECT iso3, name FROM {country} WHERE iso3 = :code", {"code": code.upper()}
        )
        if found:
            return Perspective(str(found[0][0]), "country", str(found[0][1]))
        found = self.rows(
            "SELECT group_id, name FROM {country_group} WHERE upper(group_id) = :code",
            {"code": code.upper()},
        )
        if found:
            return Perspective(str(found[0][0]), "group", str(found[0][1]))
        groups = [str(r[0]) for r in self.rows("SELECT group_id FROM {country_group} ORDER BY 1")]
        raise QueryError(
            f"unknown perspective {code!r}: use an ISO3 country code or a group "
            f"({', '.join(groups)})"
        )

    def members(self, perspectives: Sequence[Perspective]) -> pd.DataFrame:
        """members(perspective, iso3, from_year, to_year) for the given perspectives."""
        frames = []
        for perspective in perspectives:
            if perspective.kind == "country":
                code = perspective.code
                frames.append(
                    pd.DataFrame(
                        {
                            "perspective": [code],
                            "iso3": [code],
                            "from_year": [OPEN_FROM],
                            "to_year": [OPEN_TO],
                        }
                    )
                )
            else:
                frames.append(self.group(perspective.code).assign(perspective=perspective.code))
        columns = ["perspective", "iso3", "from_year", "to_year"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def bloc_members(self, bloc: Perspective) -> pd.DataFrame:
        """bloc(iso3, from_year, to_year): who is inside the bloc that defines 'outside-bloc'."""
        return self.members([bloc])[["iso3", "from_year", "to_year"]]

    def group(self, group_id: str) -> pd.DataFrame:
        """Members of a group with their years (open ends filled)."""
        return self.frame(
            f"SELECT iso3, coalesce(member_from_year, {OPEN_FROM}) AS from_year, "
            f"coalesce(member_to_year, {OPEN_TO}) AS to_year "
            "FROM {group_membership} WHERE group_id = :group_id",
            {"group_id": group_id},
        )

    def all_country_members(self) -> pd.DataFrame:
        """Every country its own perspective (the all-importers table)."""
        return self.frame(
            f"SELECT iso3 AS perspective, iso3, {OPEN_FROM} AS from_year, {OPEN_TO} AS to_year "
            "FROM {country} WHERE kind <> 'aggregate'"
        )

    def all_perspectives(self) -> list[Perspective]:
        """Every country (not statistical aggregates) and every group."""
        countries = self.rows(
            "SELECT iso3, name FROM {country} WHERE kind <> 'aggregate' ORDER BY iso3"
        )
        groups = self.rows("SELECT group_id, name FROM {country_group} ORDER BY group_id")
        return [Perspective(str(c), "country", str(n)) for c, n in countries] + [
            Perspective(str(g), "group", str(n)) for g, n in groups
        ]

    # --- products and materials -----------------------------------------------------------

    def scope(self, material: str | None, hs6: str | None, stage: str | None) -> pd.DataFrame:
        """scope(hs6, hs_revision, scope_key, material, stage): the codes each result covers."""
        if hs6 is not None:
            frame = self.frame(
                "SELECT p.hs6, p.hs_revision, p.hs6 AS scope_key, mp.material, mp.stage "
                "FROM {product} p LEFT JOIN {material_product} mp "
                "ON mp.hs6 = p.hs6 AND mp.hs_revision = p.hs_revision WHERE p.hs6 = :hs6",
                {"hs6": hs6},
            )
            if frame.empty:
                raise QueryError(f"unknown HS6 code {hs6!r}")
            return frame.drop_duplicates("hs_revision")
        query = (
            "SELECT hs6, hs_revision, material || '|' || stage AS scope_key, material, stage "
            f"FROM {COUNTED_MAPPING} counted WHERE "
        )
        # the risk table covers the raw-material stages; a named material gets all its stages
        query += "true" if material else "stage IN ('mine', 'refinery', 'intermediate')"
        params: dict[str, Any] = {}
        if material is not None:
            self.check_material(material)
            query += " AND material = :material"
            params["material"] = material
        if stage is not None:
            query += " AND stage = :stage"
            params["stage"] = stage
        return self.frame(query, params)

    def check_material(self, material: str) -> None:
        if not self.rows(
            "SELECT 1 FROM {material} WHERE material = :material", {"material": material}
        ):
            known = [str(r[0]) for r in self.rows("SELECT material FROM {material} ORDER BY 1")]
            raise QueryError(f"unknown material {material!r}; known: {', '.join(known)}")

    def end_of_life_rates(self, materials: Sequence[str]) -> dict[str, float | None]:
        found = self.rows(
            "SELECT material, eol_rir FROM {material} WHERE material IN :materials",
            {"materials": list(materials)},
        )
        return {str(m): (None if rate is None else float(rate)) for m, rate in found}

    def mapped_scopes(self) -> pd.DataFrame:
        """Every HS6 code mapped to a material and stage (scope key 'material|stage')."""
        return self.frame(
            "SELECT hs6, hs_revision, material || '|' || stage AS scope_key, "
            "material, stage FROM {material_product} WHERE role <> 'shared'"
        )

    def unmapped_traded_scopes(self, last_year: int) -> pd.DataFrame:
        """Traded codes mapped to no material (scope key 'hs6:CODE'), up to ``last_year``."""
        return self.frame(
            "SELECT DISTINCT f.hs6, f.hs_revision, 'hs6:' || f.hs6 AS scope_key, "
            "CAST(NULL AS VARCHAR) AS material, CAST(NULL AS VARCHAR) AS stage "
            "FROM {trade_flow} f LEFT JOIN (SELECT DISTINCT hs6, hs_revision "
            "FROM {material_product} WHERE role <> 'shared') mp "
            "ON mp.hs6 = f.hs6 AND mp.hs_revision = f.hs_revision "
            "WHERE f.year <= :year AND mp.hs6 IS NULL",
            {"year": last_year},
        )

    def traded_codes(self, last_year: int | None = None) -> pd.DataFrame:
        """Every traded (hs6, hs_revision), as scopes of one code each (scope key = hs6)."""
        where = "" if last_year is None else " WHERE year <= :year"
        return self.frame(
            "SELECT DISTINCT hs6, hs_revision, hs6 AS scope_key FROM {trade_flow}" + where,
            None if last_year is None else {"year": last_year},
        )

    def names(self) -> dict[str, str]:
        """ISO3 or group code -> name; 'material:ID' -> the material's display name."""
        names = {str(k): str(v) for k, v in self.rows("SELECT iso3, name FROM {country}")}
        names.update((str(g), str(g)) for (g,) in self.rows("SELECT group_id FROM {country_group}"))
        names.update(
            (f"material:{m}", str(d))
            for m, d in self.rows("SELECT material, display_name FROM {material}")
        )
        return names

    # --- trade ----------------------------------------------------------------------------

    def trade_years(self, last_year: int | None = None) -> list[int]:
        """Years with at least one loaded trade flow (up to ``last_year``), ascending."""
        where = "" if last_year is None else " WHERE year <= :year"
        found = self.rows(
            "SELECT DISTINCT year FROM {trade_flow}" + where + " ORDER BY 1",
            None if last_year is None else {"year": last_year},
        )
        return [int(row[0]) for row in found]

    def default_risk_year(self) -> int:
        """The latest year with both trade flows and production figures (else the latest trade
        year; 0 for an empty store)."""
        found = self.rows(
            "SELECT max(t.year) FROM (SELECT DISTINCT year FROM {trade_flow}) t "
            "JOIN (SELECT DISTINCT year FROM {production}) p ON p.year = t.year"
        )
        if found and found[0][0] is not None:
            return int(found[0][0])
        years = self.trade_years()
        return years[-1] if years else 0

    def register_trade(
        self,
        members: pd.DataFrame,
        bloc: pd.DataFrame,
        scope: pd.DataFrame,
        years: Iterable[int],
        quantity_missing_only: bool = False,
    ) -> None:
        """Register ``members``, ``bloc``, ``scope`` and ``flows`` (trade of ``years``), the
        relations the trade definitions read. ``quantity_missing_only``: only the flows that
        report no quantity."""
        self.engine.register("members", members)
        self.engine.register("bloc", bloc)
        self.engine.register("scope", scope[["hs6", "hs_revision", "scope_key"]].drop_duplicates())
        self._scope_registered = True
        self.register_flows(years, quantity_missing_only)

    def register_flows(self, years: Iterable[int], quantity_missing_only: bool = False) -> None:
        """``flows``: trade_flow rows of ``years`` as this computation sees them."""
        listed = sorted({int(year) for year in years})
        query = "SELECT * FROM {trade_flow} WHERE year IN :years"
        if quantity_missing_only:
            query += " AND quantity_t IS NULL"
        text = self._tables(query)
        if self.flow_transform is not None:
            text = self.flow_transform(text)
        if self._scope_registered:
            text = ONE_REVISION_FLOWS.format(
                flows=text, rank=_revision_rank("p"), trade_flow=self.table("trade_flow")
            )
        self.engine.view("flows", text, {"years": listed})

    def trade_vintages(self) -> str:
        """'source vintage' of the registered flows."""
        found = self.engine.rows(
            "SELECT DISTINCT source || ' ' || vintage AS vintage FROM flows ORDER BY 1"
        )
        return "; ".join(str(row[0]) for row in found)

    def exports_until(self, last_year: int) -> pd.DataFrame:
        """Exports by exporter and HS6 code to all destinations, years up to ``last_year``."""
        return self.frame(
            "SELECT year, exporter_iso3, hs6, hs_revision, sum(value_usd) AS value_usd, "
            "sum(quantity_t) AS quantity_t, "
            "coalesce(sum(CASE WHEN quantity_t IS NULL THEN value_usd END), 0) "
            "AS value_without_quantity_usd "
            "FROM {trade_flow} WHERE year <= :year "
            "GROUP BY year, exporter_iso3, hs6, hs_revision",
            {"year": last_year},
        )

    def monthly_flows(self, month: date | pd.Timestamp) -> pd.DataFrame:
        """Rows of ``trade_flow_monthly`` dated ``month`` or earlier."""
        return self.frame(
            "SELECT period, reporter_iso3, partner_iso3, flow, hs6, hs_revision, value_usd, "
            "quantity_t FROM {trade_flow_monthly} WHERE period <= :month ORDER BY period",
            {"month": date(int(month.year), int(month.month), 1)},
        )

    def monthly_flow_count(self) -> int:
        return int(self.rows("SELECT count(*) FROM {trade_flow_monthly}")[0][0])

    def monthly_vintages(self, month: date) -> str:
        found = self.rows(
            "SELECT DISTINCT source || ' ' || vintage AS v FROM "
            "{trade_flow_monthly} WHERE period <= :month ORDER BY 1",
            {"month": date(month.year, month.month, 1)},
        )
        return "; ".join(str(row[0]) for row in found)

    # --- production, governance, restrictions, prices -------------------------------------

    def production(self, materials: Sequence[str], years: Sequence[int]) -> pd.DataFrame:
        """Country production per material, stage and year from the latest edition of each
        source (quantities in the series' unit; WLD world total, OTH 'other countries')."""
        return self.frame(
            """
            WITH ranked AS (
                SELECT *, dense_rank() OVER (
                    PARTITION BY material, stage, year, source ORDER BY vintage DESC)
                    AS edition_rank
                FROM {production}
                WHERE measure = 'production' AND material IN :materials AND year IN :years
            )
            SELECT year, country_iso3, material, stage, product_type, quantity, unit, estimated,
                   source, vintage
            FROM ranked WHERE edition_rank = 1
            """,
            {"materials": list(materials), "years": [int(y) for y in years]},
        )

    def production_until(self, last_year: int) -> pd.DataFrame:
        """Every production row (all editions) up to ``last_year``."""
        return self.frame(
            "SELECT year, country_iso3, material, stage, product_type, quantity, "
            "unit, source, vintage FROM {production} "
            "WHERE measure = 'production' AND year <= :year",
            {"year": last_year},
        )

    def production_years(self, material: str, stage: str) -> list[int]:
        found = self.rows(
            "SELECT DISTINCT year FROM {production} WHERE material = :material "
            "AND stage = :stage ORDER BY 1",
            {"material": material, "stage": stage},
        )
        return [int(row[0]) for row in found]

    def governance(self, years: Sequence[int]) -> pd.DataFrame:
        """Per requested year and country: the mean of the six WGI estimates (from the latest
        WGI year not after it that has all six) and political stability (from the latest
        year not after it that has that one; GeoPolRisk needs only it). WGI ends before trade
        data do."""
        self.engine.register(
            "wanted_years", pd.DataFrame({"target_year": [int(y) for y in years]}, dtype="int64")
        )
        return self.frame(
            """
            WITH yearly AS (
                SELECT country_iso3, year, avg(estimate) AS mean_estimate,
                       count(*) AS indicators,
                       max(CASE WHEN indicator = 'pv' THEN estimate END) AS political_stability,
                       max(vintage) AS vintage
                FROM {governance} WHERE estimate IS NOT NULL GROUP BY country_iso3, year
            ), mean_ranked AS (
                SELECT w.target_year AS year, y.country_iso3, y.mean_estimate,
                       y.year AS wgi_year, y.vintage,
                       row_number() OVER (PARTITION BY w.target_year, y.country_iso3
                                          ORDER BY y.year DESC) AS recency
                FROM wanted_years w JOIN yearly y
                  ON y.year <= w.target_year AND y.indicators = 6
            ), stability_ranked AS (
                SELECT w.target_year AS year, y.country_iso3, y.political_stability,
                       y.year AS wgi_year, y.vintage,
                       row_number() OVER (PARTITION BY w.target_year, y.country_iso3
                                          ORDER BY y.year DESC) AS recency
                FROM wanted_years w JOIN yearly y
                  ON y.year <= w.target_year AND y.political_stability IS NOT NULL
            ), means AS (SELECT * FROM mean_ranked WHERE recency = 1),
            stability AS (SELECT * FROM stability_ranked WHERE recency = 1)
            SELECT coalesce(m.year, p.year) AS year,
                   coalesce(m.country_iso3, p.country_iso3) AS country_iso3,
                   m.mean_estimate, p.political_stability,
                   coalesce(m.wgi_year, p.wgi_year) AS wgi_year,
                   coalesce(m.vintage, p.vintage) AS vintage
            FROM means m FULL OUTER JOIN stability p
              ON m.year = p.year AND m.country_iso3 = p.country_iso3
            """
        )

    def restriction_events(self) -> pd.DataFrame:
        return self.frame(
            "SELECT event_id, country_iso3, measure_type, effective_date, "
            "end_date, hs6_codes, materials FROM {export_restriction_event}"
        )

    def events_known_by(self, last_year: int) -> pd.DataFrame:
        """Export-restriction events known (announced, else effective) by the end of a year."""
        return self.frame(
            "SELECT *, coalesce(announced_date, effective_date) AS known_date "
            "FROM {export_restriction_event} "
            "WHERE coalesce(announced_date, effective_date) <= :end",
            {"end": date(last_year, 12, 31)},
        )

    def prices_until(self, series: Sequence[str], last_year: int) -> pd.DataFrame:
        return self.frame(
            "SELECT month, series, value FROM {price} WHERE series IN :series AND month <= :end",
            {"series": list(series), "end": date(last_year, 12, 31)},
        )

    def price_series(self, series: Sequence[str]) -> pd.DataFrame:
        return self.frame(
            "SELECT series, name, unit FROM {price_series} WHERE series IN :series",
            {"series": list(series)},
        )

    def sources_until(self, last_year: int) -> dict[str, str]:
        """'table: publisher vintage' of the rows the monitor reads, up to ``last_year``."""

        def vintages(query: str, params: dict[str, Any]) -> str:
            return "; ".join(str(row[0]) for row in self.rows(query, params))

        end = date(last_year, 12, 31)
        events = self.rows(
            "SELECT publisher || ' ' || version AS v FROM {source} "
            "WHERE tables LIKE '%export_restriction_event%'"
        )
        return {
            "trade_flow": vintages(
                "SELECT DISTINCT source || ' ' || vintage AS v "
                "FROM {trade_flow} WHERE year <= :year ORDER BY 1",
                {"year": last_year},
            ),
            "production": vintages(
                "SELECT DISTINCT source || ' ' || vintage AS v "
                "FROM {production} WHERE year <= :year ORDER BY 1",
                {"year": last_year},
            ),
            "price": vintages(
                "SELECT DISTINCT source || ' ' || vintage AS v FROM {price} "
                "WHERE month <= :end ORDER BY 1",
                {"end": end},
            ),
            "export_restriction_event": "; ".join(str(row[0]) for row in events),
        }


Source = Relations | Store
"""What a computation reads from: a store (DuckDB over its file) or relations already open
on some engine (a service chose Spark, a lake, an access filter or a scenario)."""


@contextlib.contextmanager
def open_relations(source: Source, spec: EngineSpec = DUCKDB) -> Iterator[Relations]:
    """Relations over ``source``; an engine opened here is closed afterwards."""
    if isinstance(source, Relations):
        yield source
        return
    with open_engine(source, spec) as engine:
        yield Relations(engine)
