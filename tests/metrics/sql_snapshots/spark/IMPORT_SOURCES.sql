WITH partner AS (
  SELECT
    m.perspective,
    f.year,
    s.scope_key,
    f.exporter_iso3,
    SUM(f.value_usd) AS value_usd,
    SUM(f.quantity_t) AS quantity_t
  FROM flows AS f
  JOIN scope AS s
    ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
  JOIN members AS m
    ON m.iso3 = f.importer_iso3 AND f.year BETWEEN m.from_year AND m.to_year
  LEFT JOIN members AS inside
    ON inside.perspective = m.perspective
    AND inside.iso3 = f.exporter_iso3
    AND f.year BETWEEN inside.from_year AND inside.to_year
  WHERE
    inside.iso3 IS NULL
  GROUP BY
    m.perspective,
    f.year,
    s.scope_key,
    f.exporter_iso3
), flagged AS (
  SELECT
    p.perspective,
    p.year,
    p.scope_key,
    p.exporter_iso3,
    p.value_usd,
    p.quantity_t,
    MAX(CASE WHEN b.iso3 IS NULL THEN 0 ELSE 1 END) AS bloc_rows
  FROM partner AS p
  LEFT JOIN bloc AS b
    ON b.iso3 = p.exporter_iso3 AND p.year BETWEEN b.from_year AND b.to_year
  GROUP BY
    p.perspective,
    p.year,
    p.scope_key,
    p.exporter_iso3,
    p.value_usd,
    p.quantity_t
)
SELECT
  perspective,
  year,
  SPLIT_PART(scope_key, '|', 2) AS stage,
  exporter_iso3,
  value_usd,
  quantity_t,
  value_usd / SUM(value_usd) OVER (PARTITION BY perspective, year, scope_key) AS share,
  bloc_rows = 1 AS in_bloc
FROM flagged
ORDER BY
  perspective NULLS LAST,
  year NULLS LAST,
  stage NULLS LAST,
  value_usd DESC,
  exporter_iso3 NULLS LAST
