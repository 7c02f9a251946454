"""OECD Inventory of Export Restrictions on Industrial Raw Materials, read from SDMX-CSV.

The OECD disseminates the Inventory through its Data Explorer, whose downloads (and the
``format=csvfile`` / ``csvfilewithlabels`` answers of its SDMX API) are SDMX-CSV. The reader
takes the four layouts that occur:

* SDMX-CSV 2.0 with labels (the Data Explorer download): ``STRUCTURE, STRUCTURE_ID,
  STRUCTURE_NAME, ACTION``, then every component's code column followed by its label column
  (``REF_AREA, Reference area, ...``);
* SDMX-CSV 2.0 codes only: ``STRUCTURE, STRUCTURE_ID, ACTION, REF_AREA, ...``;
* SDMX-CSV 2.0 ``labels=both``: header ``REF_AREA: Reference area``, cells ``CHN: China``;
* SDMX-CSV 1.0: ``DATAFLOW, REF_AREA, ...``.

The components are found by their SDMX id (:data:`COMPONENTS`: the first listed id present
in the header is used). REF_AREA, TIME_PERIOD, OBS_VALUE and UNIT_MEASURE are SDMX
cross-domain concepts; the ids of the product and measure dimensions of the Inventory's
dataflow could not be checked against the live structure here (no network): the error for a
file that lacks them names what was looked for and what the header holds.

Each observation says that a country applied a measure (export prohibition, quota, tax,
licensing, other) to an HS 6-digit product in a survey year. Consecutive years of the same
country, product, measure, value and unit become one ``export_restriction_event``: effective
1 January of the first year, ended 31 December of the last year, or open (no end date) when the
last year is the last year of the file. The OECD's measure types are mapped to chainwatch's
``measure_type`` vocabulary by ``reference/oecd_measure_types.csv`` ("No restrictions" and
"Not researched" rows, and observations whose value is 0, give no event). The OECD's own
fields (country, HS code, product text, measure code and name, value, unit, years, dataflow)
are kept in ``event_id``, ``hs6_codes`` and ``notes``.

A load replaces every event an earlier OECD Inventory load brought (``verify_status``
:data:`VERIFY_STATUS`) and leaves the curated list's events as they are.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.countries import CountryResolver
from chainwatch.ingest.files import TextInput, check_width, csv_rows

SOURCE = "OECD Inventory of Export Restrictions on Industrial Raw Materials"
VERIFY_STATUS = "official: OECD Inventory of Export Restrictions on Industrial Raw Materials"
"""``verify_status`` of every event this reader makes: what a later load replaces."""
TABLE = "export_restriction_event"
TARGET_SCOPE = "not distinguished by the OECD Inventory"


@dataclass(frozen=True)
class Component:
    """A role the reader needs, and the SDMX component ids that may carry it (first wins)."""

    role: str
    ids: tuple[str, ...]
    required: bool


COMPONENTS = (
    Component("country", ("REF_AREA",), True),
    Component("product", ("PRODUCT", "COMMODITY", "HS_CODE"), True),
    Component("measure", ("MEASURE", "MEASURE_TYPE"), True),
    Component("year", ("TIME_PERIOD",), True),
    Component("value", ("OBS_VALUE",), False),
    Component("unit", ("UNIT_MEASURE",), False),
)
_ACTIONS = {"", "I", "A", "R"}
_FIXED_V2 = ("STRUCTURE_NAME", "ACTION", "SERIES_KEY", "OBS_KEY")
_COMPONENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_@$-]*")


@dataclass(frozen=True)
class Layout:
    """Where the columns are in one SDMX-CSV file."""

    version: str
    structure: int
    action: int | None
    codes: dict[str, int]
    labels: dict[str, int]
    inline_labels: bool
    width: int

    def code_and_label(self, record: list[str], component: str) -> tuple[str, str]:
        code = _cell(record, self.codes[component])
        label = _cell(record, self.labels[component]) if component in self.labels else ""
        if self.inline_labels and ": " in code:
            code, label = code.split(": ", 1)
        return code.strip(), " ".join(label.split())


@dataclass(frozen=True)
class Observation:
    """One row of the file: a measure applied to a product in a year."""

    line: int
    iso3: str
    hs6: str
    product: str
    measure_code: str
    measure_label: str
    measure_type: str
    year: int
    value: str
    unit: str

    @property
    def spell_key(self) -> tuple[str, ...]:
        return (self.iso3, self.hs6, self.measure_code, self.value, self.unit)


@cache
def measure_types() -> dict[str, str]:
    """OECD measure name (lower case, single spaces) -> chainwatch measure_type ('' = none)."""
    text = resources.files("chainwatch.reference").joinpath("oecd_measure_types.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {_normal(row["oecd_measure"]): row["measure_type"].strip() for row in rows}


def materials_by_hs6(con: Any) -> dict[str, str]:
    """HS6 code -> chainwatch materials (';'-separated) from the store's material_product."""
    pairs = con.execute("SELECT DISTINCT hs6, material FROM material_product").fetchall()
    grouped: dict[str, set[str]] = {}
    for hs6, material in pairs:
        grouped.setdefault(str(hs6), set()).add(str(material))
    return {hs6: ";".join(sorted(materials)) for hs6, materials in grouped.items()}


