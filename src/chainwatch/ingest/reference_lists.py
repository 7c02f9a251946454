"""Curated reference lists: country groups, materials, material <-> HS6 <-> stage, restrictions.

These lists are hand-curated from official texts (licence class D in shared/data/SOURCES.md:
to be verified against the primary source); ``reference/materials.csv`` is the project's own
concordance between the material names each list uses.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pyarrow as pa

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.files import TextInput, csv_dicts
from chainwatch.ingest.values import parse_number, shown

# Short identifiers for the groups of the curated list; other ids are kept as written.
GROUP_IDS = {
    "ALLIED_CORE_CAN_EU_US_UK": "ALLIED",
    "MINERALS_SECURITY_PARTNERSHIP": "MSP",
    "USMCA_CUSMA_TMEC": "USMCA",
    "US_FTA_PARTNERS": "US_FTA",
}
GROUP_NAMES = {
    "ALLIED": "Allied core (Canada, EU27, United States, United Kingdom)",
    "EU27": "European Union (27 members, composition since 2020-02-01)",
    "NATO": "North Atlantic Treaty Organization",
    "G7": "Group of Seven",
    "OECD": "Organisation for Economic Co-operation and Development",
    "MSP": "Minerals Security Partnership",
    "USMCA": "United States-Mexico-Canada Agreement",
    "FIVE_EYES": "Five Eyes",
    "US_FTA": "United States free-trade-agreement partners",
}
STAGES = {
    "extraction": "mine",
    "processing": "refinery",
    "ore": "mine",
    "ore/concentrate": "mine",
    "intermediate": "intermediate",
    "intermediate/refined": "refinery",
    "intermediate/refined metal": "refinery",
    "refined chemical": "refinery",
    "refined metal": "refinery",
    "refined": "refinery",
    "refined/processed": "refinery",
    "component": "component",
    "equipment": "component",
    "final good": "end_product",
}
REVISIONS = {
    "HS1992": "HS92", "HS1996": "HS96", "HS2002": "HS02", "HS2007": "HS07",
    "HS2012": "HS12", "HS2017": "HS17", "HS2022": "HS22",
}  # fmt: skip


@dataclass(frozen=True)
class CuratedFiles:
    """Where the curated lists are (the layout of shared/data)."""

    groups: Path
    crma: Path
    usgs_critical: Path
    events: Path
    strategic_hs6: Path
    material_hs_mapping: Path
    material_metadata: Path

    @classmethod
    def in_directory(cls, data: Path) -> CuratedFiles:
        curated = data / "curated_reference_lists"
        docs = data / "geopolrisk_docs"
        return cls(
            groups=curated / "country_groups.csv",
            crma=curated / "eu_crma_2024_strategic_and_critical_raw_materials.csv",
            usgs_critical=curated / "usgs_2022_critical_minerals_list.csv",
            events=curated / "export_restriction_events.csv",
            strategic_hs6=curated / "strategic_hs6_codes.csv",
            material_hs_mapping=docs / "raw_material_hs_code_mapping.csv",
            material_metadata=docs / "raw_material_metadata_wmd_units_eol_rir.csv",
        )


def read_csv_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, record) pairs of a CSV with a header: a readable UTF-8 file, the required
    columns once each, every row as wide as the header (a row cut mid-line is an error)."""
    _, records = csv_dicts(TextInput.file(path), required)
    return records


def _curated_record(source_id: str, title: str, path: Path, citation: str) -> SourceRecord:
    return SourceRecord(
        source_id=source_id,
        title=title,
        publisher="chainwatch curated list",
        version="2026",
        licence="facts transcribed from official texts (verify against the primary source)",
        licence_class="D",
        citation=citation,
        obtained_from=path.name,
        cut="none",
    )


