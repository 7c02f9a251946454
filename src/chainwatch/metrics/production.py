"""The one rule for which production series a metric uses, and the shares it gives.

Every caller (metrics, charts, the production map, the monitor's production signal) picks a
series through :func:`choose_product_type` / :func:`select_production_series`:

1. one source per material and stage: World Mining Data for the mine stage where it is
   loaded (it covers every country with one definition per mineral), else USGS MCS, else
   the first source in alphabetical order;
2. within that source, a curated preference where a plain count would pick the wrong product
   (``reference/production_series.csv``: silicon metal, not ferrosilicon);
3. else the product type naming the most countries (ties: alphabetical order);
4. where no product type names at least :data:`MIN_COUNTRIES` countries but the source
   names more countries in all (USGS lists boron one product per country: Turkish refined
   borates, Chilean ulexite, ...), every country's entry is combined into one series under
   the label :data:`COMBINED`; the label says so wherever the series is shown.

The world total is the publisher's "World total" of the same source, unit and edition only
(never another source's, never another unit's). Shares are bounded: where the named
countries add up to more than that total by more than rounding (:data:`WORLD_TOLERANCE`), the
sum of the countries is the denominator, and no share exceeds 1.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

AGGREGATES = {"WLD", "OTH"}
MIN_COUNTRIES = 3
COMBINED = "one product type per country, combined"
WORLD_MINING_DATA = "World Mining Data"
USGS = "USGS MCS"
SOURCE_PREFERENCE = {"mine": (WORLD_MINING_DATA, USGS)}
DEFAULT_SOURCE_PREFERENCE = (USGS, WORLD_MINING_DATA)
WORLD_TOLERANCE = 1.10
"""Named countries may exceed the world total by rounding: USGS rounds its world totals to
two significant figures (lithium 2023: countries 184,680 t, "World total (rounded)" 180,000 t)
and states its shares against the rounded total (T5: Australia 48 %), so within 10 % the
publisher's total is kept; beyond, it belongs to another definition and the countries' sum is
used."""


@dataclass(frozen=True)
class Preference:
    material: str
    stage: str
    contains: str
    reason: str


@cache
def preferences() -> dict[tuple[str, str], Preference]:
    """Curated product-type preferences per (material, stage) (reference CSV)."""
    text = resources.files("chainwatch.reference").joinpath("production_series.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    found = [Preference(r["material"], r["stage"], r["product_type_contains"], r["reason"])
             for r in rows]  # fmt: skip
    return {(p.material, p.stage): p for p in found}


def choose_source(rows: pd.DataFrame) -> str | None:
    """The source whose series a material and stage use (rule 1)."""
    named = rows[~rows["country_iso3"].isin(AGGREGATES)]
    if named.empty:
        return None
    stage = str(named["stage"].iloc[0]) if "stage" in named else ""
    order = SOURCE_PREFERENCE.get(stage, DEFAULT_SOURCE_PREFERENCE)
    present = {str(source) for source in named["source"]}
    for source in order:
        if source in present:
            return source
    return sorted(present)[0]


def choose_product_type(rows: pd.DataFrame) -> str | None:
    """The product type to use, given the rows of one material, stage and year (rules 1-4);
    :data:`COMBINED` where countries' own entries are combined; None where no row names a
    country."""
    source = choose_source(rows)
    if source is None:
        return None
    named = rows[(rows["source"] == source) & ~rows["country_iso3"].isin(AGGREGATES)]
    counts = named.groupby("product_type")["country_iso3"].nunique()
    if "material" in named and "stage" in named and len(named):
        wanted = preferences().get((str(named["material"].iloc[0]), str(named["stage"].iloc[0])))
        if wanted is not None:
            matching = sorted(t for t in counts.index if wanted.contains in str(t).lower())
            if matching:
                return str(matching[0])
    best = counts.sort_index().idxmax()
    if counts[best] < MIN_COUNTRIES and named["country_iso3"].nunique() > counts[best]:
        return COMBINED
    return str(best)


def select_production_series(rows: pd.DataFrame, product_type: str | None) -> pd.DataFrame:
    """The rows of ``product_type`` (of the chosen source), with that source's world total of
    the same unit and edition where it is filed under a type of its own (USGS "World mine
    production"). For :data:`COMBINED`, each country's largest entry, labelled COMBINED."""
    if product_type is None:
        return rows.iloc[0:0]
    source = choose_source(rows)
    own = rows[rows["source"] == source]
    if product_type == COMBINED:
        named = own[~own["country_iso3"].isin(AGGREGATES)].sort_values(
            ["country_iso3", "quantity", "product_type"], ascending=[True, False, True],
            na_position="last",
        )  # fmt: skip
        return named.drop_duplicates("country_iso3").assign(product_type=COMBINED)
    series = own[own["product_type"] == product_type]
    if series.empty or "WLD" in set(series["country_iso3"]):
        return series
    first = series.iloc[0]
    world = own[(own["country_iso3"] == "WLD") & (own["unit"] == first["unit"])
                & (own["vintage"] == first["vintage"])]  # fmt: skip
    if len(world) == 1:
        series = pd.concat([series, world])
    return series


def choose_production_series(rows: pd.DataFrame) -> pd.DataFrame:
    """The series to use among the rows of one material, stage and year."""
    return select_production_series(rows, choose_product_type(rows))


def production_shares(series: pd.DataFrame) -> pd.DataFrame:
    """country_iso3, quantity, share: each named country's share of the world total, else of
    the sum of all rows; never of a total the named countries exceed by more than rounding,
    so every share lies in [0, 1]."""
    named = series[~series["country_iso3"].isin(AGGREGATES) & series["quantity"].notna()]
    named = named[named["quantity"] >= 0]
    world = series.loc[series["country_iso3"] == "WLD", "quantity"].dropna()
    named_sum = float(named["quantity"].sum())
    rest = float(series.loc[series["country_iso3"] == "OTH", "quantity"].clip(lower=0).sum())
    total = named_sum + rest
    if len(world) and float(world.iloc[0]) * WORLD_TOLERANCE >= named_sum > 0:
        total = float(world.iloc[0])
    shares = named[["country_iso3", "quantity"]].copy()
    shares["share"] = (shares["quantity"] / total).clip(upper=1.0) if total > 0 else 0.0
    return shares


def series_label(series: pd.DataFrame) -> str:
    """What the series is, for the detail and sources of every number it feeds."""
    first = series.iloc[0]
    return f"{first['product_type']} ({first['source']} {first['vintage']})"
