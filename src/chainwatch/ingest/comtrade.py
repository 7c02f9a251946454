"""UN Comtrade monthly trade, in the layout of Comtrade's "final data" downloads.

Accepted inputs: the CSV that the Comtrade+ portal and API write for final data (columns
``typeCode, freqCode, refPeriodId, refYear, refMonth, period, reporterCode, reporterISO,
reporterDesc, flowCode, ..., partnerCode, partnerISO, ..., classificationCode, cmdCode,
cmdDesc, ..., customsCode, mosCode, motCode, ..., netWgt, ..., primaryValue, ...``), comma-
or tab-separated (the delimiter is read from the header line), plain, gzipped (``.gz``, as the
bulk files come) or zipped (every member of the archive is read).

Needed columns: ``freqCode, period, reporterCode, flowCode, partnerCode, classificationCode,
cmdCode, netWgt, primaryValue``; ``reporterISO, partnerISO, partnerDesc, cmdDesc,
partner2Code, customsCode, mosCode, motCode`` are used when present.

What is kept: monthly rows (``freqCode`` M) at HS6 level (six-digit ``cmdCode``) of imports
and exports (``flowCode`` M, X; re-imports RM, re-exports RX and other flow codes are dropped),
with a country as partner, and only the total over the secondary breakdowns (``partner2Code``
0, ``customsCode`` C00, ``mosCode`` 0, ``motCode`` 0) where those columns are present. Partners
that are no country (code 0 World, 837 bunkers, 838 free zones, 839 special categories, 899
areas nes, and any other unresolvable partner whose description ends in "nes") are dropped;
what was dropped is counted in the source record's ``cut``.

Mapping: ``period`` YYYYMM -> first day of the month; reporter and partner -> ISO3 through
the ISO column (``reporterISO``, ``partnerISO``, resolved with ``reference/country_aliases.csv``:
Comtrade's S19 "Other Asia, nes" is Taiwan), else through the numeric code: UN M49 of the
country table, with Comtrade's own codes (842 USA, 251 France, 381 Italy, 579 Norway, 699
India, 757 Switzerland, 490 Other Asia nes = Taiwan, 58 Belgium-Luxembourg -> BEL, 711 SACU ->
ZAF, as BACI maps them); ``classificationCode`` H0..H6 -> HS92..HS22; ``value_usd`` =
``primaryValue`` (USD); ``quantity_t`` = ``netWgt`` (kg) / 1000.

Products: codes of HS revisions other than HS92 are not in the bundled product table (BACI
brings the HS92 nomenclature only), so the parser upserts a ``product`` row for every non-HS92
code it loads, described with ``cmdDesc`` (Comtrade's own text); an HS92 code must already be
known. A load replaces the stored monthly rows of the same source, reporter, month, flow and
HS6 code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.countries import CountryResolver, bundled_country_table
from chainwatch.ingest.files import TextInput, check_archive, check_input_path, csv_dicts, open_zip
from chainwatch.ingest.values import parse_number, shown

SOURCE = "UN Comtrade"
TABLE = "trade_flow_monthly"
REQUIRED_COLUMNS = [
    "freqCode", "period", "reporterCode", "flowCode", "partnerCode", "classificationCode",
    "cmdCode", "netWgt", "primaryValue",
]  # fmt: skip
REVISIONS = {"H0": "HS92", "H1": "HS96", "H2": "HS02", "H3": "HS07", "H4": "HS12",
             "H5": "HS17", "H6": "HS22"}  # fmt: skip
"""Comtrade classificationCode -> HS revision."""
FLOWS = {"M": "import", "X": "export"}
COMTRADE_CODES = {842: "USA", 251: "FRA", 381: "ITA", 579: "NOR", 699: "IND", 757: "CHE",
                  490: "S19", 58: "BEL", 711: "ZAF"}  # fmt: skip
"""Comtrade country codes that are not the UN M49 code of the country (S19 resolves to TWN
through ``reference/country_aliases.csv``)."""
NOT_COUNTRIES = {0: "World", 837: "Bunkers", 838: "Free zones", 839: "Special categories",
                 899: "Areas, nes"}  # fmt: skip
"""Partner codes that name no country: their rows are dropped."""
TOTALS = {"partner2Code": "0", "customsCode": "C00", "mosCode": "0", "motCode": "0"}
"""Breakdown columns and the value that marks the total over the breakdown."""
LABELS = {
    "period": "period",
    "reporter_iso3": "reporterISO",
    "partner_iso3": "partnerISO",
    "flow": "flowCode",
    "hs6": "cmdCode",
    "hs_revision": "classificationCode",
    "value_usd": "primaryValue",
    "quantity_t": "netWgt",
}
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


@dataclass
class _Tally:
    """What was read and what was dropped, for the source record's ``cut``."""

    dropped: Counter[str]
    rows: int = 0


