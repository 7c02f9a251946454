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
