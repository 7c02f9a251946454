WITH partner AS (
SELECT m.perspective, f.year, s.scope_key, f.exporter_iso3,
       sum(f.value_usd) AS value_usd, sum(f.quantity_t) AS quantity_t
FROM flows f
JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
JOIN members m ON m.iso3 = f.importer_iso3 AND f.year BETWEEN m.from_year AND m.to_year
LEFT JOIN members inside ON inside.perspective = m.perspective
    AND inside.iso3 = f.exporter_iso3 AND f.year BETWEEN inside.from_year AND inside.to_year
WHERE inside.iso3 IS NULL
GROUP BY m.perspective, f.year, s.scope_key, f.exporter_iso3
),
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
LEFT JOIN bloc b ON b.iso3 = r.exporter_iso3 AND r.year BETWEEN b.from_year AND b.to_year
GROUP BY r.perspective, r.year, r.scope_key
