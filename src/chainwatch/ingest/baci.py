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

What is checked before a row is trusted: trade columns are found by header name (a file
written ``t,j,i,k,v,q`` loads correctly); ``v`` and ``q`` are finite numbers (NaN, infinity and
a ``v`` whose x1000 overflows are refused); codes are joined to the code table, never used as
an index (a negative or huge code is an unknown code, with no allocation of its size); a file
whose name states a year (``..._Y2021_...``) holds only that year, and its HS revision is the
code table's. The country code table lists each code once, and each ISO3 is known (ISO 3166-1,
a curated alias, or a former country that BACI's name marks ``(...1992)``). Archives are
checked against the decompression limits of :mod:`chainwatch.ingest.files` and extracted into
the store's scratch directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.countries import CountryResolver, former_country_rows
from chainwatch.ingest.files import (
    ARCHIVE_ERRORS,
    TextInput,
    check_archive,
    check_free_space,
    check_header,
    check_input_path,
    csv_dicts,
    csv_rows,
    describe_archive_error,
    extract_member,
    not_utf8_message,
    open_zip,
    scratch_directory,
)
from chainwatch.ingest.values import shown

SOURCE = "CEPII BACI"
TRADE_COLUMNS = ["t", "i", "j", "k", "v", "q"]
_TRADE_FILE = re.compile(r"BACI_(HS\d\d)_Y(\d{4})_(V\w+)\.csv$", re.IGNORECASE)
_COUNTRY_FILE = re.compile(r"country_codes_(V\w+)\.csv$", re.IGNORECASE)
_PRODUCT_FILE = re.compile(r"product_codes_(HS\d\d)_(V\w+)\.csv$", re.IGNORECASE)
_FORMER_NAME = re.compile(r"\(\.\.\.\s*\d{4}\)")
"""How BACI's code table marks a former country: "Czechoslovakia (...1992)"."""
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

    def shown(self, path: Path | str) -> str:
        return self.display.get(str(path), str(path))


Codes = dict[int, tuple[str, str, str | None, int]]
"""BACI code -> (name, iso3 as BACI writes it, canonical ISO3 or None, line in the table)."""


def parse_baci(path: Path, con: Any, countries: CountryResolver) -> ParsedSource:
    """Parse a BACI release into staged DuckDB tables (``trade_flow``, ``product``, ...)."""
    check_input_path(path, directory=True)
    with scratch_directory("chainwatch-baci-") as scratch:
        files = _locate_files(path, scratch)
        codes = _read_country_codes(files, countries)
        products = _read_product_codes(files)
        try:
            _stage_raw_trade(con, files)
            years = _stage_trade_flow(con, files, codes)
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as error:
            raise InputError(files.shown(files.trade[0]), _duckdb_reason(error)) from None
    former = former_country_rows(
        [(code, name, iso3) for code, (name, iso3, _, _) in codes.items()], set(countries.codes)
    )
    tables: dict[str, pa.Table | str] = {
        "trade_flow": "baci_trade_flow",
        "product": products,
        "country_code_concordance": _concordance_table(codes, files),
    }
    if former.num_rows:
        tables["country"] = former
    held = {"source": [SOURCE], "hs_revision": [files.revision], "vintage": [files.vintage]}
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
        held={"trade_flow": held},
    )


