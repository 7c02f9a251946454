"""Metric definitions as SQL, written once and run on any engine SQLGlot can target.

The queries read four relations the caller provides:

* ``flows`` - rows of the canonical ``trade_flow`` table (all of it, or the years asked for);
* ``members (perspective, iso3, from_year, to_year)`` - who belongs to each perspective; a
  country perspective has one row (itself); for a group, flows between members are internal;
* ``bloc (iso3, from_year, to_year)`` - the bloc that defines "outside-bloc";
* ``scope (hs6, hs_revision, scope_key)`` - which HS6 codes make up each product scope (one
  code, or all codes of a material at a stage).

They are written in DuckDB's dialect using only constructs SQLGlot transpiles (see ADR 0004
and ADR 0007) and never name a canonical table: ``store/relations.py`` builds what they read.
:func:`for_engine` returns the text for another engine (``spark``, ``postgres``, ...); the
engine seam (``store/engine.py``) runs them, with a reviewed override where one is registered.
Named parameters are written ``:name``.
"""

from __future__ import annotations

from chainwatch.store import dialects

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
    SELECT f.year, s.scope_key, f.exporter_iso3, sum(f.value_usd) AS value_usd,
           sum(f.quantity_t) AS quantity_t,
           sum(CASE WHEN f.quantity_t > 0 THEN f.value_usd ELSE 0 END) AS value_with_quantity_usd
    FROM flows f JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
    GROUP BY f.year, s.scope_key, f.exporter_iso3
)
SELECT year, scope_key,
       sum(value_usd) AS world_exports_value_usd,
       sum(quantity_t) AS world_exports_quantity_t,
       sum(value_with_quantity_usd) AS world_exports_value_with_quantity_usd,
       sum(power(value_usd / nullif(total, 0), 2)) AS world_export_hhi
FROM (SELECT exporter.*, sum(value_usd) OVER (PARTITION BY year, scope_key) AS total
      FROM exporter) AS shares
GROUP BY year, scope_key
"""
"""World-export HHI per year and scope (all exporters, value basis), and world exports by
value and quantity (the unit-value screen's reference: value of flows with a quantity over
their quantity)."""


EXPORT_TOTALS = f"""
SELECT perspective, year, scope_key, sum(value_usd) AS value_usd, sum(quantity_t) AS quantity_t
FROM ({PARTNER_EXPORTS}) AS e
GROUP BY perspective, year, scope_key
"""
"""Exports of each perspective per year and scope (flows between members excluded)."""

COVERED_SCOPES = """
SELECT DISTINCT s.scope_key
FROM flows f JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
"""
"""Scope keys with at least one flow among the flows read."""

IMPORT_SOURCES = f"""
WITH partner AS ({PARTNER_IMPORTS}),
flagged AS (
    SELECT p.perspective, p.year, p.scope_key, p.exporter_iso3, p.value_usd, p.quantity_t,
           max(CASE WHEN b.iso3 IS NULL THEN 0 ELSE 1 END) AS bloc_rows
    FROM partner p
    LEFT JOIN bloc b ON b.iso3 = p.exporter_iso3 AND {_IN_YEAR.format(alias="p", member="b")}
    GROUP BY p.perspective, p.year, p.scope_key, p.exporter_iso3, p.value_usd, p.quantity_t
)
SELECT perspective, year, split_part(scope_key, '|', 2) AS stage, exporter_iso3, value_usd,
       quantity_t,
       value_usd / sum(value_usd) OVER (PARTITION BY perspective, year, scope_key) AS share,
       bloc_rows = 1 AS in_bloc
FROM flagged
ORDER BY perspective, year, stage, value_usd DESC, exporter_iso3
"""
"""Imports of each perspective by supplier and year: value, quantity, share of the scope's
imports that year, and whether the supplier was in the bloc that year."""

COUNTRY_PROFILE = """
WITH bloc_members AS (SELECT DISTINCT iso3 FROM bloc),
scoped AS (
    SELECT f.exporter_iso3, f.importer_iso3, f.value_usd, s.scope_key,
           CASE WHEN exporter.iso3 IS NULL THEN 0 ELSE 1 END AS exporter_in_bloc,
           CASE WHEN importer.iso3 IS NULL THEN 0 ELSE 1 END AS importer_in_bloc
    FROM flows f
    JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
    LEFT JOIN bloc_members exporter ON exporter.iso3 = f.exporter_iso3
    LEFT JOIN bloc_members importer ON importer.iso3 = f.importer_iso3
)
SELECT split_part(scope_key, '|', 1) AS material,
       split_part(scope_key, '|', 2) AS stage,
       sum(CASE WHEN exporter_iso3 = :country AND importer_in_bloc = 1
                THEN value_usd ELSE 0 END) AS exports_to_bloc_usd,
       sum(CASE WHEN exporter_iso3 = :country THEN value_usd ELSE 0 END) AS exports_usd,
       sum(CASE WHEN importer_iso3 = :country THEN value_usd ELSE 0 END) AS imports_usd,
       sum(CASE WHEN importer_in_bloc = 1 AND exporter_in_bloc = 0
                THEN value_usd ELSE 0 END) AS bloc_external_imports_usd
FROM scoped
GROUP BY scope_key
"""
"""What one country (``:country``) supplies to the bloc and imports, per scope; the bloc's
imports from outside it (members at any time of the years read)."""


def for_engine(sql: str, dialect: str) -> str:
    """The same definition in another engine's SQL dialect (override, else SQLGlot)."""
    return dialects.for_engine(sql, dialect, pretty=True)
