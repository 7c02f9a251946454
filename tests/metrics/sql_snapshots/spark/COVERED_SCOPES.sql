SELECT DISTINCT
  s.scope_key
FROM flows AS f
JOIN scope AS s
  ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
