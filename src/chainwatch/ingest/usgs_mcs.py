"""USGS Mineral Commodity Summaries (MCS) data releases, read in the publisher's own CSV format.

:func:`parse_usgs_mcs_world` reads ``mcs20XX-<code>_world.csv`` files (production by country)
into the canonical ``production`` table; :func:`parse_usgs_salient_critical` reads the
critical-minerals salient table (T5: leading producer and its share of world output).

* Only production columns (``Prod_<unit>[_est]_<year>``) become rows: reserves (``Reserves_*``)
  and plant-capacity (``Cap_*``) columns are not loaded. ``Prod_notes`` only feeds ``estimated``.
  Blank cells give no row.
* Units: kt -> t (x1e3), Mt/mmt -> t (x1e6), kct -> ct (x1e3), mct (million carats) -> ct
  (x1e6), mcm (million cubic metres) -> m3 (x1e6); t and kg stay.
* ``estimated``: the column name says est/Est, the value has USGS's ``e`` prefix ("e5,000"), the
  Type says "estimated", or the note says that year is estimated too ("Also estimated in 2022").
* Markers (W, NA, XX, Large, --, "Less than ½ unit.", "Included with ilmenite") give a null
  ``quantity`` and the marker in ``value_flag``; bounds ("<100") keep the bound, flag "<"/">".
* ``material`` (and ``stage`` where the Type text does not tell mine from refinery) come from
  ``reference/usgs_commodities.csv``. Rows of commodities chainwatch does not track (cement,
  salt, ...) and rows naming several countries ("United States and Canada") are skipped and
  counted in ``SourceRecord.cut``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from os.path import commonpath
from pathlib import Path

import pyarrow as pa

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_required_columns
from chainwatch.ingest.countries import CountryResolver, normalise_name
from chainwatch.ingest.files import TextInput, check_header, check_input_path, check_width, csv_rows

SOURCE = "USGS MCS"
PUBLISHER = "U.S. Geological Survey"
LICENCE = "US Government work, public domain"
# Data-release DOIs by edition (SOURCES.md section 4).
DATA_RELEASE_DOIS = {2022: "10.5066/P9WCYUI6", 2023: "10.5066/P9WCYUI6", 2024: "10.5066/P144BA54"}

_WORLD_FILE = re.compile(r"mcs(?P<edition>\d{4})-(?P<code>[a-z]+(?:-[a-z]+)*)_world\.csv$", re.I)
_SALIENT_FILE = re.compile(r"mcs(?P<edition>\d{4})_", re.I)
# publisher unit (lower case) -> (canonical unit, factor)
# fmt: off
_UNITS: dict[str, tuple[str, float]] = {
    "t": ("t", 1.0), "kt": ("t", 1e3), "mt": ("t", 1e6), "mmt": ("t", 1e6), "kg": ("kg", 1.0),
    "ct": ("ct", 1.0), "kct": ("ct", 1e3), "mct": ("ct", 1e6),
    "m3": ("m3", 1.0), "mcm": ("m3", 1e6), "flask": ("flask", 1.0),
}
# fmt: on
_MARKER = re.compile(
    r"W|NA|N/A|XX|Large|-+|[—–]|Less than ½ unit\.?|Included with [\w ]+", re.IGNORECASE
)
_NUMBER = re.compile(
    r"(?P<estimate>e)?\s*(?P<bound>[<>])?\s*(?P<sign>-)?\s*"
    r"(?P<digits>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
)
_REFINERY_TYPE = re.compile(r"refinery|smelter|refined|plant production|metal production", re.I)
_MINE_TYPE = re.compile(r"\bmine\b|\bmne\b|\bores?\b|\bconcentrates?\b", re.I)
_SEVERAL_COUNTRIES = re.compile(r"\s+and\s+|\s*,\s*|\s*&\s*")
_REQUIRED_WORLD = ["Source", "Country"]
_NOTE_COLUMNS = ("prod_notes", "prod_note")
# T5 output column -> the file's column holding the number
_SALIENT_NUMBERS = {
    "leading_country_production": "Leading_country_prod",
    "world_production": "World_total_prod",
    "leading_share_percent": "Leading_source_precent_world",
}
_REQUIRED_SALIENT = ["Source", "Year", "Critical_mineral", "Leading_source_country"]


@dataclass(frozen=True)
class CommodityRule:
    """One row of ``reference/usgs_commodities.csv``."""

    code: str
    name: str
    type_contains: str
    material: str
    stage: str
    critical_mineral: str
    stage_basis: str = ""
    """Which USGS table the stage stands for (documentation; empty for type-derived stages)."""


@dataclass(frozen=True)
class ProductionColumn:
    """A ``Prod_<unit>[_est]_<year>`` column of a world file."""

    index: int
    name: str
    year: int
    unit: str
    factor: float
    estimated: bool


@dataclass(frozen=True)
class ParsedValue:
    quantity: float | None
    flag: str | None
    estimated: bool


@dataclass
class _FileResult:
    vintage: str
    rows: list[dict[str, object]] = field(default_factory=list)
    untracked: Counter[str] = field(default_factory=Counter)
    several_countries: Counter[str] = field(default_factory=Counter)
    production_columns: list[str] = field(default_factory=list)


@cache
def commodity_rules() -> tuple[CommodityRule, ...]:
    """The curated commodity-code mapping, in file order (first match wins)."""
    text = (
        resources.files("chainwatch.reference")
        .joinpath("usgs_commodities.csv")
        .read_text(encoding="utf-8")
    )
    columns = ["usgs_code", "commodity_name", "type_contains", "material", "stage"]
    names = [*columns, "critical_mineral", "stage_basis"]
    return tuple(
        CommodityRule(*((record.get(name) or "").strip() for name in names))
        for record in csv.DictReader(text.splitlines())
    )


def commodity_rule(code: str, type_text: str) -> CommodityRule | None:
    """The rule that maps a world file's Type text for a commodity code (first match)."""
    rules = [rule for rule in commodity_rules() if rule.code.lower() == code.lower()]
    return _match_rule(rules, " ".join(type_text.split()))