def parse_country_groups(path: Path) -> ParsedSource:
    """The curated ``country_groups.csv`` -> ``country_group`` and ``group_membership``."""
    groups: dict[str, str] = {}
    members = []
    for line, row in read_csv_rows(path, ["group", "iso3", "member_since", "notes"]):
        group_id = GROUP_IDS.get(row["group"].strip(), row["group"].strip())
        groups.setdefault(group_id, row["group"].strip())
        years = [int(y) for y in re.findall(r"\b(19[0-9]{2}|20[0-9]{2})\b", row["member_since"])]
        if group_id == "EU27":
            years = []  # EU27 is a fixed composition applied to every year (as Eurostat does)
        members.append(
            {
                "group_id": group_id,
                "iso3": row["iso3"].strip(),
                "member_from_year": max(years) if years else None,
                "member_to_year": None,
                "note": row["notes"].strip() or None,
                SOURCE_ROW: line,
            }
        )
    group_rows = [
        {
            "group_id": group_id,
            "name": GROUP_NAMES.get(group_id, group_id),
            "description": f"curated list group {original}",
            "user_defined": False,
            SOURCE_ROW: 0,
        }
        for group_id, original in groups.items()
    ]
    return ParsedSource(
        file=path,
        source=_curated_record(
            "curated-country-groups",
            "Country groups and membership",
            path,
            "Treaties and official membership lists (EU, NATO, OECD, G7, MSP, USMCA)",
        ),
        tables={
            "country_group": pa.Table.from_pylist(group_rows),
            "group_membership": pa.Table.from_pylist(members),
        },
        column_labels={"group_id": "group", "iso3": "iso3"},
        replacements=[Replacement("group_membership", {"group_id": sorted(groups)})],
        upserts={"country_group"},
    )


def parse_user_group(group_id: str, name: str, members: list[str]) -> ParsedSource:
    """A group a user defines (``chainwatch groups define``); replaces a group of that id."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{1,31}", group_id):
        raise InputError("--id", f"group id {group_id!r}: letters, digits and _ (2-32)")
    if not members:
        raise InputError("--members", "a group needs at least one member")
    origin = Path(f"user group {group_id}")
    group = {"group_id": group_id, "name": name or group_id, "user_defined": True,
             "description": "defined by a user", SOURCE_ROW: 1}  # fmt: skip
    rows = [
        {"group_id": group_id, "iso3": iso3.strip().upper(), "member_from_year": None,
         "member_to_year": None, "note": None, SOURCE_ROW: position}
        for position, iso3 in enumerate(members, start=1)
    ]  # fmt: skip
    return ParsedSource(
        file=origin,
        source=SourceRecord(
            source_id=f"user-group-{group_id.lower()}",
            title=f"User group {group_id}",
            publisher="user",
            version="",
            licence="user data",
            licence_class="D",
            citation="",
            obtained_from="chainwatch groups define",
            cut="none",
        ),
        tables={
            "country_group": pa.Table.from_pylist([group]),
            "group_membership": pa.Table.from_pylist(rows),
        },
        column_labels={"iso3": "--members"},
        replacements=[Replacement("group_membership", {"group_id": [group_id]})],
        upserts={"country_group"},
    )


def _list_entries(path: Path, name_column: str) -> dict[str, str]:
    """Entry name -> list kind ('strategic' wins over 'critical')."""
    entries: dict[str, str] = {}
    for _line, row in read_csv_rows(path, [name_column, "list"]):
        name, kind = row[name_column].strip(), row["list"].strip()
        if entries.get(name) != "strategic":
            entries[name] = kind
    return entries


def parse_materials(concordance: Path, files: CuratedFiles) -> ParsedSource:
    """The material table from the project concordance and the official lists it points to."""
    crma = _list_entries(files.crma, "material")
    usgs = _list_entries(files.usgs_critical, "mineral")
    eol_column = "EoL-RIR (2023)"
    eol = {
        row["Raw Material"].strip(): parse_number(files.material_metadata, line, row[eol_column],
                                                  eol_column)
        for line, row in read_csv_rows(files.material_metadata, ["Raw Material", eol_column])
    }  # fmt: skip
    rows = []
    for line, row in read_csv_rows(concordance, ["material", "display_name", "crma_entries"]):
        statuses = set()
        for entry in filter(None, row["crma_entries"].split(";")):
            if entry not in crma:
                raise InputError(
                    concordance, f"not in the CRMA list: {entry!r}", line, "crma_entries"
                )
            statuses.add(crma[entry])
        listed = [e for e in filter(None, row["usgs_2022_entries"].split(";"))]
        for entry in listed:
            if entry not in usgs:
                raise InputError(
                    concordance, f"not in the USGS list: {entry!r}", line, "usgs_2022_entries"
                )
        rate = eol.get(row["geopolrisk_name"].strip())
        rows.append(
            {
                "material": row["material"].strip(),
                "display_name": row["display_name"].strip(),
                "eu_crma_2024": "strategic"
                if "strategic" in statuses
                else ("critical" if statuses else "none"),
                "usgs_critical_2022": bool(listed),
                "eol_rir": rate,
                "usgs_mcs_code": row["usgs_mcs_codes"].strip() or None,
                SOURCE_ROW: line,
            }
        )
    return ParsedSource(
        file=concordance,
        source=_curated_record(
            "curated-materials",
            "Materials: EU CRMA 2024 and USGS 2022 lists, EoL-RIR",
            concordance,
            "Regulation (EU) 2024/1252 Annexes I-II; USGS 2022 Final List of Critical Minerals "
            "(87 FR 10381); EoL-RIR from the EU 2023 CRM study (SCRREEN factsheets)",
        ),
        tables={"material": pa.Table.from_pylist(rows)},
        upserts={"material"},
    )


def _material_ids(concordance: Path) -> set[str]:
    """The material identifiers of the project concordance (``reference/materials.csv``)."""
    return {row["material"].strip() for _line, row in read_csv_rows(concordance, ["material"])}


MAPPING_COLUMNS = ["material", "hs6", "revisions", "stage", "role", "description",
                   "shares_with", "basis"]  # fmt: skip
"""Columns of ``reference/material_hs6.csv``, the project's material <-> HS6 <-> stage table."""
LONG_REVISION = {short: long for long, short in REVISIONS.items()}