def _duckdb_reason(error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"unreadable BACI data ({first})"


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
    files = BaciFiles(trade, country[-1], product[-1], revision, vintage, display)
    for member in [*trade, files.country_codes, files.product_codes]:
        check_input_path(member, files.shown(member))
    for trade_file in trade:
        named = _TRADE_FILE.search(trade_file.name)
        if named and named.group(1).upper() != revision:
            raise InputError(files.shown(trade_file), f"the file name says {named.group(1)} but "
                             f"the product code table is {revision}")  # fmt: skip
    return files


def _extract_zip(path: Path, scratch: Path, display: dict[str, str]) -> list[Path]:
    """Extract the archive's files (flattened) into ``scratch``, within the size limits."""
    targets: list[Path] = []
    with open_zip(path) as archive:
        members = check_archive(archive, str(path))
        check_free_space(scratch, sum(info.file_size for info in members), str(path))
        seen: dict[str, str] = {}
        for info in members:
            base = Path(info.filename).name
            if base in seen:
                raise InputError(path, f"two members are named {base!r} ({seen[base]!r} and "
                                 f"{info.filename!r})")  # fmt: skip
            seen[base] = info.filename
            target = scratch / base
            try:
                extract_member(archive, info, target, f"{path}:{info.filename}")
            except (*ARCHIVE_ERRORS, OSError) as error:
                raise InputError(path, "not a readable zip archive: "
                                 + describe_archive_error(error)) from None  # fmt: skip
            display[str(target)] = f"{path}:{info.filename}"
            targets.append(target)
    return sorted(targets)


def _code_table_rows(
    path: Path, display: str, required: list[str]
) -> list[tuple[int, dict[str, str]]]:
    _, records = csv_dicts(TextInput.file(path, display), required)
    rows = list(records)
    if not rows:
        raise InputError(display, "the file has no data rows")
    return rows


def _read_country_codes(files: BaciFiles, countries: CountryResolver) -> Codes:
    """The country code table, each code once, each ISO3 known (or a marked former country)."""
    display = files.shown(files.country_codes)
    codes: Codes = {}
    required = ["country_code", "country_name", "country_iso3"]
    for line, row in _code_table_rows(files.country_codes, display, required):
        code = row["country_code"].strip()
        if not re.fullmatch(r"[0-9]{1,9}", code):
            raise InputError(display, f"not a numeric code: {shown(code)}", line, "country_code")
        if int(code) in codes:
            first = codes[int(code)][3]
            raise InputError(display, f"code {int(code)} appears twice (first on row {first})",
                             line, "country_code")  # fmt: skip
        name, iso3 = row["country_name"].strip(), row["country_iso3"].strip()
        codes[int(code)] = (name, iso3, _canonical(display, line, name, iso3, countries), line)
    return codes


def _canonical(
    display: str, line: int, name: str, iso3: str, countries: CountryResolver
) -> str | None:
    """The ISO3 a code table row maps to; None for BACI's pseudo codes (R20 "Europe EFTA")."""
    canonical = countries.resolve_code(iso3) if iso3 else None
    if canonical is not None:
        return canonical
    if not re.fullmatch(r"[A-Z]{3}", iso3):
        return None  # not an ISO3 code at all: rows using the code are unknown codes
    if _FORMER_NAME.search(name):
        return iso3  # ISO 3166-3 former country (CSK, SUN, SCG): added to `country`
    message = (f"unknown ISO3 code {shown(iso3)} for {shown(name)}: not an ISO 3166-1 code, "
               "and the name does not mark a former country like '(...1992)'")  # fmt: skip
    raise InputError(display, message, line, "country_iso3")


def _read_product_codes(files: BaciFiles) -> pa.Table:
    display = files.shown(files.product_codes)
    rows = []
    seen: dict[str, int] = {}
    for line, row in _code_table_rows(files.product_codes, display, ["code", "description"]):
        code = row["code"].strip()
        if re.fullmatch(r"9999[A-Z]{2}", code):
            continue  # BACI's own "not elsewhere specified" placeholder, never an HS6 code
        if not re.fullmatch(r"[0-9]{1,6}", code):
            raise InputError(display, f"not an HS6 code: {shown(code)}", line, "code")
        hs6 = code.zfill(6)
        if hs6 in seen:
            raise InputError(display, f"code {hs6} appears twice (first on row {seen[hs6]})",
                             line, "code")  # fmt: skip
        seen[hs6] = line
        rows.append(
            {
                "hs6": hs6,
                "hs_revision": files.revision,
                "description": row["description"].strip(),
                SOURCE_FILE: str(files.product_codes),
                SOURCE_ROW: line,
            }
        )
    return pa.Table.from_pylist(rows)


def _concordance_table(codes: Codes, files: BaciFiles) -> pa.Table:
    rows = []
    for code, (name, baci_iso3, canonical, line) in sorted(codes.items()):
        if canonical is None:
            continue
        note = None if canonical == baci_iso3 else f"BACI {baci_iso3} ({name})"
        rows.append({"system": "baci", "code": code, "iso3": canonical, "note": note,
                     SOURCE_FILE: str(files.country_codes), SOURCE_ROW: line})  # fmt: skip
    return pa.Table.from_pylist(rows)


def _expected_year(path: Path) -> int | None:
    named = _TRADE_FILE.search(path.name)
    return int(named.group(2)) if named else None


def _csv_columns(files: BaciFiles, trade_file: Path) -> str:
    """The ``columns`` argument of read_csv for one file: its header, read by name.

    Every column is read as text (the raw rules check the formats); unknown ones are ignored.
    """
    display = files.shown(trade_file)
    rows = csv_rows(TextInput.file(trade_file, display))
    try:
        header = next(rows, None)
    finally:
        rows.close()
    if header is None:
        raise InputError(display, "the file is empty")
    names = check_header(display, header[1], TRADE_COLUMNS)
    columns = [
        f"'{name}': 'VARCHAR'" if name in TRADE_COLUMNS else f"'extra_{n}': 'VARCHAR'"
        for n, name in enumerate(names)
    ]
    return "{" + ", ".join(columns) + "}"


def _stage_raw_trade(con: Any, files: BaciFiles) -> None:
    """Read the trade files into ``baci_raw`` in file order (rowid = position)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baci_raw (t VARCHAR, i VARCHAR, j VARCHAR, k VARCHAR, "
        "v VARCHAR, q VARCHAR, filename VARCHAR, expected_year INTEGER, line BIGINT)"
    )
    if files.trade[0].suffix.lower() == ".parquet":
        _stage_raw_parquet(con, files)
        return
    for trade_file in files.trade:
        columns = _csv_columns(files, trade_file)
        con.execute(
            "INSERT INTO baci_raw SELECT t, i, j, k, v, q, filename, ?, NULL FROM read_csv(?, "
            "header = true, filename = true, store_rejects = true, rejects_limit = 10, "
            f"auto_detect = false, delim = ',', quote = '\"', columns = {columns})",
            [_expected_year(trade_file), str(trade_file)],
        )
        _raise_first_reject(con, files)
    # rowid follows insertion order, which follows file order; per-file line = offset + 2
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baci_offsets AS "
        "SELECT filename, min(rowid) AS first_rowid FROM baci_raw GROUP BY filename"
    )


def _stage_raw_parquet(con: Any, files: BaciFiles) -> None:
    """The Parquet form, by column name, as text: the same raw rules then apply."""
    paths = [str(p) for p in files.trade]
    display = files.shown(files.trade[0])
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [paths]).fetchall()
    check_header(display, [row[0] for row in described], TRADE_COLUMNS)
    texts = ", ".join(f"CAST({name} AS VARCHAR)" for name in TRADE_COLUMNS)
    con.execute(
        f"INSERT INTO baci_raw SELECT {texts}, filename, NULL, file_row_number + 1 "
        "FROM read_parquet(?, filename = true, file_row_number = true)",
        [paths],
    )


def _raise_first_reject(con: Any, files: BaciFiles) -> None:
    reject = con.execute(
        "SELECT s.file_path, e.line, e.column_name, e.error_type, e.error_message "
        "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
        "WHERE e.scan_id = (SELECT max(scan_id) FROM reject_scans) ORDER BY e.line LIMIT 1"
    ).fetchone()
    if reject is None:
        return
    path, line, column, kind, text = reject
    if "ENCODING" in str(kind).upper():
        message = not_utf8_message(None)
    else:
        message = str(text).split(". ", 1)[-1] if text else "unreadable value"
    raise InputError(files.shown(path), message, int(line), column or None)


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


RawRule = tuple[str, str, Callable[[dict[str, Any]], str]]


def _unknown(text: str) -> str:
    code = text.strip()
    written = code if re.fullmatch(r"-?[0-9]{1,12}", code) else shown(code)
    return f"unknown BACI country code {written} (not in the country code table)"


_RAW_RULES: list[RawRule] = [
    *((column, f"x.{column}_text IS NULL", lambda row: "value is missing")
      for column in ("t", "i", "j", "k", "v")),
    ("t", "list_contains($bad_years, x.t_text)", lambda row: f"not a year: {shown(row['t'])}"),
    ("t", "x.expected_year IS NOT NULL AND x.t_value <> x.expected_year",
     lambda row: f"year {row['t'].strip()} in a file whose name says {row['expected_year']}"),
    ("k", "list_contains($bad_products, x.k_text)",
     lambda row: f"not an HS6 code: {shown(row['k'])}"),
    ("v", "x.v_value IS NULL OR contains(x.v_text, '_')",
     lambda row: f"not a number: {shown(row['v'])}"),
    ("v", "NOT isfinite(x.v_value)", lambda row: f"not a finite number: {shown(row['v'])}"),
    ("v", "NOT isfinite(x.v_value * 1000)",
     lambda row: f"value {row['v'].strip()} thousand USD is too large to hold in US dollars"),
    ("q", "x.q_text IS NOT NULL AND (x.q_value IS NULL OR contains(x.q_text, '_'))",
     lambda row: f"not a number: {shown(row['q'])}"),
    ("q", "NOT isfinite(x.q_value)", lambda row: f"not a finite number: {shown(row['q'])}"),
    ("i", "e.iso3 IS NULL", lambda row: _unknown(row["i"])),
    ("j", "m.iso3 IS NULL", lambda row: _unknown(row["j"])),
]  # fmt: skip
"""Checks on the raw text: (column, violation, message from the raw row). The staging scan
records, per row, the number of the first rule it breaks (``raw_fault``), so the checks cost
no extra scan. DuckDB's casts are lenient (``0x10`` is 16, ``0b11`` 3, ``5.7`` 6, ``1e2``
100), so codes are matched as text (the code table's decimal codes: anything else, ``-2``
included, is an unknown code), years and HS codes are checked on their distinct texts, and a
number may not hold ``_`` (``1_000``), the one form the DOUBLE cast takes that is no decimal
number."""

_TYPED = """SELECT s.*, TRY_CAST(s.t_text AS SMALLINT) AS t_value,
       TRY_CAST(s.v_text AS DOUBLE) AS v_value, TRY_CAST(s.q_text AS DOUBLE) AS q_value
