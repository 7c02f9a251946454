"""How numbers and names read on the pages: Jinja filters and short display names."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MISSING = "—"

SHORT_COUNTRY_NAMES = {
    "USA": "United States",
    "GBR": "United Kingdom",
    "CSK": "Czechoslovakia",
    "DDR": "East Germany",
    "SCG": "Serbia and Montenegro",
}
"""Everyday names where the reference table carries the long official one."""

STAGE_LABELS = {
    "mine": "Mine",
    "refinery": "Refinery",
    "intermediate": "Intermediate",
    "component": "Component",
    "end_product": "End product",
}
STAGE_ORDER = list(STAGE_LABELS)


def number_or_none(value: Any) -> float | None:
    """A finite float, or None for missing values (None, NaN, pandas NA, non-numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def format_usd(value: Any) -> str:
    """US dollars with a scale word: US$26.5 M, US$10.6 bn, US$273.9 k."""
    amount = number_or_none(value)
    if amount is None:
        return MISSING
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    for scale, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if amount >= scale:
            return f"{sign}US${amount / scale:,.1f}{suffix}"
    return f"{sign}US${amount:,.0f}"


def format_percent(value: Any, digits: int = 1) -> str:
    """A fraction (0–1) as a percentage: 0.285 -> '28.5 %'."""
    fraction = number_or_none(value)
    if fraction is None:
        return MISSING
    return f"{fraction * 100:.{digits}f} %"


def format_number(value: Any, digits: int = 2) -> str:
    """A plain number with thousands separators and fixed decimals."""
    amount = number_or_none(value)
    if amount is None:
        return MISSING
    return f"{amount:,.{digits}f}"


def format_stage(stage: Any) -> str:
    return STAGE_LABELS.get(str(stage), str(stage).replace("_", " ").capitalize())


def country_label(iso3: str, name: Any) -> str:
    """The everyday name of a country (falls back to the code where the name is missing)."""
    if iso3 in SHORT_COUNTRY_NAMES:
        return SHORT_COUNTRY_NAMES[iso3]
    return str(name) if isinstance(name, str) and name else iso3


def country_names(countries: pd.DataFrame) -> dict[str, str]:
    """ISO3 -> everyday name, from the country reference table."""
    return {
        str(iso3): country_label(str(iso3), name)
        for iso3, name in zip(countries["iso3"], countries["name"], strict=True)
    }


def stage_sort_key(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


FILTERS = {
    "usd": format_usd,
    "percent": format_percent,
    "number": format_number,
    "stage": format_stage,
}