def parse_oecd_inventory(
    path: Path, countries: CountryResolver, materials: Mapping[str, str] | None = None
) -> ParsedSource:
    """Read an SDMX-CSV download of the Inventory into ``export_restriction_event`` rows.

    ``materials`` maps an HS6 code to chainwatch materials (:func:`materials_by_hs6`); a code
    without one names the OECD's product text instead.
    """
    path = Path(path)
    source = TextInput.file(path)
    rows = csv_rows(source)
    first = next(rows, None)
    if first is None:
        raise InputError(path, "the file is empty: expected an SDMX-CSV header row", 1)
    layout = _layout(path, first[1])
    roles = _roles(path, layout)
    dataflow, observations, skipped = _observations(path, layout, roles, rows, countries)
    if not observations:
        raise InputError(path, "the file has no export-restriction observations")
    _check_unique(path, observations, roles)
    last_year = max(observation.year for observation in observations)
    events = [
        _event(spell, dataflow, last_year, materials or {}) for spell in _spells(observations)
    ]
    return ParsedSource(
        file=path,
        source=_source_record(path, layout, dataflow, observations, events, skipped),
        tables={TABLE: pa.Table.from_pylist(events)},
        replacements=[Replacement(TABLE, {"verify_status": [VERIFY_STATUS]})],
        column_labels=_column_labels(roles),
    )


# --- layout -----------------------------------------------------------------------------------


def _layout(path: Path, header: list[str]) -> Layout:
    names = [" ".join(name.replace("\ufeff", "").split()) for name in header]
    while names and not names[-1]:
        names.pop()
    if names and re.fullmatch(r"STRUCTURE(\[.\])?", names[0]):
        return _layout_v2(path, names)
    if names and names[0].split(":")[0].strip() == "DATAFLOW":
        codes, inline = _components(path, names, range(1, len(names)))
        return Layout("SDMX-CSV 1.0", 0, None, codes, {}, inline, len(names))
    found = names[0] if names else ""
    message = (
        "not an SDMX-CSV file: the first column must be STRUCTURE (SDMX-CSV 2.0) or "
        "DATAFLOW (SDMX-CSV 1.0); download the data set as CSV from the OECD Data Explorer"
    )
    raise InputError(path, message, 1, found)


def _layout_v2(path: Path, names: list[str]) -> Layout:
    if len(names) < 2 or names[1] != "STRUCTURE_ID":
        raise InputError(path, "SDMX-CSV 2.0: the second column must be STRUCTURE_ID", 1)
    index, fixed = 2, {}
    for name in _FIXED_V2:
        if index < len(names) and names[index] == name:
            fixed[name] = index
            index += 1
    with_labels = "STRUCTURE_NAME" in fixed
    step = 2 if with_labels else 1
    if with_labels and (len(names) - index) % 2:
        message = "SDMX-CSV with labels: every code column must be followed by its label column"
        raise InputError(path, message, 1, names[-1])
    codes, inline = _components(path, names, range(index, len(names), step))
    labels = {component: column + 1 for component, column in codes.items()} if with_labels else {}
    version = "SDMX-CSV 2.0" + (" with labels" if with_labels else "")
    return Layout(version, 1, fixed.get("ACTION"), codes, labels, inline, len(names))


def _components(
    path: Path, names: list[str], columns: Iterable[int]
) -> tuple[dict[str, int], bool]:
    """Component id -> column; whether the header writes ``ID: Name`` (labels=both)."""
    codes: dict[str, int] = {}
    inline = False
    for column in columns:
        name = names[column]
        component = name.split(":")[0].strip().removesuffix("[]")
        inline = inline or ":" in name
        if not _COMPONENT_ID.fullmatch(component):
            raise InputError(path, f"not an SDMX component id: {name!r}", 1, name)
        if component in codes:
            raise InputError(path, f"component {component!r} appears twice in the header", 1, name)
        codes[component] = column
    return codes, inline


def _roles(path: Path, layout: Layout) -> dict[str, str]:
    """Role -> the component id that carries it in this file."""
    roles: dict[str, str] = {}
    for component in COMPONENTS:
        present = next((name for name in component.ids if name in layout.codes), None)
        if present is not None:
            roles[component.role] = present
        elif component.required:
            wanted = " or ".join(component.ids)
            found = ", ".join(layout.codes) or "none"
            message = f"no {component.role} column ({wanted}) among the components: {found}"
            raise InputError(path, message, 1)
    return roles


