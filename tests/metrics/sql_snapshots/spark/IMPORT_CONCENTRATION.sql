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
), ranked AS (
  SELECT
    partner.*,
    value_usd / NULLIF(SUM(value_usd) OVER (PARTITION BY perspective, year, scope_key), 0) AS share,
    ROW_NUMBER() OVER (
      PARTITION BY perspective, year, scope_key
      ORDER BY value_usd DESC, exporter_iso3 NULLS LAST
    ) AS partner_rank
  FROM partner
)
SELECT
  r.perspective,
  r.year,
  r.scope_key,
  SUM(r.value_usd) AS imports_value_usd,
  SUM(r.quantity_t) AS imports_quantity_t,
  SUM(r.share * r.share) AS import_partner_hhi,
  SUM(CASE WHEN r.partner_rank <= 3 THEN r.share ELSE 0 END) AS import_top3_share,
  SUM(CASE WHEN b.iso3 IS NULL THEN r.share ELSE 0 END) AS outside_bloc_share,
  SUM(CASE WHEN b.iso3 IS NULL THEN r.value_usd ELSE 0 END) AS outside_bloc_value_usd,
  MAX(CASE WHEN r.partner_rank = 1 THEN r.exporter_iso3 END) AS top_partner_iso3,
  COUNT(*) AS partner_count
FROM ranked AS r
LEFT JOIN bloc AS b
  ON b.iso3 = r.exporter_iso3 AND r.year BETWEEN b.from_year AND b.to_year
GROUP BY
  r.perspective,
  r.year,
  r.scope_key
