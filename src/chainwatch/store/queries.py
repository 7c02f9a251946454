"""Read queries the adapters use (sources, reference tables)."""

from __future__ import annotations

import pandas as pd

from chainwatch.store.duckdb_store import Store


def read_sources(store: Store) -> pd.DataFrame:
    """The provenance table: one row per loaded data set."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT source_id, title, publisher, version, licence, licence_class, rows, bundled, "
            "citation, obtained_from, cut, tables FROM source ORDER BY source_id"
        ).df()
    return frame


def default_risk_year(store: Store) -> int:
    """The latest year with both trade flows and production figures (else the latest trade year)."""
    with store.connect() as con:
        row = con.execute(
            "SELECT max(t.year) FROM (SELECT DISTINCT year FROM trade_flow) t "
            "JOIN (SELECT DISTINCT year FROM production) p USING (year)"
        ).fetchone()
        if row and row[0] is not None:
            return int(row[0])
        fallback = con.execute("SELECT max(year) FROM trade_flow").fetchone()
    return int(fallback[0]) if fallback and fallback[0] is not None else 0


def read_groups(store: Store) -> pd.DataFrame:
    """Country groups with member counts."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT g.group_id, g.name, g.user_defined, count(m.iso3) AS members, "
            "string_agg(m.iso3, ',' ORDER BY m.iso3) AS member_iso3 "
            "FROM country_group g LEFT JOIN group_membership m USING (group_id) "
            "GROUP BY ALL ORDER BY g.user_defined, g.group_id"
        ).df()
    return frame


def read_countries(store: Store) -> pd.DataFrame:
    """The country reference table (ISO3, name, ISO2, M49 code, kind, region)."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT iso3, name, iso2, m49, kind, region FROM country ORDER BY name"
        ).df()
    return frame


def read_materials(store: Store) -> pd.DataFrame:
    """Materials with their list status and the value-chain stages their HS6 codes cover."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT m.material, m.display_name, m.eu_crma_2024, m.usgs_critical_2022, m.eol_rir, "
            "string_agg(DISTINCT p.stage, ',') AS stages "
            "FROM material m LEFT JOIN material_product p USING (material) "
            "GROUP BY ALL ORDER BY m.material"
        ).df()
    return frame


def read_material_products(store: Store, material: str | None = None) -> pd.DataFrame:
    """The HS6 codes mapped to materials and stages, with their descriptions."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT mp.material, mp.stage, mp.hs6, mp.hs_revision, mp.role, p.description "
            "FROM material_product mp LEFT JOIN product p "
            "ON p.hs6 = mp.hs6 AND p.hs_revision = mp.hs_revision "
            "WHERE ? IS NULL OR mp.material = ? ORDER BY mp.material, mp.stage, mp.role, mp.hs6",
            [material, material],
        ).df()
    return frame


def read_trade_years(store: Store) -> list[int]:
    """Years with at least one loaded trade flow, ascending."""
    with store.connect() as con:
        rows = con.execute("SELECT DISTINCT year FROM trade_flow ORDER BY year").fetchall()
    return [int(row[0]) for row in rows]


def read_perspectives(store: Store) -> pd.DataFrame:
    """Everything a metric can be asked for: countries (not statistical aggregates) and groups.

    Columns: code, kind (country or group), name, members (1 for a country).
    """
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT iso3 AS code, 'country' AS kind, name, 1 AS members FROM country "
            "WHERE kind <> 'aggregate' "
            "UNION ALL "
            "SELECT g.group_id, 'group', g.name, count(m.iso3) FROM country_group g "
            "LEFT JOIN group_membership m USING (group_id) GROUP BY g.group_id, g.name "
            "ORDER BY kind DESC, code"
        ).df()
    return frame


def read_group_members(store: Store) -> pd.DataFrame:
    """Every group with one row per member (a group without members has one row, no member).

    Columns: group_id, name, description, user_defined, iso3, country_name, member_from_year,
    member_to_year.
    """
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT g.group_id, g.name, g.description, g.user_defined, m.iso3, "
            "c.name AS country_name, m.member_from_year, m.member_to_year "
            "FROM country_group g LEFT JOIN group_membership m USING (group_id) "
            "LEFT JOIN country c ON c.iso3 = m.iso3 "
            "ORDER BY g.user_defined, g.group_id, m.iso3"
        ).df()
    return frame


STAGES = ("mine", "refinery", "intermediate", "component", "end_product")
"""Value-chain stages, upstream first (the material_product.stage enumeration)."""


def read_material_catalogue(store: Store) -> pd.DataFrame:
    """Materials with their list status, the value-chain stages they have HS6 codes for, and
    those codes (as lists, for the API).

    Columns: material, display_name, eu_crma_2024, usgs_critical_2022, eol_rir, stages
    (list, value-chain order), hs6 (list, ascending).
    """
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT m.material, m.display_name, m.eu_crma_2024, m.usgs_critical_2022, m.eol_rir, "
            "coalesce(list(DISTINCT mp.stage) FILTER (WHERE mp.stage IS NOT NULL), []) AS stages, "
            "coalesce(list_sort(list(DISTINCT mp.hs6) FILTER (WHERE mp.hs6 IS NOT NULL)), []) "
            "AS hs6 "
            "FROM material m LEFT JOIN material_product mp USING (material) "
            "GROUP BY ALL ORDER BY m.material"
        ).df()
    order = {stage: rank for rank, stage in enumerate(STAGES)}
    frame["stages"] = [sorted(stages, key=lambda stage: order.get(stage, len(order)))
                       for stages in frame["stages"]]  # fmt: skip
    frame["hs6"] = [[str(code) for code in codes] for codes in frame["hs6"]]
    return frame


def read_products(
    store: Store, material: str | None = None, stage: str | None = None
) -> pd.DataFrame:
    """HS6 products, one row per product and material it carries (unmapped products: one row
    with no material); with ``material`` or ``stage``, only the products mapped to them.

    Columns: hs6, hs_revision, description, material, stage, role.
    """
    where, params = [], []
    if material is not None:
        where.append("mp.material = ?")
        params.append(material)
    if stage is not None:
        where.append("mp.stage = ?")
        params.append(stage)
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT p.hs6, p.hs_revision, p.description, mp.material, mp.stage, mp.role "
            "FROM product p LEFT JOIN material_product mp USING (hs6, hs_revision) "
            + ("WHERE " + " AND ".join(where) + " " if where else "")
            + "ORDER BY p.hs6, p.hs_revision, mp.material",
            params,
        ).df()
    return frame


def read_country(store: Store, iso3: str) -> pd.DataFrame:
    """One row of the country table (ISO3, name, ISO2, M49 code, kind, region), or none."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT iso3, name, iso2, m49, kind, region FROM country WHERE iso3 = ?",
            [iso3.strip().upper()],
        ).df()
    return frame