def bundled_material_mapping() -> Path:
    """The shipped ``reference/material_hs6.csv``."""
    return Path(str(resources.files("chainwatch.reference").joinpath("material_hs6.csv")))


def _revision_span(path: Path, line: int, text: str) -> list[str]:
    """``HS92-HS22`` or ``HS22`` -> the revisions it spans, in nomenclature order."""
    order = list(schema.table("material_product").column("hs_revision").allowed_values)
    ends = [part.strip().upper() for part in text.split("-")]
    if len(ends) > 2 or any(end not in order for end in ends):
        raise InputError(path, f"not a span of HS revisions: {text!r}", line, "revisions")
    first, last = order.index(ends[0]), order.index(ends[-1])
    if first > last:
        raise InputError(path, f"revisions run backwards: {text!r}", line, "revisions")
    return order[first : last + 1]


def _checked_value(path: Path, line: int, row: dict[str, str], column: str) -> str:
    """A stage or role, checked against the schema's enumeration of that column."""
    value = row[column].strip()
    allowed = schema.table("material_product").column(column).allowed_values
    if value not in allowed:
        raise InputError(path, f"{value!r} is not one of {', '.join(allowed)}", line, column)
    return value


def _mapping_source(row: dict[str, str], role: str) -> str:
    """The ``material_product.source`` text: the basis, and what a shared or basket code holds."""
    shares = row["shares_with"].strip()
    if role == "shared":
        return f"{row['basis'].strip()} [shared with {shares}: not counted]"
    if role == "basket":
        return f"{row['basis'].strip()} [basket code, also holds {shares}]"
    return row["basis"].strip()


def _valid_revisions(revisions: set[str]) -> str:
    """{"HS07", "HS12", ...} -> "HS2007-HS2022" (runs joined with ";" where there are gaps)."""
    order = list(schema.table("product").column("hs_revision").allowed_values)
    ranks = sorted(order.index(revision) for revision in revisions)
    runs: list[list[int]] = []
    for rank in ranks:
        if runs and rank == runs[-1][-1] + 1:
            runs[-1].append(rank)
        else:
            runs.append([rank])
    spans = [
        LONG_REVISION[order[run[0]]] + (f"-{LONG_REVISION[order[run[-1]]]}" if len(run) > 1 else "")
        for run in runs
    ]
    return ";".join(spans)


def _product_rows(
    path: Path, described: dict[tuple[str, str], tuple[str, int]]
) -> list[dict[str, object]]:
    spans: dict[str, set[str]] = {}
    for hs6, revision in described:
        spans.setdefault(hs6, set()).add(revision)
    return [
        {"hs6": hs6, "hs_revision": revision, "description": description,
         "valid_revisions": _valid_revisions(spans[hs6]), SOURCE_ROW: line}
        for (hs6, revision), (description, line) in sorted(described.items())
    ]  # fmt: skip


