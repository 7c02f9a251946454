"""SYNTHETIC stores for the metric tests.

Every trade flow, production figure, governance estimate and restriction event written here is
made up by hand (or drawn by hypothesis) so that the expected metric values can be computed on
paper. Only the country table is real (the bundled ISO code list). Nothing here is data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from chainwatch.store import Store

SOURCE = "SYNTHETIC"
VINTAGE = "synthetic-1"
YEAR = 2023
HS6 = "260500"
REVISION = "HS92"
MATERIAL = "cobalt"
STAGE = "mine"
COUNTRIES = ("CAN", "USA", "DEU", "FRA", "CHN", "COD", "AUS")

Row = Mapping[str, Any]


def flow(
    exporter: str,
    importer: str,
    value_usd: float,
    quantity_t: float | None = None,
    year: int = YEAR,
    hs6: str = HS6,
) -> dict[str, Any]:
    """One synthetic trade_flow row (HS92, source SYNTHETIC)."""
    return {
        "year": year,
        "exporter_iso3": exporter,
        "importer_iso3": importer,
        "hs6": hs6,
        "hs_revision": REVISION,
        "value_usd": float(value_usd),
        "quantity_t": None if quantity_t is None else float(quantity_t),
        "source": SOURCE,
        "vintage": VINTAGE,
    }


def material_rows(
    material: str = MATERIAL, hs6: str = HS6, stage: str = STAGE, eol_rir: float | None = None
) -> dict[str, list[dict[str, Any]]]:
    """product, material and material_product rows mapping one HS6 code to one material."""
    return {
        "product": [
            {"hs6": hs6, "hs_revision": REVISION, "description": f"synthetic product {hs6}"}
        ],
        "material": [
            {
                "material": material,
                "display_name": material.title(),
                "eu_crma_2024": "strategic",
                "usgs_critical_2022": True,
                "eol_rir": eol_rir,
            }
        ],
        "material_product": [
            {
                "material": material,
                "hs6": hs6,
                "hs_revision": REVISION,
                "stage": stage,
                "role": "primary",
                "source": SOURCE,
            }
        ],
    }


def group_rows(
    groups: Mapping[str, Iterable[str | tuple[str, int | None, int | None]]],
) -> dict[str, list[dict[str, Any]]]:
    """country_group and group_membership rows; a member is an ISO3 or (iso3, from, to)."""
    group_table = []
    membership = []
    for group_id, members in groups.items():
        group_table.append(
            {
                "group_id": group_id,
                "name": f"synthetic group {group_id}",
                "description": "SYNTHETIC test group",
                "user_defined": True,
            }
        )
        for member in members:
            iso3, first, last = (member, None, None) if isinstance(member, str) else member
            membership.append(
                {
                    "group_id": group_id,
                    "iso3": iso3,
                    "member_from_year": first,
                    "member_to_year": last,
                }
            )
    return {"country_group": group_table, "group_membership": membership}


def insert(con: Any, table: str, rows: Sequence[Row]) -> None:
    """Append rows (dicts with some of the table's columns) to a store table."""
    if not rows:
        return
    frame = pd.DataFrame(list(rows))
    con.register("synthetic_rows", frame)
    columns = ", ".join(frame.columns)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM synthetic_rows")
    con.unregister("synthetic_rows")


def build_store(template: Path, directory: Path, tables: Mapping[str, Sequence[Row]]) -> Store:
    """A copy of the template store (countries only) with the given synthetic rows added."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "chainwatch.duckdb"
    shutil.copyfile(template, path)
    store = Store(path)
    with store.writing() as con:
        for table, rows in tables.items():
            insert(con, table, rows)
    return store


def merge(*parts: Mapping[str, Sequence[Row]]) -> dict[str, list[Row]]:
    """Concatenate table -> rows mappings."""
    merged: dict[str, list[Row]] = {}
    for part in parts:
        for table, rows in part.items():
            merged.setdefault(table, []).extend(rows)
    return merged


def _one(frame: pd.DataFrame, name: str, material: str | None) -> pd.Series:
    rows = frame[frame["metric"] == name]
    if material is not None:
        rows = rows[rows["material"] == material]
    assert len(rows) == 1, f"{name}: {len(rows)} rows"
    return rows.iloc[0]


def metric(frame: pd.DataFrame, name: str, material: str | None = None) -> float | None:
    """The single value of one metric in a calc_metrics frame (None when null)."""
    value = _one(frame, name, material)["value"]
    return None if value is None or pd.isna(value) else float(value)


def detail(frame: pd.DataFrame, name: str, material: str | None = None) -> str | None:
    """The detail text of one metric in a calc_metrics frame."""
    value = _one(frame, name, material)["detail"]
    return None if value is None or pd.isna(value) else str(value)
