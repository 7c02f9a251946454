"""SYNTHETIC BACI-format data for benchmarks and the kill test.

Every value written here is random: the files only share BACI's layout and its real code tables
(copied from the fixture release), so the ingest path is exercised at scale.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

RELEASE = Path(__file__).parent / "fixtures" / "baci" / "release"
VINTAGE = "V209901synthetic"


def write_synthetic_baci_release(directory: Path, rows: int, year: int = 2030) -> Path:
    """Write ``BACI_HS92_Y<year>_V209901synthetic.csv`` (``rows`` unique flows) and code tables.

    Codes valid only for a period (58 Belgium-Luxembourg, 711 SACU) are left out: in one year
    they would map onto the same ISO3 as their successors and make duplicate keys.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for table in RELEASE.glob("*_codes_*.csv"):
        shutil.copy(table, directory / table.name.replace("V202401b", VINTAGE))
    target = directory / f"BACI_HS92_Y{year}_{VINTAGE}.csv"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE c AS SELECT country_code AS code, row_number() OVER () - 1 AS n "
        "FROM read_csv(?) WHERE country_iso3 <> 'R20' AND country_name NOT LIKE '%(...%'",
        [str(next(RELEASE.glob("country_codes_*.csv")))],
    )
    con.execute(
        "CREATE TABLE p AS SELECT code, row_number() OVER () - 1 AS n "
        "FROM read_csv(?, all_varchar = true) WHERE code NOT LIKE '9999%'",
        [str(next(RELEASE.glob("product_codes_*.csv")))],
    )
    countries = con.execute("SELECT count(*) FROM c").fetchone()[0]  # type: ignore[index]
    pairs = countries * countries
    con.execute(
        f"""COPY (
            SELECT {year} AS t, e.code AS i, m.code AS j, p.code AS k,
                   round(random() * 10000, 3) AS v,
                   CASE WHEN random() < 0.05 THEN '         NA'
                        ELSE CAST(round(random() * 500, 3) AS VARCHAR) END AS q
            FROM range({rows}) r(n)
            JOIN c e ON e.n = r.n % {countries}
            JOIN c m ON m.n = (r.n // {countries}) % {countries}
            JOIN p ON p.n = r.n // {pairs}
            ORDER BY r.n
        ) TO '{target}' (HEADER, DELIMITER ',', QUOTE '')"""
    )
    return target
