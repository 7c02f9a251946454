SELECT DISTINCT s.scope_key
FROM flows f JOIN scope s ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision
