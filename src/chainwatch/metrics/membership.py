"""The one membership-in-a-year rule, for the pandas paths (the SQL definitions write it as
``year BETWEEN from_year AND to_year``; tests/metrics/test_one_rule.py checks they agree)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd


def calc_member_flags(
    members: pd.DataFrame, countries: Sequence[str], years: Sequence[int]
) -> npt.NDArray[np.bool_]:
    """For each (country, year) pair: does ``members`` (iso3, from_year, to_year) list the
    country for a span of years that includes the year (both ends included)?"""
    pairs = pd.DataFrame({"iso3": list(countries), "year": list(years)})
    if pairs.empty or members.empty:
        return np.zeros(len(pairs), dtype=bool)
    unique = pairs.drop_duplicates()
    joined = unique.merge(members[["iso3", "from_year", "to_year"]], on="iso3")
    inside = joined[_in_span(joined, joined["year"])]
    keys = set(zip(inside["iso3"], inside["year"], strict=True))
    return np.array([(c, y) in keys for c, y in zip(pairs["iso3"], pairs["year"], strict=True)],
                    dtype=bool)  # fmt: skip


def is_member(members: pd.DataFrame, country: str, year: int) -> bool:
    """:func:`calc_member_flags` for one country and year."""
    return bool(((members["iso3"] == country) & _in_span(members, year)).any())


def members_in(members: pd.DataFrame, year: int) -> frozenset[str]:
    """Every country that is a member in ``year`` (the same rule, for many lookups)."""
    return frozenset(str(c) for c in members.loc[_in_span(members, year), "iso3"])


def _in_span(members: pd.DataFrame, year: int | pd.Series) -> pd.Series:
    """The rule itself: from_year <= year <= to_year."""
    inside: pd.Series = (members["from_year"] <= year) & (members["to_year"] >= year)
    return inside