def parse_usgs_mcs_world(paths: list[Path], countries: CountryResolver) -> ParsedSource:
    """Read one or more MCS ``*_world.csv`` files into the canonical ``production`` table."""
    if not paths:
        raise InputError("(no files)", "no USGS MCS world files given")
    for path in paths:
        check_input_path(Path(path))
    several_files = len(paths) > 1
    paths = [Path(path).absolute() if several_files else Path(path) for path in paths]
    base = Path(commonpath([path.parent for path in paths])) if several_files else paths[0]
    results: list[_FileResult] = []
    for path in paths:
        result = _parse_world_file(path, countries)
        if several_files:
            name = path.relative_to(base).as_posix()
            for row in result.rows:
                row[SOURCE_FILE] = name
        results.append(result)
    rows = [row for result in results for row in result.rows]
    _check_unique(rows, base)
    vintages = sorted({result.vintage for result in results})
    return ParsedSource(
        file=base,
        source=_source_record(results, base),
        tables={"production": _production_table(rows, several_files)},
        replacements=[Replacement("production", {"source": [SOURCE], "vintage": list(vintages)})],
        column_labels=_column_labels(results, several_files),
    )


@dataclass(frozen=True)
class _Context:
    """One world file: where its columns are, its commodity rules, the country resolver."""

    path: Path
    rules: list[CommodityRule]
    countries: CountryResolver
    source: int
    country: int
    type: int
    type_label: str
    note: int | None
    columns: list[ProductionColumn]