FROM (SELECT r.filename, r.expected_year, {line} AS line_number,
             nullif(trim(r.t), '') AS t_text, nullif(trim(r.i), '') AS i_text,
             nullif(trim(r.j), '') AS j_text, nullif(trim(r.k), '') AS k_text,
             nullif(trim(r.v), '') AS v_text, nullif(nullif(trim(r.q), 'NA'), '') AS q_text
      FROM baci_raw r {offsets}) s"""
"""The raw rows with their trimmed text and typed values, each computed once."""


def _bad_texts(con: Any, column: str, pattern: str) -> list[str]:
    """The distinct values of a raw column that do not match ``pattern`` (a few hundred
    distinct years or HS codes stand for millions of rows)."""
    distinct = con.execute(f"SELECT DISTINCT nullif(trim({column}), '') FROM baci_raw").fetchall()
    return [text for (text,) in distinct if text is not None and not re.fullmatch(pattern, text)]


def _stage_trade_flow(con: Any, files: BaciFiles, codes: Codes) -> list[int]:
    """Map and type the raw rows into ``baci_trade_flow``; raise on the first bad raw row."""
    mapped = [(str(code), canonical) for code, (_, _, canonical, _) in codes.items() if canonical]
    mapping = pa.table(
        {
            "code": pa.array([code for code, _ in mapped], pa.string()),
            "iso3": pa.array([iso3 for _, iso3 in mapped], pa.string()),
        }
    )
    con.register("baci_code_arrow", mapping)
    con.execute("CREATE OR REPLACE TEMP TABLE baci_codes AS SELECT code, iso3 FROM baci_code_arrow")
    con.unregister("baci_code_arrow")
    fault = " ".join(
        f"WHEN coalesce({condition}, false) THEN {number}"
        for number, (_, condition, _) in enumerate(_RAW_RULES, start=1)
    )
    typed = _TYPED.format(line=_line_expression(files), offsets=_offsets_join(files))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE baci_trade_flow AS
        SELECT x.t_value AS year, e.iso3 AS exporter_iso3, m.iso3 AS importer_iso3,
               lpad(x.k_text, 6, '0') AS hs6, $revision AS hs_revision,
               x.v_value * 1000 AS value_usd, x.q_value AS quantity_t, $source AS source,
               $vintage AS vintage, x.filename AS {SOURCE_FILE}, x.line_number AS {SOURCE_ROW},
               CASE {fault} ELSE 0 END AS raw_fault
        FROM ({typed}) x
        LEFT JOIN baci_codes e ON e.code = x.i_text
        LEFT JOIN baci_codes m ON m.code = x.j_text""",
        {
            "revision": files.revision,
            "source": SOURCE,
            "vintage": files.vintage,
            "bad_years": _bad_texts(con, "t", r"[0-9]{4}"),
            "bad_products": _bad_texts(con, "k", r"[0-9]{1,6}"),
        },
    )
    _raise_first_raw_fault(con, files)
    years = [
        row[0]
        for row in con.execute("SELECT DISTINCT year FROM baci_trade_flow ORDER BY 1").fetchall()
    ]
    con.execute("DROP TABLE baci_raw")
    con.execute("DROP TABLE baci_codes")
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
    values = con.execute(
        f"SELECT r.t, r.i, r.j, r.k, r.v, r.q, r.expected_year FROM baci_raw r "
        f"{_offsets_join(files)} WHERE r.filename = ? AND {_line_expression(files)} = ?",
        [filename, line],
    ).fetchone()
    row = dict(zip([*TRADE_COLUMNS, "expected_year"], values or [None] * 7, strict=True))
    shown_line = _physical_line(Path(filename), int(line)) if values is not None else int(line)
    raise InputError(files.shown(filename), message(row), shown_line, column)


def _physical_line(path: Path, line: int) -> int:
    """The editor line of the record DuckDB counted as ``line`` (it skips blank lines)."""
    if path.suffix.lower() == ".parquet":
        return line
    records, physical = 1, 0
    with path.open("rb") as handle:
        for physical, text in enumerate(handle, start=1):
            if physical > 1 and text.strip():
                records += 1
            if records == line:
                return physical
    return line


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
        obtained_from=", ".join(sorted(files.shown(p) for p in files.trade))[:500],
        cut="none",
    )