def parse_comtrade_monthly(
    path: Path, countries: CountryResolver, m49: Mapping[int, str] | None = None
) -> ParsedSource:
    """Parse a Comtrade final-data download into ``trade_flow_monthly`` (+ ``product``).

    ``m49`` maps UN M49 codes to ISO3 (default: the ``m49`` column of the shipped country
    table); it is used where the ISO column is missing or blank.
    """
    codes = dict(m49) if m49 is not None else _m49_codes()
    rows: list[dict[str, object]] = []
    products: dict[tuple[str, str], dict[str, object]] = {}
    tally = _Tally(Counter())
    display: dict[str, str] = {}
    for member in _members(path):
        display[member.display] = member.display
        for line, record in _records(member):
            tally.rows += 1
            row = _flow_row(member.display, line, record, countries, codes, tally)
            if row is None:
                continue
            rows.append(row)
            key = (str(row["hs6"]), str(row["hs_revision"]))
            if key[1] != "HS92" and key not in products:
                products[key] = _product_row(key, record.get("cmdDesc") or "")
    if not rows:
        raise InputError(path, "no monthly HS6 import or export rows with a partner country "
                         f"(read {tally.rows} rows: {_describe(tally) or 'none'})")  # fmt: skip
    vintage = _vintage(path)
    for row in rows:
        row["vintage"] = vintage
    tables: dict[str, pa.Table | str] = {TABLE: pa.Table.from_pylist(rows)}
    if products:
        tables["product"] = pa.Table.from_pylist(list(products.values()))
    return ParsedSource(
        file=path,
        source=_source_record(path, rows, tally, vintage),
        tables=tables,
        replacements=[
            Replacement(TABLE, {"source": [SOURCE]}, ("period", "reporter_iso3", "flow", "hs6"))
        ],
        column_labels=LABELS,
        upserts={"product"},
        file_names=display,
    )


def _m49_codes() -> dict[int, str]:
    table = bundled_country_table()
    return {
        int(code): str(iso3)
        for code, iso3 in zip(table["m49"].to_pylist(), table["iso3"].to_pylist(), strict=True)
        if code is not None
    }


def _members(path: Path) -> list[TextInput]:
    """The CSV texts of the input: the file itself, its gunzipped content or its zip members."""
    check_input_path(path)
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return [TextInput.gzip_file(path)]
    if suffix != ".zip":
        return [TextInput.file(path)]
    with open_zip(path) as archive:
        members = sorted(check_archive(archive, str(path)), key=lambda info: info.filename)
    if not members:
        raise InputError(path, "the zip archive holds no file")
    return [TextInput.zip_member(path, info, f"{path}:{info.filename}") for info in members]


