"""CEPII BACI bilateral trade, in the layout CEPII distributes.

Accepted inputs:

* the release archive ``BACI_HS92_V202401b.zip`` (one ``BACI_HS92_Y<year>_V<release>.csv`` per
  year with columns ``t,i,j,k,v,q``, plus ``country_codes_V<release>.csv`` and
  ``product_codes_HS92_V<release>.csv``);
* a directory holding those files, or a single yearly CSV with the two code tables beside it;
* a Parquet file with the same six columns and the two code tables beside it (the form in
  which the bundled 1995-2024 subset was obtained).

Units: ``v`` is thousand current USD (stored as ``value_usd`` = v x 1000), ``q`` metric tons
(``NA`` -> null). BACI country codes are mapped to ISO3 through BACI's own code table, with
the exceptions in ``reference/country_aliases.csv`` (490 "Other Asia, nes" -> TWN, 58
Belgium-Luxembourg -> BEL, 711 SACU -> ZAF, ...). The parse runs inside DuckDB, so a release of
tens of millions of rows streams through without Python loops.
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_required_columns
from chainwatch.ingest.countries import CountryResolver, former_country_rows

SOURCE = "CEPII BACI"
TRADE_COLUMNS = ["t", "i", "j", "k", "v", "q"]
_TRADE_FILE = re.compile(r"BACI_(HS\d\d)_Y(\d{4})_(V\w+)\.csv$", re.IGNORECASE)
_COUNTRY_FILE = re.compile(r"country_codes_(V\w+)\.csv$", re.IGNORECASE)
_PRODUCT_FILE = re.compile(r"product_codes_(HS\d\d)_(V\w+)\.csv$", re.IGNORECASE)
LABELS = {
    "year": "t",
    "exporter_iso3": "i",
    "importer_iso3": "j",
    "hs6": "k",
    "value_usd": "v",
    "quantity_t": "q",
}


@dataclass
class BaciFiles:
    trade: list[Path]
    country_codes: Path
    product_codes: Path
    revision: str
    vintage: str
    display: dict[str, str]
    """Name of each file as the user knows it (``archive.zip:member.csv``)."""


def parse_baci(path: Path, con: Any, countries: CountryResolver) -> ParsedSource:
    """Parse a BACI release into staged DuckDB tables (``trade_flow``, ``product``, ...)."""
    if not path.exists():
        raise InputError(path, "no such file or directory")
    with tempfile.TemporaryDirectory(prefix="chainwatch-baci-") as scratch:
        files = _locate_files(path, Path(scratch))
        codes = _read_country_codes(files, countries)
        products = _read_product_codes(files)
        _stage_raw_trade(con, files)
        years = _stage_trade_flow(con, files, codes)
    former = former_country_rows(
        [(code, name, iso3) for code, (name, iso3, _) in codes.items()], set(countries.codes)
    )
    tables: dict[str, pa.Table | str] = {
        "trade_flow": "baci_trade_flow",
        "product": products,
        "country_code_concordance": _concordance_table(codes),
    }
    if former.num_rows:
        tables["country"] = former
    return ParsedSource(
        file=path,
        source=_source_record(files),
        tables=tables,
        replacements=[
            Replacement(
                "trade_flow",
                {"source": [SOURCE], "hs_revision": [files.revision], "year": list(years)},
                same_as_loaded=("year", "hs6"),
            )
        ],
        column_labels=LABELS,
        upserts={"product", "country_code_concordance", "country"},
        file_names=dict(files.display),
    )


def _locate_files(path: Path, scratch: Path) -> BaciFiles:
    display: dict[str, str] = {}
    if path.is_dir():
        members = sorted(p for p in path.iterdir() if p.is_file())
    elif path.suffix.lower() == ".zip":
        members = _extract_zip(path, scratch, display)
    else:
        members = sorted(p for p in path.parent.iterdir() if p.is_file())
    trade = [p for p in members if _TRADE_FILE.search(p.name)]
    if path.is_file() and path.suffix.lower() != ".zip":
        trade = [path]
    country = [p for p in members if _COUNTRY_FILE.search(p.name)]
    product = [p for p in members if _PRODUCT_FILE.search(p.name)]
    if not trade:
        raise InputError(path, "no BACI trade file (BACI_<HS>_Y<year>_V<release>.csv) found")
    if not country or not product:
        missing = "country_codes_V*.csv" if not country else "product_codes_<HS>_V*.csv"
        raise InputError(path, f"the BACI code table {missing} is missing beside the data")
    product_match = _PRODUCT_FILE.search(product[-1].name)
    assert product_match is not None
    revision, vintage = product_match.group(1).upper(), product_match.group(2)
    for member in members:
        display.setdefault(str(member), str(member))
    return BaciFiles(trade, country[-1], product[-1], revision, vintage, display)


def _extract_zip(path: Path, scratch: Path, display: dict[str, str]) -> list[Path]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            for name in names:
                target = scratch / Path(name).name
                with archive.open(name) as source, target.open("wb") as sink:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)
                display[str(target)] = f"{path}:{name}"
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise InputError(
            path, f"not a readable zip archive (truncated or corrupt): {error}"
        ) from None
    return sorted(scratch / Path(name).name for name in names)


def _read_rows(path: Path, display: str, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise InputError(display, "the file is empty")
        check_required_columns(Path(display), reader.fieldnames, required)
        rows = list(enumerate(reader, start=2))
    if not rows:
        raise InputError(display, "the file has no data rows")
    return rows


def _read_country_codes(
    files: BaciFiles, countries: CountryResolver
) -> dict[int, tuple[str, str, str | None]]:
    """BACI code -> (name, iso3 as BACI writes it, canonical ISO3 or None)."""
    display = files.display[str(files.country_codes)]
    codes: dict[int, tuple[str, str, str | None]] = {}
    required = ["country_code", "country_name", "country_iso3"]
    for line, row in _read_rows(files.country_codes, display, required):
        code = row["country_code"].strip()
        if not code.isdigit():
            raise InputError(display, f"not a numeric code: {code!r}", line, "country_code")
        iso3 = row["country_iso3"].strip()
        canonical = countries.resolve_code(iso3) if iso3 else None
        if canonical is None and re.fullmatch(r"[A-Z]{3}", iso3):
            canonical = iso3  # ISO 3166-3 former country (CSK, SUN, SCG): added to `country`
        codes[int(code)] = (row["country_name"].strip(), iso3, canonical)
    return codes


def _read_product_codes(files: BaciFiles) -> pa.Table:
    display = files.display[str(files.product_codes)]
    rows = []
    for line, row in _read_rows(files.product_codes, display, ["code", "description"]):
        code = row["code"].strip()
        if re.fullmatch(r"9999[A-Z]{2}", code):
            continue  # BACI's own "not elsewhere specified" placeholder, never an HS6 code
        if not code.isdigit() or len(code) > 6:
            raise InputError(display, f"not an HS6 code: {code!r}", line, "code")
        rows.append(
            {
                "hs6": code.zfill(6),
                "hs_revision": files.revision,
                "description": row["description"].strip(),
                SOURCE_ROW: line,
            }
        )
    return pa.Table.from_pylist(rows)


def _concordance_table(codes: dict[int, tuple[str, str, str | None]]) -> pa.Table:
    rows = []
    for code, (name, baci_iso3, canonical) in sorted(codes.items()):
        if canonical is None:
            continue
        note = None if canonical == baci_iso3 else f"BACI {baci_iso3} ({name})"
        rows.append(
            {"system": "baci", "code": code, "iso3": canonical, "note": note, SOURCE_ROW: 0}
        )
    return pa.Table.from_pylist(rows)


def _stage_raw_trade(con: Any, files: BaciFiles) -> None:
    """Read the trade files into ``baci_raw`` in file order (rowid = position)."""
    for trade_file in files.trade:
        if trade_file.suffix.lower() == ".parquet":
            continue
        with trade_file.open(encoding="utf-8-sig") as handle:
            header = handle.readline()
        display = files.display.get(str(trade_file), str(trade_file))
        if not header.strip():
            raise InputError(display, "the file is empty")
        check_required_columns(Path(display), [h.strip() for h in header.split(",")], TRADE_COLUMNS)
    paths = [str(p) for p in files.trade]
    if files.trade[0].suffix.lower() == ".parquet":
        con.execute(
            "CREATE OR REPLACE TEMP TABLE baci_raw AS SELECT t, i, j, CAST(k AS VARCHAR) AS k, "
            "v, CAST(q AS VARCHAR) AS q, filename, file_row_number + 1 AS line "
            "FROM read_parquet(?, filename = true, file_row_number = true)",
            [paths],
        )
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baci_raw AS SELECT *, NULL::BIGINT AS line FROM read_csv(?, "
        "header = true, filename = true, store_rejects = true, auto_detect = false, delim = ',', "
        "quote = '\"', columns = {'t': 'SMALLINT', 'i': 'INTEGER', 'j': 'INTEGER', "
        "'k': 'VARCHAR', 'v': 'DOUBLE', 'q': 'VARCHAR'})",
        [paths],
    )
    reject = con.execute(
        "SELECT s.file_path, e.line, e.column_name, e.error_message FROM reject_errors e "
        "JOIN reject_scans s USING (scan_id, file_id) ORDER BY s.file_path, e.line LIMIT 1"
    ).fetchone()
    if reject:
        display = files.display.get(reject[0], reject[0])
        message = reject[3].split(". ", 1)[-1] if reject[3] else "unreadable value"
        raise InputError(display, message, int(reject[1]), reject[2])
    # rowid follows insertion order, which follows file order; per-file line = offset + 2
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baci_offsets AS "
        "SELECT filename, min(rowid) AS first_rowid FROM baci_raw GROUP BY filename"
    )


def _line_expression(files: BaciFiles) -> str:
    if files.trade[0].suffix.lower() == ".parquet":
        return "r.line"
    return "CAST(r.rowid - o.first_rowid + 2 AS BIGINT)"


def _offsets_join(files: BaciFiles) -> str:
    return (
        ""
        if files.trade[0].suffix.lower() == ".parquet"
        else "JOIN baci_offsets o USING (filename)"
    )


_RAW_RULES: list[tuple[str, str, str]] = [
    *((column, f"r.{column} IS NULL", "value is missing") for column in ("t", "i", "j", "k", "v")),
    ("q", "trim(r.q) NOT IN ('NA', '') AND TRY_CAST(trim(r.q) AS DOUBLE) IS NULL",
     "not a number: {!r}"),
    ("k", "NOT regexp_full_match(trim(r.k), '[0-9]{{1,6}}')", "not an HS6 code: {!r}"),
    ("i", "coalesce({lookup}[r.i + 1], '') = ''",
     "unknown BACI country code {} (not in the country code table)"),
    ("j", "coalesce({lookup}[r.j + 1], '') = ''",
     "unknown BACI country code {} (not in the country code table)"),
]  # fmt: skip
"""Checks on the raw columns: (column, violation, message). The staging scan records, per row,
the number of the first rule it breaks (``raw_fault``), so the checks cost no extra scan."""


def _stage_trade_flow(
    con: Any, files: BaciFiles, codes: dict[int, tuple[str, str, str | None]]
) -> list[int]:
    """Map and type the raw rows into ``baci_trade_flow``; raise on the first bad raw row."""
    # BACI codes are below 1000: an array indexed by code maps them without a join
    lookup = ["" for _ in range(max(codes) + 1)]
    for code, (_, _, iso3) in codes.items():
        lookup[code] = iso3 or ""
    iso3_by_code = "[" + ", ".join(f"'{iso3}'" for iso3 in lookup) + "]"
    fault = " ".join(
        f"WHEN {condition.format(lookup=iso3_by_code)} THEN {number}"
        for number, (_, condition, _) in enumerate(_RAW_RULES, start=1)
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE baci_trade_flow AS
        SELECT CAST(r.t AS SMALLINT) AS year,
               {iso3_by_code}[r.i + 1] AS exporter_iso3,
               {iso3_by_code}[r.j + 1] AS importer_iso3,
               lpad(trim(r.k), 6, '0') AS hs6, ? AS hs_revision, r.v * 1000 AS value_usd,
               TRY_CAST(nullif(nullif(trim(r.q), 'NA'), '') AS DOUBLE) AS quantity_t,
               ? AS source, ? AS vintage, r.filename AS {SOURCE_FILE},
               {_line_expression(files)} AS {SOURCE_ROW},
               CASE {fault} ELSE 0 END AS raw_fault
        FROM baci_raw r {_offsets_join(files)}""",
        [files.revision, SOURCE, files.vintage],
    )
    _raise_first_raw_fault(con, files)
    years = [row[0] for row in con.execute("SELECT DISTINCT t FROM baci_raw ORDER BY t").fetchall()]
    con.execute("DROP TABLE baci_raw")
    return years


