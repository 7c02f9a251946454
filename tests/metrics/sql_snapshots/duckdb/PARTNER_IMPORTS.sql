SELECT m.perspective, f.year, s.scope_key, f.exporter_iso3,
       sum(f.value_usd) AS value_usd, sum(f.quantity_t) AS quantity_t
FROM flows f
JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
JOIN members m ON m.iso3 = f.importer_iso3 AND f.year BETWEEN m.from_year AND m.to_year
LEFT JOIN members inside ON inside.perspective = m.perspective
    AND inside.iso3 = f.exporter_iso3 AND f.year BETWEEN inside.from_year AND inside.to_year
WHERE inside.iso3 IS NULL
GROUP BY m.perspective, f.year, s.scope_key, f.exporter_iso3
