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