# --- observations -----------------------------------------------------------------------------


def _observations(
    path: Path,
    layout: Layout,
    roles: dict[str, str],
    rows: Iterable[tuple[int, list[str]]],
    countries: CountryResolver,
) -> tuple[str, list[Observation], Counter[str]]:
    """The dataflow, the observations that are measures, and what was skipped (counted)."""
    dataflow = ""
    observations: list[Observation] = []
    skipped: Counter[str] = Counter()
    for line, record in rows:
        check_width(str(path), line, record, layout.width)
        dataflow = _check_envelope(path, layout, line, record, dataflow)
        observation = _observation(path, layout, roles, line, record, countries)
        if observation.measure_type == "":
            skipped[observation.measure_label or observation.measure_code] += 1
        elif _is_zero(observation.value):
            skipped["value 0"] += 1
        else:
            observations.append(observation)
    return dataflow, observations, skipped


def _check_envelope(path: Path, layout: Layout, line: int, record: list[str], seen: str) -> str:
    """The row's dataflow (all rows must share one) and its ACTION (no deletions)."""
    column = "STRUCTURE_ID" if layout.version.startswith("SDMX-CSV 2") else "DATAFLOW"
    dataflow = _cell(record, layout.structure)
    if layout.inline_labels:
        dataflow = dataflow.split(": ", 1)[0].strip()
    if not dataflow:
        raise InputError(path, "the dataflow is missing", line, column)
    if seen and dataflow != seen:
        raise InputError(path, f"another dataflow ({dataflow!r}) than on row 2 ({seen!r})",
                         line, column)  # fmt: skip
    action = _cell(record, layout.action).upper() if layout.action is not None else ""
    if action not in _ACTIONS:
        message = (
            f"ACTION {action!r}: only full data sets (I, A or R rows) can be loaded, not deletions"
        )
        raise InputError(path, message, line, "ACTION")
    return dataflow


def _observation(
    path: Path,
    layout: Layout,
    roles: dict[str, str],
    line: int,
    record: list[str],
    countries: CountryResolver,
) -> Observation:
    def field(role: str) -> tuple[str, str]:
        return layout.code_and_label(record, roles[role]) if role in roles else ("", "")

    measure_code, measure_label = field("measure")
    product_code, product_label = field("product")
    return Observation(
        line=line,
        iso3=_country(path, line, roles["country"], field("country"), countries),
        hs6=_hs6(path, line, roles["product"], product_code),
        product=product_label,
        measure_code=measure_code,
        measure_label=measure_label,
        measure_type=_measure_type(path, line, roles["measure"], measure_code, measure_label),
        year=_year(path, line, roles["year"], field("year")[0]),
        value=field("value")[0],
        unit=_unit(*field("unit")),
    )


def _country(
    path: Path, line: int, column: str, code_label: tuple[str, str], countries: CountryResolver
) -> str:
    code, label = code_label
    if not code:
        raise InputError(path, "the country code is missing", line, column)
    iso3 = countries.resolve_code(code) or (countries.resolve_name(label) if label else None)
    if iso3 is None or iso3 in ("WLD", "OTH"):
        shown = f"{code!r}" + (f" ({label})" if label else "")
        raise InputError(path, f"unknown country {shown}: expected an ISO 3166 alpha-3 code",
                         line, column)  # fmt: skip
    return iso3


def _hs6(path: Path, line: int, column: str, code: str) -> str:
    digits = re.sub(r"[.\s]", "", code)
    if not re.fullmatch(r"\d{6}", digits):
        raise InputError(path, f"not an HS 6-digit product code: {code!r}", line, column)
    return digits


def _measure_type(path: Path, line: int, column: str, code: str, label: str) -> str:
    known = measure_types()
    for text in (label, code):
        if text and _normal(text) in known:
            return known[_normal(text)]
    shown = f"{code!r}" + (f" ({label})" if label else "")
    message = f"unknown OECD measure {shown}: add it to reference/oecd_measure_types.csv"
    raise InputError(path, message, line, column)


def _year(path: Path, line: int, column: str, text: str) -> int:
    if not re.fullmatch(r"\d{4}", text):
        raise InputError(path, f"not a year: {text!r} (annual data expected)", line, column)
    return int(text)


def _unit(code: str, label: str) -> str:
    """The unit as the OECD names it; none for SDMX's "not applicable" code ``_Z``."""
    return "" if code in ("", "_Z") else label or code


def _is_zero(value: str) -> bool:
    try:
        return float(value.replace(",", "")) == 0
    except ValueError:
        return False


