"""Metric definitions as SQL, written once and run on any engine SQLGlot can target.

The queries read four relations the caller provides:

* ``flows`` - rows of the canonical ``trade_flow`` table (all of it, or the years asked for);
* ``members (perspective, iso3, from_year, to_year)`` - who belongs to each perspective; a
  country perspective has one row (itself); for a group, flows between members are internal;
* ``bloc (iso3, from_year, to_year)`` - the bloc that defines "outside-bloc";
* ``scope (hs6, hs_revision, scope_key)`` - which HS6 codes make up each product scope (one
  code, or all codes of a material at a stage).

They are written in DuckDB's dialect using only constructs SQLGlot transpiles (see ADR 0004);
:func:`for_engine` returns the text for another engine (``spark``, ``postgres``, ...).
"""

from __future__ import annotations

import sqlglot

_IN_YEAR = "{alias}.year BETWEEN {member}.from_year AND {member}.to_year"


def _partner_flows(own: str, partner: str) -> str:
    """Flows of each perspective by partner: ``own`` is the perspective's side of the flow
    (importer_iso3 for imports), ``partner`` the other; flows between members are excluded."""
    return f"""
SELECT m.perspective, f.year, s.scope_key, f.{partner},
       sum(f.value_usd) AS value_usd, sum(f.quantity_t) AS quantity_t
FROM flows f
JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
JOIN members m ON m.iso3 = f.{own} AND {_IN_YEAR.format(alias="f", member="m")}
LEFT JOIN members inside ON inside.perspective = m.perspective
    AND inside.iso3 = f.{partner} AND {_IN_YEAR.format(alias="f", member="inside")}
WHERE inside.iso3 IS NULL
GROUP BY m.perspective, f.year, s.scope_key, f.{partner}
"""


PARTNER_IMPORTS = _partner_flows("importer_iso3", "exporter_iso3")
"""Imports of each perspective by exporting partner (flows between members excluded)."""

PARTNER_EXPORTS = _partner_flows("exporter_iso3", "importer_iso3")
"""Exports of each perspective by destination (flows between members excluded)."""

INTERNAL_IMPORTS = f"""
SELECT m.perspective, f.year, s.scope_key,
       sum(f.value_usd) AS value_usd, sum(f.quantity_t) AS quantity_t
FROM flows f
JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
JOIN members m ON m.iso3 = f.importer_iso3 AND {_IN_YEAR.format(alias="f", member="m")}
JOIN members inside ON inside.perspective = m.perspective
    AND inside.iso3 = f.exporter_iso3 AND {_IN_YEAR.format(alias="f", member="inside")}
GROUP BY m.perspective, f.year, s.scope_key
"""
"""Flows between members of a group perspective (the intra-EU trade of EU27)."""

IMPORT_CONCENTRATION = f"""
WITH partner AS ({PARTNER_IMPORTS}),
ranked AS (
    SELECT partner.*,
           value_usd / nullif(sum(value_usd) OVER (
               PARTITION BY perspective, year, scope_key), 0) AS share,
           row_number() OVER (
               PARTITION BY perspective, year, scope_key
               ORDER BY value_usd DESC, exporter_iso3) AS partner_rank
    FROM partner
)
SELECT r.perspective, r.year, r.scope_key,
       sum(r.value_usd) AS imports_value_usd,
       sum(r.quantity_t) AS imports_quantity_t,
       sum(r.share * r.share) AS import_partner_hhi,
       sum(CASE WHEN r.partner_rank <= 3 THEN r.share ELSE 0 END) AS import_top3_share,
       sum(CASE WHEN b.iso3 IS NULL THEN r.share ELSE 0 END) AS outside_bloc_share,
       sum(CASE WHEN b.iso3 IS NULL THEN r.value_usd ELSE 0 END) AS outside_bloc_value_usd,
       max(CASE WHEN r.partner_rank = 1 THEN r.exporter_iso3 END) AS top_partner_iso3,
       count(*) AS partner_count
FROM ranked r
LEFT JOIN bloc b ON b.iso3 = r.exporter_iso3 AND {_IN_YEAR.format(alias="r", member="b")}
GROUP BY r.perspective, r.year, r.scope_key
"""
"""Per perspective, year and scope: imports, import-partner HHI and top-3 share (value basis),
and the share of imports from outside the bloc."""

WORLD_EXPORT_CONCENTRATION = """
WITH exporter AS (
    SELECT f.year, s.scope_key, f.exporter_iso3, sum(f.value_usd) AS value_usd
    FROM flows f JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
    GROUP BY f.year, s.scope_key, f.exporter_iso3
)
SELECT year, scope_key,
       sum(value_usd) AS world_exports_value_usd,
       sum(power(value_usd / nullif(total, 0), 2)) AS world_export_hhi
FROM (SELECT exporter.*, sum(value_usd) OVER (PARTITION BY year, scope_key) AS total
      FROM exporter) AS shares
GROUP BY year, scope_key
"""
"""World-export HHI per year and scope (all exporters, value basis)."""


def for_engine(sql: str, dialect: str) -> str:
    """The same definition in another engine's SQL dialect (via SQLGlot)."""
    return str(sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True)[0])
