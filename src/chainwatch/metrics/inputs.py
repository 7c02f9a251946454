"""Inputs of the metric definitions that need more than a relation: governance scores and the
restriction events touching a material (read through :class:`Relations`)."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

import pandas as pd

from chainwatch.metrics.formulas import calc_political_instability, calc_wgi_scaled
from chainwatch.store.relations import OPEN_FROM, OPEN_TO, Perspective, Relations

__all__ = ["OPEN_FROM", "OPEN_TO", "PRODUCTION_STAGES", "Perspective", "read_governance",
           "read_restrictions", "restriction_factors", "select_restrictions"]  # fmt: skip

PRODUCTION_STAGES = ("mine", "refinery")


def read_governance(relations: Relations, years: Sequence[int]) -> pd.DataFrame:
    """Per country and year: WGI_scaled (EU CRM, 0-10) and g (GeoPolRisk, 0-1).

    Uses the latest WGI year not after the requested year (WGI ends before trade data do).
    """
    frame = relations.governance(years)
    frame["wgi_scaled"] = frame["mean_estimate"].map(
        lambda value: None if pd.isna(value) else calc_wgi_scaled(value)
    )
    frame["instability"] = frame["political_stability"].map(
        lambda value: None if pd.isna(value) else calc_political_instability(value)
    )
    return frame


@cache
def restriction_factors() -> dict[str, float]:
    """Trade-related factor t per export-restriction measure type (reference CSV)."""
    text = resources.files("chainwatch.reference").joinpath("trade_restriction_factors.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {row["measure_type"]: float(row["t"]) for row in rows}


def read_restrictions(relations: Relations, material: str, codes: list[str]) -> pd.DataFrame:
    """Restriction events touching a material: by its name or by an HS6 code it uses."""
    return select_restrictions(relations.restriction_events(), material, codes)


def select_restrictions(events: pd.DataFrame, material: str, codes: list[str]) -> pd.DataFrame:
    """The events that list one of ``codes`` or name ``material`` (a whole word)."""
    if events.empty:
        return events
    pattern = re.compile(rf"\b{re.escape(material)}\b")

    def touches(row: pd.Series) -> bool:
        listed = set(str(row["hs6_codes"] or "").split(";"))
        return bool(listed & set(codes)) or bool(pattern.search(str(row["materials"]).lower()))

    return events[events.apply(touches, axis=1)]