def _parse_world_file(path: Path, countries: CountryResolver) -> _FileResult:
    edition, code = _edition_and_code(path)
    result = _FileResult(vintage=f"MCS{edition}")
    header, records = _read_csv(path)
    check_required_columns(path, header, _REQUIRED_WORLD)
    type_index = _type_column(path, header)
    rules = [rule for rule in commodity_rules() if rule.code.lower() == code]
    if not rules:
        message = f"unknown USGS commodity code {code!r}: add it to usgs_commodities.csv"
        raise InputError(path, message, 1)
    if not any(rule.material for rule in rules):
        result.untracked[code] = len(records)
        return result
    context = _Context(
        path=path,
        rules=rules,
        countries=countries,
        source=header.index("Source"),
        country=header.index("Country"),
        type=type_index,
        type_label=header[type_index],
        note=next((i for i, name in enumerate(header) if name.lower() in _NOTE_COLUMNS), None),
        columns=_production_columns(path, header),
    )
    result.production_columns = [column.name for column in context.columns]
    for line, record in records:
        _parse_world_record(context, line, record, result)
    _disambiguate(result.rows)
    return result


def _parse_world_record(
    context: _Context, line: int, record: list[str], result: _FileResult
) -> None:
    """Add the rows of one CSV record to ``result`` (or count it as skipped)."""
    path = context.path
    _check_source_cell(path, line, _cell(record, context.source), result.vintage)
    type_text = " ".join(_cell(record, context.type).split())
    rule = _match_rule(context.rules, type_text)
    if rule is None or not rule.material:
        result.untracked[context.rules[0].code] += 1
        return
    raw_country = _cell(record, context.country)
    iso3 = _resolve_country(path, line, raw_country, context.countries)
    if iso3 is None:
        result.several_countries[" ".join(raw_country.split())] += 1
        return
    shared = {
        "country_iso3": iso3,
        "material": rule.material,
        "stage": _stage(path, line, context.type_label, rule, type_text),
        "measure": _measure(type_text),
        "product_type": type_text,
        "source": SOURCE,
        "vintage": result.vintage,
        SOURCE_ROW: line,
        "_qualifier": _qualifier(raw_country),
    }
    noted = _noted_years(_cell(record, context.note), {column.year for column in context.columns})
    noted_everywhere = "estimated" in type_text.lower()
    for column in context.columns:
        row = _value_row(path, line, column, _cell(record, column.index))
        if row is not None:
            row["estimated"] = row["estimated"] or column.year in noted or noted_everywhere
            result.rows.append({**shared, **row})


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (stripped, trailing blanks dropped) and the non-blank records with their line.

    The file must be readable UTF-8 text (:mod:`chainwatch.ingest.files`: regular file,
    bounded lines and fields, strict quoting) and every record as wide as the header.
    """
    rows = csv_rows(TextInput.file(path))
    first = next(rows, None)
    if first is None:
        raise InputError(path, "the file is empty (no header line)", 1)
    header = first[1]
    records = list(rows)
    for line, record in records:
        check_width(str(path), line, record, len(header))
    names = [" ".join(name.replace("\ufeff", "").split()) for name in header]
    while names and not names[-1]:
        names.pop()
    check_header(str(path), names, [])
    if not records:
        raise InputError(path, "the file has no data rows", 2)
    return names, records


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].replace("\xa0", " ").strip()


def _edition_and_code(path: Path) -> tuple[int, str]:
    match = _WORLD_FILE.search(path.name)
    if match is None:
        message = "file name does not follow mcs<edition>-<commodity code>_world.csv"
        raise InputError(path, message)
    return int(match["edition"]), match["code"].lower()


def _type_column(path: Path, header: list[str]) -> int:
    """Index of the Type column (MCS2024 fluorspar writes its Type text as the 3rd header)."""
    if "Type" in header:
        return header.index("Type")
    known = re.compile(r"Source|Country|Prod_|Cap_|Reserves_")
    if len(header) > 2 and header[2] and not known.match(header[2]):
        return 2
    check_required_columns(path, header, ["Type"])
    raise AssertionError("unreachable: Type is missing")


def _production_columns(path: Path, header: list[str]) -> list[ProductionColumn]:
    columns = [
        _production_column(path, position, name)
        for position, name in enumerate(header)
        if name.lower().startswith("prod_") and name.lower() not in _NOTE_COLUMNS
    ]
    if not columns:
        message = f"no production column (found: {', '.join(header)})"
        raise InputError(path, message, 1, "Prod_<unit>_<year>")
    return columns


def _production_column(path: Path, position: int, name: str) -> ProductionColumn:
    """Parse ``Prod_kt_est_2023``, ``Prod_Sponge_t_Est_2022``, ``Prod_mct_2022`` ..."""
    parts = name.split("_")[1:]
    year = parts.pop() if parts and re.fullmatch(r"\d{4}", parts[-1]) else None
    estimated = any(part.lower() == "est" for part in parts)
    units = [part.lower() for part in parts if part.lower() in _UNITS]
    if year is None or len(units) != 1:
        message = "cannot read unit and year from the production column name"
        raise InputError(path, message, 1, name)
    unit, factor = _UNITS[units[0]]
    return ProductionColumn(position, name, int(year), unit, factor, estimated)


def _check_source_cell(path: Path, line: int, value: str, vintage: str) -> None:
    written = value.replace(" ", "").upper()
    if written and written != vintage:
        message = f"Source says {value!r} but the file name says {vintage}"
        raise InputError(path, message, line, "Source")


def _match_rule(rules: list[CommodityRule], type_text: str) -> CommodityRule | None:
    lowered = type_text.lower()
    for rule in rules:
        if not rule.type_contains or rule.type_contains.lower() in lowered:
            return rule
    return None


def _stage(path: Path, line: int, label: str, rule: CommodityRule, type_text: str) -> str:
    """Stage from the curated rule, else from the Type text (refinery words win over mine).

    Every refinery, smelter, plant and primary-production table of the MCS 2022-2024 world
    files has its own rule with ``stage`` set (``reference/usgs_commodities.csv``); the words
    are the fallback for tables a later edition adds.
    """
    if rule.stage:
        return rule.stage
    if _REFINERY_TYPE.search(type_text):
        return "refinery"
    if _MINE_TYPE.search(type_text):
        return "mine"
    message = f"cannot tell mine or refinery from Type {type_text!r}: set a stage for {rule.code}"
    raise InputError(path, message, line, label)


def _measure(type_text: str) -> str:
    lowered = type_text.lower()
    return "capacity" if "capacity" in lowered and "production" not in lowered else "production"


def _resolve_country(path: Path, line: int, raw: str, countries: CountryResolver) -> str | None:
    """ISO3 (or WLD/OTH); None when the name lists several countries; InputError otherwise."""
    if not raw:
        raise InputError(path, "country name is missing", line, "Country")
    iso3 = countries.resolve_name(raw)
    if iso3 is not None:
        return iso3
    base = re.sub(r"\d+$", "", normalise_name(raw)).strip()
    parts = [part for part in _SEVERAL_COUNTRIES.split(base) if part]
    if len(parts) > 1 and all(countries.resolve_name(part) for part in parts):
        return None
    raise InputError(path, f"unknown country {raw!r}", line, "Country")


def _qualifier(raw_country: str) -> str:
    """The qualifier USGS adds to a country name: "Brazil (beneficiated)" -> "beneficiated"."""
    name = " ".join(raw_country.split())
    match = re.search(r"\((?P<inner>[^)]*)\)|,\s*(?P<tail>.+)$", name)
    if match is None:
        return ""
    text = match["inner"] if match["inner"] is not None else match["tail"]
    return re.sub(r"\d+$", "", text).strip()


def _noted_years(note: str, years: set[int]) -> set[int]:
    """Years a Prod_notes cell says are estimated as well."""
    lowered = " ".join(note.lower().split()).strip(" .")
    if lowered in ("estimated", "estimated in both years"):
        return set(years)
    if "estimated" not in lowered or "also" not in lowered:
        return set()
    return {int(year) for year in re.findall(r"\b(\d{4})\b", lowered)} & years


def parse_value(text: str) -> ParsedValue | None:
    """A USGS cell -> number, marker or None (blank). Raises ValueError when unreadable.

    ``e5,000`` is an estimate; ``<100`` a bound (the bound is kept, flag ``<``).
    """
    text = " ".join(text.replace("\xa0", " ").split())
    if not text:
        return None
    if _MARKER.fullmatch(text):
        return ParsedValue(None, text, False)
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f"not a number or a known marker: {text!r}")
    if match["sign"]:
        raise ValueError(f"negative quantity {text!r}")
    quantity = float(match["digits"].replace(",", ""))
    return ParsedValue(quantity, match["bound"], match["estimate"] is not None)


def _value_row(
    path: Path, line: int, column: ProductionColumn, text: str
) -> dict[str, object] | None:
    try:
        value = parse_value(text)
    except ValueError as error:
        raise InputError(path, str(error), line, column.name) from error
    if value is None:
        return None
    quantity = None if value.quantity is None else value.quantity * column.factor
    return {
        "year": column.year,
        "quantity": quantity,
        "unit": column.unit,
        "estimated": column.estimated or value.estimated,
        "value_flag": value.flag,
    }


_KEY = schema.table("production").key


def _key(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[name] for name in _KEY)


def _disambiguate(rows: list[dict[str, object]]) -> None:
    """Rows of one file that share a key get the country qualifier in product_type."""
    counts = Counter(_key(row) for row in rows)
    for row in rows:
        qualifier = row.pop("_qualifier")
        if counts[_key(row)] > 1 and qualifier:
            row["product_type"] = f"{row['product_type']} ({qualifier})"


def _check_unique(rows: list[dict[str, object]], base: Path) -> None:
    """No two rows share the production key (e.g. the same file given twice)."""
    seen: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        key = _key(row)
        first = seen.setdefault(key, row)
        if first is row:
            continue
        where = f"{first.get(SOURCE_FILE, '')}:{first[SOURCE_ROW]}".lstrip(":")
        values = ", ".join(f"{name}={value}" for name, value in zip(_KEY, key, strict=True))
        file = base / str(row[SOURCE_FILE]) if SOURCE_FILE in row else base
        message = f"duplicate key ({values}); first seen on row {where}"
        raise InputError(file, message, int(str(row[SOURCE_ROW])), "Country")


def _production_table(rows: list[dict[str, object]], several_files: bool) -> pa.Table:
    fields = list(schema.arrow_schema("production"))
    fields.append(pa.field(SOURCE_ROW, pa.int64(), nullable=False))
    if several_files:
        fields.append(pa.field(SOURCE_FILE, pa.string(), nullable=False))
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def _column_labels(results: list[_FileResult], several_files: bool) -> dict[str, str]:
    names = sorted({name for result in results for name in result.production_columns})
    quantity = "Prod_*" if several_files or len(names) != 2 else " / ".join(names)
    from_type = dict.fromkeys(["product_type", "material", "stage", "measure"], "Type")
    from_value = dict.fromkeys(["quantity", "year", "unit", "estimated", "value_flag"], quantity)
    return {"country_iso3": "Country", "vintage": "Source", **from_type, **from_value}


def _source_record(results: list[_FileResult], base: Path) -> SourceRecord:
    editions = sorted({int(result.vintage.removeprefix("MCS")) for result in results})
    dois = sorted({DATA_RELEASE_DOIS[year] for year in editions if year in DATA_RELEASE_DOIS})
    doi_text = "; ".join(f"https://doi.org/{doi}" for doi in dois) or "DOI not recorded"
    names = ", ".join(str(year) for year in editions)
    return SourceRecord(
        source_id="usgs-mcs-" + "-".join(str(year) for year in editions),
        title=f"Mineral Commodity Summaries {names} data release: world production by country",
        publisher=PUBLISHER,
        version=", ".join(f"MCS{year}" for year in editions),
        licence=LICENCE,
        licence_class="A",
        citation=(
            f"U.S. Geological Survey, Mineral Commodity Summaries {names} data release: "
            f"U.S. Geological Survey data release, {doi_text}"
        ),
        obtained_from=f"{len(results)} MCS world CSV file(s) read from {base}",
        cut=_cut_text(results),
    )


def _cut_text(results: list[_FileResult]) -> str:
    untracked = sum((result.untracked for result in results), Counter[str]())
    several = sum((result.several_countries for result in results), Counter[str]())
    parts = [
        "loaded the production (Prod_*) columns only: reserves (Reserves_*) and plant "
        "capacity (Cap_*) columns are not loaded; units converted to t, kg, ct and m3",
        f"skipped {sum(untracked.values())} rows of commodities chainwatch does not track"
        + (f" ({', '.join(sorted(untracked))})" if untracked else ""),
        f"skipped {sum(several.values())} rows naming several countries"
        + (f" ({'; '.join(sorted(several))})" if several else ""),
    ]
    return "; ".join(parts)


def parse_usgs_salient_critical(path: Path, countries: CountryResolver) -> pa.Table:
    """Read ``MCS20XX_T5_Critical_Minerals_Salient.csv`` (leading producer, share of world).

    One row per critical mineral: edition, year, critical_mineral (as written), material
    (through the ``critical_mineral`` column of usgs_commodities.csv; null for minerals
    chainwatch does not track), leading_country_iso3, leading_country_production,
    world_production, leading_share_percent (markers such as NA give nulls), source_row.
    """
    path = Path(path)
    header, records = _read_csv(path)
    check_required_columns(path, header, _REQUIRED_SALIENT + list(_SALIENT_NUMBERS.values()))
    index = {name: position for position, name in enumerate(header)}
    materials = {
        rule.critical_mineral.lower(): rule.material
        for rule in commodity_rules()
        if rule.critical_mineral
    }
    rows = [
        _salient_row(path, line, record, index, materials, countries) for line, record in records
    ]
    return pa.Table.from_pylist(rows, schema=_salient_schema())


def _salient_schema() -> pa.Schema:
    types: dict[str, pa.DataType] = {"edition": pa.string(), "year": pa.int16()}
    for name in ("critical_mineral", "material", "leading_country_iso3"):
        types[name] = pa.string()
    types.update(dict.fromkeys(_SALIENT_NUMBERS, pa.float64()))
    types[SOURCE_ROW] = pa.int64()
    return pa.schema(types)


def _salient_row(
    path: Path,
    line: int,
    record: list[str],
    index: dict[str, int],
    materials: dict[str, str],
    countries: CountryResolver,
) -> dict[str, object]:
    def cell(name: str) -> str:
        return _cell(record, index[name])

    def number(name: str) -> float | None:
        try:
            value = parse_value(cell(name))
        except ValueError as error:
            raise InputError(path, str(error), line, name) from error
        return None if value is None else value.quantity

    mineral = " ".join(cell("Critical_mineral").split())
    if mineral.lower() not in materials:
        message = f"no material mapping for {mineral!r}: add it to usgs_commodities.csv"
        raise InputError(path, message, line, "Critical_mineral")
    country = cell("Leading_source_country")
    return {
        "edition": _salient_edition(path, line, cell("Source")),
        "year": _salient_year(path, line, cell("Year")),
        "critical_mineral": mineral,
        "material": materials[mineral.lower()] or None,
        "leading_country_iso3": _salient_country(path, line, country, countries),
        **{name: number(column) for name, column in _SALIENT_NUMBERS.items()},
        SOURCE_ROW: line,
    }


def _salient_edition(path: Path, line: int, source: str) -> str:
    written = source.replace(" ", "").upper()
    if re.fullmatch(r"MCS\d{4}", written):
        return written
    match = _SALIENT_FILE.match(path.name)
    if match is None:
        raise InputError(path, f"cannot tell the edition from {source!r}", line, "Source")
    return f"MCS{match['edition']}"


def _salient_year(path: Path, line: int, text: str) -> int:
    match = re.match(r"(\d{4})(?:_estimated)?$", text.strip(), re.IGNORECASE)
    if match is None:
        raise InputError(path, f"not a year: {text!r}", line, "Year")
    return int(match[1])


def _salient_country(path: Path, line: int, raw: str, countries: CountryResolver) -> str | None:
    if not raw or _MARKER.fullmatch(raw):
        return None
    iso3 = countries.resolve_name(raw)
    if iso3 is None:
        raise InputError(path, f"unknown country {raw!r}", line, "Leading_source_country")
    return iso3