def _raise_first_raw_fault(con: Any, files: BaciFiles) -> None:
    hit = con.execute(
        f"SELECT {SOURCE_FILE}, {SOURCE_ROW}, raw_fault FROM baci_trade_flow "
        f"WHERE raw_fault > 0 ORDER BY {SOURCE_FILE}, {SOURCE_ROW} LIMIT 1"
    ).fetchone()
    if hit is None:
        return
    filename, line, number = hit
    column, _, message = _RAW_RULES[number - 1]
    value = con.execute(
        f"SELECT r.{column} FROM baci_raw r {_offsets_join(files)} "
        f"WHERE r.filename = ? AND {_line_expression(files)} = ?",
        [filename, line],
    ).fetchone()
    display = files.display.get(filename, filename)
    raise InputError(display, message.format(value[0] if value else None), int(line), column)


def _source_record(files: BaciFiles) -> SourceRecord:
    return SourceRecord(
        source_id=f"cepii-baci-{files.revision.lower()}-{files.vintage.lower()}",
        title=f"BACI: International Trade Database at the Product-Level ({files.revision})",
        publisher="CEPII",
        version=files.vintage,
        licence="Etalab Open Licence 2.0",
        licence_class="A",
        citation=(
            "Gaulier, G. and Zignago, S. (2010) BACI: International Trade Database at the "
            "Product-Level. The 1994-2007 Version. CEPII Working Paper 2010-23"
        ),
        obtained_from=", ".join(sorted(files.display[str(p)] for p in files.trade))[:500],
        cut="none",
    )