def _records(member: TextInput) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, record) of each data row; the header is line 1."""
    _, records = csv_dicts(member, REQUIRED_COLUMNS, delimiter=None)
    empty = True
    for line, record in records:
        empty = False
        yield line, {key: value.strip() for key, value in record.items()}
    if empty:
        raise InputError(member.display, "the file has no data rows")


def _flow_row(
    file: str,
    line: int,
    record: dict[str, str],
    countries: CountryResolver,
    codes: Mapping[int, str],
    tally: _Tally,
) -> dict[str, object] | None:
    """One canonical row, or None for a row outside the kept scope (counted in ``tally``)."""
    if record["freqCode"].upper() != "M":
        tally.dropped[f"frequency {record['freqCode'] or 'blank'}"] += 1
        return None
    flow = FLOWS.get(record["flowCode"].upper())
    if flow is None:
        tally.dropped[f"flow {record['flowCode'] or 'blank'}"] += 1
        return None
    for column, total in TOTALS.items():
        if column in record and record[column] not in (total, ""):
            tally.dropped[f"{column} breakdown"] += 1
            return None
    revision = REVISIONS.get(record["classificationCode"].upper())
    if revision is None:
        written = shown(record["classificationCode"])
        raise InputError(file, f"not an HS classification code: {written} (expected H0 to H6)",
                         line, "classificationCode")  # fmt: skip
    command = record["cmdCode"]
    if not re.fullmatch(r"[0-9]+", command):
        if command.upper() == "TOTAL" or not command:
            tally.dropped["products above HS6"] += 1
            return None
        raise InputError(file, f"not an HS code: {shown(command)}", line, "cmdCode")
    if len(command) != 6:
        tally.dropped["products above HS6"] += 1
        return None
    partner = _partner(file, line, record, countries, codes)
    if partner is None:
        tally.dropped["partners that are no country (World, areas nes)"] += 1
        return None
    reporter = _country(file, line, record, "reporter", countries, codes)
    value = parse_number(file, line, record["primaryValue"], "primaryValue")
    if value is None:
        raise InputError(file, "value is missing", line, "primaryValue")
    weight = parse_number(file, line, record["netWgt"], "netWgt")
    return {
        "period": _period(file, line, record["period"]),
        "reporter_iso3": reporter,
        "partner_iso3": partner,
        "flow": flow,
        "hs6": command,
        "hs_revision": revision,
        "value_usd": value,
        "quantity_t": None if weight is None else weight / 1000.0,
        "source": SOURCE,
        SOURCE_FILE: file,
        SOURCE_ROW: line,
    }


def _period(file: str, line: int, text: str) -> date:
    match = re.fullmatch(r"(\d{4})(\d{2})", text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InputError(file, f"not a month YYYYMM: {shown(text)}", line, "period")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _code(file: str, line: int, text: str, column: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise InputError(file, f"not a numeric country code: {shown(text)}", line, column)
    return int(text)


def _resolve(
    record: dict[str, str], side: str, countries: CountryResolver, codes: Mapping[int, str]
) -> str | None:
    iso = record.get(f"{side}ISO", "")
    if iso:
        found = countries.resolve_code(iso)
        if found is not None:
            return found
    code = int(record[f"{side}Code"])
    special = COMTRADE_CODES.get(code)
    if special is not None:
        return countries.resolve_code(special)
    candidate = codes.get(code)
    return countries.resolve_code(candidate) if candidate else None


def _country(
    file: str,
    line: int,
    record: dict[str, str],
    side: str,
    countries: CountryResolver,
    codes: Mapping[int, str],
) -> str:
    column = f"{side}Code"
    _code(file, line, record[column], column)
    found = _resolve(record, side, countries, codes)
    if found is None:
        iso = record.get(f"{side}ISO", "")
        named = f"{side}ISO" if iso else column
        written = iso or record[column]
        raise InputError(file, f"unknown country code {shown(written)}", line, named)
    return found


def _partner(
    file: str,
    line: int,
    record: dict[str, str],
    countries: CountryResolver,
    codes: Mapping[int, str],
) -> str | None:
    code = _code(file, line, record["partnerCode"], "partnerCode")
    if code in NOT_COUNTRIES:
        return None
    found = _resolve(record, "partner", countries, codes)
    if found is None and re.search(r"\bnes$", record.get("partnerDesc", ""), re.IGNORECASE):
        return None  # "Other Europe, nes", "Oceania, nes": regions, not countries
    if found is None:
        return _country(file, line, record, "partner", countries, codes)
    return found


def _product_row(key: tuple[str, str], description: str) -> dict[str, object]:
    hs6, revision = key
    text = description or f"{revision} {hs6} (no description in the Comtrade file)"
    return {
        "hs6": hs6,
        "hs_revision": revision,
        "description": text,
        "valid_revisions": None,
        SOURCE_ROW: 0,
    }


def _describe(tally: _Tally) -> str:
    return "; ".join(f"{count} rows of {reason}" for reason, count in sorted(tally.dropped.items()))


def _vintage(path: Path) -> str:
    match = _DATE_IN_NAME.search(path.name)
    if match:
        return "-".join(match.groups())
    return "file " + date.fromtimestamp(path.stat().st_mtime).isoformat()


def _source_record(
    path: Path, rows: list[dict[str, object]], tally: _Tally, vintage: str
) -> SourceRecord:
    periods = sorted({str(row["period"])[:7] for row in rows})
    reporters = sorted({str(row["reporter_iso3"]) for row in rows})
    stem = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-")
    return SourceRecord(
        source_id=f"un-comtrade-monthly-{stem}"[:120],
        title=f"UN Comtrade monthly final data ({', '.join(reporters)[:200]}; "
        f"{periods[0]} to {periods[-1]})",
        publisher="United Nations Statistics Division",
        version=vintage,
        licence="UN Comtrade terms of use (attribution; redistribution restricted)",
        licence_class="B",
        citation="United Nations Comtrade Database, https://comtradeplus.un.org",
        obtained_from=str(path)[:500],
        cut="kept monthly HS6 imports and exports by partner country; dropped "
        + (_describe(tally) or "nothing"),
    )
