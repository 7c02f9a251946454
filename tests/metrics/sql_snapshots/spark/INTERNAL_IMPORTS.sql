SELECT
  m.perspective,
  f.year,
  s.scope_key,
  SUM(f.value_usd) AS value_usd,
  SUM(f.quantity_t) AS quantity_t
FROM flows AS f
JOIN scope AS s
  ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
JOIN members AS m
  ON m.iso3 = f.importer_iso3 AND f.year BETWEEN m.from_year AND m.to_year
JOIN members AS inside
  ON inside.perspective = m.perspective
  AND inside.iso3 = f.exporter_iso3
  AND f.year BETWEEN inside.from_year AND inside.to_year
GROUP BY
  m.perspective,
  f.year,
  s.scope_key