def _check_unique(path: Path, observations: list[Observation], roles: dict[str, str]) -> None:
    """One observation per country, product, measure and year."""
    seen: dict[tuple[object, ...], int] = {}
    for observation in observations:
        key = (observation.iso3, observation.hs6, observation.measure_code, observation.year)
        first = seen.setdefault(key, observation.line)
        if first != observation.line:
            shown = f"{key[0]}, {key[1]}, {key[2]}, {key[3]}"
            columns = "+".join(roles[role] for role in ("country", "product", "measure", "year"))
            message = f"duplicate observation ({shown}); first seen on row {first}"
            raise InputError(path, message, observation.line, columns)


# --- events -----------------------------------------------------------------------------------


def _spells(observations: list[Observation]) -> list[list[Observation]]:
    """Runs of consecutive years with the same country, product, measure, value and unit."""
    grouped: dict[tuple[str, ...], list[Observation]] = {}
    for observation in observations:
        grouped.setdefault(observation.spell_key, []).append(observation)
    spells: list[list[Observation]] = []
    for key in sorted(grouped):
        run: list[Observation] = []
        for observation in sorted(grouped[key], key=lambda item: item.year):
            if run and observation.year != run[-1].year + 1:
                spells.append(run)
                run = []
            run.append(observation)
        spells.append(run)
    return sorted(spells, key=lambda spell: spell[0].line)


def _event(
    spell: list[Observation], dataflow: str, last_year: int, materials: Mapping[str, str]
) -> dict[str, object]:
    first, last = spell[0], spell[-1]
    measure = re.sub(r"[^A-Za-z0-9_-]+", "_", first.measure_code)
    return {
        "event_id": f"OECD:{first.iso3}:{first.hs6}:{measure}:{first.year}",
        "country_iso3": first.iso3,
        "announced_date": None,
        "effective_date": date(first.year, 1, 1),
        "end_date": None if last.year == last_year else date(last.year, 12, 31),
        "measure_type": first.measure_type,
        "materials": materials.get(first.hs6) or first.product or f"HS {first.hs6}",
        "hs6_codes": first.hs6,
        "target_scope": TARGET_SCOPE,
        "instrument": None,
        "notes": _notes(first, last, dataflow),
        "confidence": "high",
        "verify_status": VERIFY_STATUS,
        SOURCE_ROW: min(observation.line for observation in spell),
    }


def _notes(first: Observation, last: Observation, dataflow: str) -> str:
    """The OECD's own fields, as ``name: value`` pairs."""
    measure = first.measure_code + (f" ({first.measure_label})" if first.measure_label else "")
    product = first.hs6 + (f" ({first.product})" if first.product else "")
    parts = [f"OECD measure: {measure}", f"product: {product}"]
    if first.value:
        parts.append(f"value: {first.value}" + (f" {first.unit}" if first.unit else ""))
    years = str(first.year) if first.year == last.year else f"{first.year}-{last.year}"
    parts += [f"survey years: {years}", f"dataflow: {dataflow}"]
    return "; ".join(parts)


def _column_labels(roles: dict[str, str]) -> dict[str, str]:
    key = "+".join(roles[role] for role in ("country", "product", "measure", "year"))
    return {
        "event_id": key,
        "country_iso3": roles["country"],
        "hs6_codes": roles["product"],
        "materials": roles["product"],
        "measure_type": roles["measure"],
        "effective_date": roles["year"],
        "end_date": roles["year"],
    }


def _source_record(
    path: Path,
    layout: Layout,
    dataflow: str,
    observations: list[Observation],
    events: list[dict[str, object]],
    skipped: Counter[str],
) -> SourceRecord:
    years = sorted({observation.year for observation in observations})
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    skipped_text = ", ".join(f"{count} {reason!r}" for reason, count in sorted(skipped.items()))
    cut = (
        f"{len(observations)} observations merged into {len(events)} events (consecutive "
        "survey years with the same country, product, measure, value and unit); measure "
        "types mapped by reference/oecd_measure_types.csv; a measure in force in the last "
        f"survey year ({years[-1]}) has no end date; rows without a measure skipped: "
        f"{skipped_text or 'none'}"
    )
    return SourceRecord(
        source_id="oecd-export-restrictions-industrial-raw-materials",
        title=SOURCE,
        publisher="OECD (Trade and Agriculture Directorate)",
        version=f"{dataflow}; survey years {span}",
        licence="CC BY 4.0 (OECD terms since July 2024; confirm for the edition used)",
        licence_class="A",
        citation=f"OECD, Inventory of Export Restrictions on Industrial Raw Materials, "
        f"dataflow {dataflow}, OECD Data Explorer",
        obtained_from=f"{path.name} ({layout.version})",
        cut=cut,
    )


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].replace("\xa0", " ").strip()


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
