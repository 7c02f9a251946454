"""World Bank Worldwide Governance Indicators (WGI), in the World Bank's long CSV layout.

Accepted inputs: ``wgidataset.csv`` as the World Bank distributes it (UTF-8 with a byte order
mark, CRLF line ends), columns ``codeindyr, code, countryname, year, indicator, estimate,
stddev, nsource, pctrank, pctranklower, pctrankupper``, one row per economy, indicator and
year, missing values written ``..``; or a ``.zip`` archive holding exactly one such CSV.

Economy codes go through :meth:`CountryResolver.resolve_code`, which knows the World Bank's
pre-ISO codes (ZAR, ROM, ADO, TMP, WBG, KSV). A code the resolver does not know is an error,
except where WGI names the economy "... (former)" (ANT, "Netherlands Antilles (former)"): that
code is kept and added to ``country`` as a former country, as the BACI reader does. Rows whose
estimate is ``..`` carry no figures at all and are dropped (counted in ``SourceRecord.cut``);
``pctranklower``/``pctrankupper`` have no canonical column and are not kept.

The release ("2024 update") is read from a file name like ``wgidataset_2024update_...``; pass
``vintage`` when the file is named otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_not_empty
from chainwatch.ingest.countries import CountryResolver, former_country_rows
from chainwatch.ingest.files import TextInput, check_archive, check_input_path, csv_dicts, open_zip
from chainwatch.ingest.values import parse_count, parse_number, parse_year, rows_to_table, shown

SOURCE = "World Bank WGI"
MISSING = ".."
INDICATORS = ("va", "pv", "ge", "rq", "rl", "cc")
COLUMNS = ["code", "year", "indicator", "estimate", "stddev", "nsource", "pctrank"]
LABELS = {
    "year": "year",
    "country_iso3": "code",
    "indicator": "indicator",
    "estimate": "estimate",
    "standard_error": "stddev",
    "source_count": "nsource",
    "percentile_rank": "pctrank",
}
_KEY_LABEL = "code+indicator+year"
_FORMER = "(former)"
_VINTAGE_IN_NAME = re.compile(r"(\d{4})\s*_?update", re.IGNORECASE)


def parse_wgi(path: Path, countries: CountryResolver, vintage: str | None = None) -> ParsedSource:
    """Parse a WGI long CSV (or a zip holding one) into the canonical ``governance`` table."""
    source = _text_input(path)
    release = vintage or infer_vintage(source.display)
    if release is None:
        raise InputError(
            source.display,
            "cannot tell the WGI release from the file name: pass vintage='2024 update'",
        )
    reader = _Reader(Path(source.display), countries, release)
    rows, total = reader.read(source)
    table = rows_to_table(source.display, rows, _schema(), LABELS)
    tables: dict[str, pa.Table | str] = {"governance": table}
    if reader.formers:
        triples = [(0, name, code) for code, name in sorted(reader.formers.items())]
        tables["country"] = former_country_rows(triples, set(countries.codes))
    held = {"source": [SOURCE], "vintage": [release]}
    return ParsedSource(
        file=path,
        source=_source_record(source.display, release, total, total - len(rows)),
        tables=tables,
        replacements=[Replacement("governance", held)],
        column_labels=LABELS,
        upserts={"country"} if reader.formers else set(),
        held={"governance": held},
    )


def infer_vintage(name: str) -> str | None:
    """``wgidataset_2024update_1996_2023_long.csv`` -> ``2024 update``; None when not named."""
    match = _VINTAGE_IN_NAME.search(Path(name).name)
    return f"{match.group(1)} update" if match else None


def _schema() -> pa.Schema:
    return schema.arrow_schema("governance").append(pa.field(SOURCE_ROW, pa.int64()))


def _text_input(path: Path) -> TextInput:
    """The CSV text, named as the user knows it (``archive.zip:member.csv`` for a zip)."""
    check_input_path(path)
    if path.suffix.lower() != ".zip":
        return TextInput.file(path)
    with open_zip(path) as archive:
        members = [info for info in check_archive(archive, str(path))
                   if info.filename.lower().endswith(".csv")]  # fmt: skip
    if len(members) != 1:
        raise InputError(path, f"expected one CSV file in the archive, found {len(members)}")
    return TextInput.zip_member(path, members[0], f"{path}:{members[0].filename}")


@dataclass
class _Reader:
    """Reads the data rows of one WGI file; remembers former economies the resolver lacks."""

    file: Path
    countries: CountryResolver
    vintage: str
    formers: dict[str, str] = field(default_factory=dict)
    """Code -> name of ISO 3166-3 former economies ("Netherlands Antilles (former)")."""

    def read(self, source: TextInput) -> tuple[list[dict[str, object]], int]:
        """Canonical rows with an estimate, and the number of data rows in the file."""
        _, records = csv_dicts(source, COLUMNS)
        rows: list[dict[str, object]] = []
        seen: dict[tuple[object, ...], int] = {}
        total = 0
        for line, record in records:
            total += 1
            row = self.convert(line, record)
            key = (row["country_iso3"], row["indicator"], row["year"])
            if key in seen:
                described = " ".join(str(part) for part in key)
                message = f"duplicate row for {described}; first seen on row {seen[key]}"
                raise InputError(self.file, message, line, _KEY_LABEL)
            seen[key] = line
            if row["estimate"] is not None:
                rows.append(row)
        check_not_empty(self.file, total)
        return rows, total

    def convert(self, line: int, record: dict[str, str]) -> dict[str, object]:
        file = self.file
        indicator = (record["indicator"] or "").strip().lower()
        if indicator not in INDICATORS:
            message = f"unknown indicator {shown(indicator)} (expected {', '.join(INDICATORS)})"
            raise InputError(file, message, line, "indicator")
        source_count = parse_count(file, line, record["nsource"], "nsource", (MISSING, ""))
        return {
            "year": parse_year(file, line, record["year"]),
            "country_iso3": self.economy(line, record),
            "indicator": indicator,
            "estimate": _number(file, line, record, "estimate"),
            "standard_error": _number(file, line, record, "stddev"),
            "source_count": source_count,
            "percentile_rank": _number(file, line, record, "pctrank"),
            "source": SOURCE,
            "vintage": self.vintage,
            SOURCE_ROW: line,
        }

    def economy(self, line: int, record: dict[str, str]) -> str:
        """ISO3 of the row's economy; a code WGI marks "(former)" names a former country."""
        code = (record["code"] or "").strip()
        iso3 = self.countries.resolve_code(code) if code else None
        if iso3 is not None:
            return iso3
        name = (record.get("countryname") or "").strip()
        if re.fullmatch(r"[A-Z]{3}", code) and name.lower().endswith(_FORMER):
            self.formers.setdefault(code, name[: -len(_FORMER)].strip())
            return code
        message = f"unknown economy code {shown(code)} ({shown(name)})"
        raise InputError(self.file, message, line, "code")


def _number(file: Path, line: int, record: dict[str, str], column: str) -> float | None:
    """A finite number, or None for the missing-value marker ``..`` (or an empty cell)."""
    return parse_number(file, line, record[column], column, missing=(MISSING, ""))


def _source_record(display: str, vintage: str, total: int, dropped: int) -> SourceRecord:
    return SourceRecord(
        source_id=f"worldbank-wgi-{vintage.lower().replace(' ', '-')}",
        title="Worldwide Governance Indicators",
        publisher="World Bank",
        version=vintage,
        licence="CC BY 4.0",
        licence_class="A",
        citation="Kaufmann, D. and Kraay, A., Worldwide Governance Indicators, "
        "www.govindicators.org",
        obtained_from=display,
        cut=(
            f"{dropped} of {total} rows dropped: no estimate (written '..'); "
            "pctranklower and pctrankupper not kept"
        ),
    )
