WITH bloc_members AS (
  SELECT DISTINCT
    iso3
  FROM bloc
), scoped AS (
  SELECT
    f.exporter_iso3,
    f.importer_iso3,
    f.value_usd,
    s.scope_key,
    CASE WHEN exporter.iso3 IS NULL THEN 0 ELSE 1 END AS exporter_in_bloc,
    CASE WHEN importer.iso3 IS NULL THEN 0 ELSE 1 END AS importer_in_bloc
  FROM flows AS f
  JOIN scope AS s
    ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
  LEFT JOIN bloc_members AS exporter
    ON exporter.iso3 = f.exporter_iso3
  LEFT JOIN bloc_members AS importer
    ON importer.iso3 = f.importer_iso3
)
SELECT
  SPLIT_PART(scope_key, '|', 1) AS material,
  SPLIT_PART(scope_key, '|', 2) AS stage,
  SUM(
    CASE
      WHEN exporter_iso3 = :country AND importer_in_bloc = 1
      THEN value_usd
      ELSE 0
    END
  ) AS exports_to_bloc_usd,
  SUM(CASE WHEN exporter_iso3 = :country THEN value_usd ELSE 0 END) AS exports_usd,
  SUM(CASE WHEN importer_iso3 = :country THEN value_usd ELSE 0 END) AS imports_usd,
  SUM(
    CASE WHEN importer_in_bloc = 1 AND exporter_in_bloc = 0 THEN value_usd ELSE 0 END
  ) AS bloc_external_imports_usd
FROM scoped
GROUP BY
  scope_key
