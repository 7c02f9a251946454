WITH exporter AS (
  SELECT
    f.year,
    s.scope_key,
    f.exporter_iso3,
    SUM(f.value_usd) AS value_usd,
    SUM(f.quantity_t) AS quantity_t,
    SUM(CASE WHEN f.quantity_t > 0 THEN f.value_usd ELSE 0 END) AS value_with_quantity_usd
  FROM flows AS f
  JOIN scope AS s
    ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
  GROUP BY
    f.year,
    s.scope_key,
    f.exporter_iso3
)
SELECT
  year,
  scope_key,
  SUM(value_usd) AS world_exports_value_usd,
  SUM(quantity_t) AS world_exports_quantity_t,
  SUM(value_with_quantity_usd) AS world_exports_value_with_quantity_usd,
  SUM(POWER(value_usd / NULLIF(total, 0), 2)) AS world_export_hhi
FROM (
  SELECT
    exporter.*,
    SUM(value_usd) OVER (PARTITION BY year, scope_key) AS total
  FROM exporter
) AS shares
GROUP BY
  year,
  scope_key