def parse_material_products(concordance: Path, mapping: Path | None = None) -> ParsedSource:
    """material <-> HS6 <-> stage for every HS revision, from ``reference/material_hs6.csv``.

    Each row of the mapping names a material, an HS6 code, the span of HS revisions in which
    the code carries the material (``HS92-HS22``), its stage, its role and the subheading text.
    Roles: ``primary`` and ``additional`` codes carry the material alone; a ``basket`` code
    also holds other materials and is the only trade signal there is (counted, flagged); a
    ``shared`` code is dominated by another material and is listed but never counted
    (docs/adr/0011-material-hs6-table.md). The load replaces the whole ``material_product``
    table; every (code, revision) it maps joins ``product`` with its subheading text.
    """
    path = mapping or bundled_material_mapping()
    materials = _material_ids(concordance)
    links: list[dict[str, object]] = []
    described: dict[tuple[str, str], tuple[str, int]] = {}
    for line, row in read_csv_rows(path, MAPPING_COLUMNS):
        material, hs6 = row["material"].strip(), row["hs6"].strip()
        if material not in materials:
            raise InputError(path, f"unknown material {material!r}", line, "material")
        if not re.fullmatch(r"\d{6}", hs6):
            raise InputError(path, f"not an HS6 code: {hs6!r}", line, "hs6")
        stage = _checked_value(path, line, row, "stage")
        role = _checked_value(path, line, row, "role")
        if role in ("shared", "basket") and not row["shares_with"].strip():
            raise InputError(path, f"a {role} code must say what else it holds", line,
                             "shares_with")  # fmt: skip
        description = " ".join(row["description"].split())
        for revision in _revision_span(path, line, row["revisions"]):
            known = described.setdefault((hs6, revision), (description, line))
            if known[0] != description:
                raise InputError(path, f"{hs6} ({revision}) is described differently on row "
                                 f"{known[1]}", line, "description")  # fmt: skip
            links.append({"material": material, "hs6": hs6, "hs_revision": revision,
                          "stage": stage, "role": role, "source": _mapping_source(row, role),
                          SOURCE_ROW: line})  # fmt: skip
    revisions = list(schema.table("material_product").column("hs_revision").allowed_values)
    return ParsedSource(
        file=path,
        source=_curated_record(
            "curated-material-products",
            "Material to HS6 to value-chain stage, every HS revision (HS92 to HS22)",
            path,
            "HS nomenclature subheadings (WCO, HS1992 to HS2022); HS mapping facts from the "
            "geopolrisk-py raw-material documentation (Koyamparambath et al.); the chainwatch "
            "strategic HS6 list",
        ),
        tables={
            "product": pa.Table.from_pylist(_product_rows(path, described)),
            "material_product": pa.Table.from_pylist(links),
        },
        replacements=[Replacement("material_product", {"hs_revision": revisions})],
        upserts={"product"},
    )


def _date(path: Path, line: int, text: str, column: str) -> datetime.date | None:
    """A calendar date written YYYY-MM-DD, or None for an empty cell."""
    value = text.strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise InputError(path, f"not a date (YYYY-MM-DD): {shown(value)}", line, column)


def parse_export_restrictions(path: Path) -> ParsedSource:
    """The curated export-restriction event list -> ``export_restriction_event``."""
    required = [
        "event_id",
        "country_iso3",
        "announced_date",
        "effective_date",
        "end_date",
        "measure_type",
        "materials",
        "indicative_hs6",
        "target_scope",
        "confidence",
    ]
    rows = []
    for line, row in read_csv_rows(path, required):
        record: dict[str, object] = {
            "event_id": row["event_id"].strip(),
            "country_iso3": row["country_iso3"].strip(),
            "measure_type": row["measure_type"].strip(),
            "materials": row["materials"].strip(),
            "hs6_codes": row["indicative_hs6"].strip() or None,
            "target_scope": row["target_scope"].strip(),
            "instrument": row.get("instrument_or_authority", "").strip() or None,
            "notes": row.get("notes", "").strip() or None,
            "confidence": row["confidence"].strip(),
            "verify_status": row.get("verify_status", "").strip() or "unverified",
            SOURCE_ROW: line,
        }
        for column in ("announced_date", "effective_date", "end_date"):
            record[column] = _date(path, line, row[column], column)
        rows.append(record)
    return ParsedSource(
        file=path,
        source=_curated_record(
            "curated-export-restrictions",
            "Export-restriction events",
            path,
            "Official announcements (MOFCOM, Indonesian Government Regulations, ARECOMS, BIS, ...)",
        ),
        tables={"export_restriction_event": pa.Table.from_pylist(rows)},
        column_labels={"instrument": "instrument_or_authority", "hs6_codes": "indicative_hs6"},
        upserts={"export_restriction_event"},
    )
