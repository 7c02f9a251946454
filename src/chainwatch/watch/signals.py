"""Early-warning signals: pure computations over the series handed to them (no I/O, no SQL).

Every function takes pandas objects and a reference year ``year`` (T) and returns a tidy frame,
one row per scope, with the value tested, the baseline it is tested against and the series it
was computed on. Only observations dated T or earlier are read: trade panels are cut to the
years T - window - 1 .. T, monthly prices to months of T or before, events to those known by
the end of T. The rule layer (``watch/rules.py``) decides which rows become alerts.

Robust z-score: z = (x - median) / max(scale, floor), scale = 1.4826 * MAD (median absolute
deviation; 1.2533 * mean absolute deviation where the MAD is 0), median and MAD over a trailing
window that ends the year (or month) before the one tested.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainwatch.metrics.membership import calc_member_flags
from chainwatch.metrics.production import (
    choose_product_type,
    production_shares,
    select_production_series,
)

FloatArray = npt.NDArray[np.float64]
SeriesPoints = tuple[tuple[str, float], ...]
"""The points a signal was computed on: (period, value) pairs, oldest first."""

MAD_TO_SIGMA = 1.4826
"""MAD of a normal distribution times 1.4826 estimates its standard deviation."""
MEAN_AD_TO_SIGMA = 1.2533
"""Mean absolute deviation of a normal distribution times 1.2533 estimates its deviation: the
scale where the MAD is 0 (Iglewicz and Hoaglin's modified z-score)."""
TRADE_WINDOW = 5
"""Trailing years of history a trade signal compares year T with (years T-5 .. T-1)."""
MIN_HISTORY = 3
"""Fewest non-missing baseline points a robust z-score needs."""
LOG_CHANGE_FLOOR = 0.05
"""Smallest scale of a year-on-year log change (5 %): a perfectly smooth history does not
make an ordinary move look extreme."""
LEVEL_FLOOR_FRACTION = 0.05
"""Smallest scale of a level, as a fraction of its median."""
LOG_OFFSET_FRACTION = 0.01
"""Offset added before taking logs (1 % of the baseline median), so a fall to zero is finite."""
UNQUANTIFIED_LIMIT = 0.1
"""Largest share of a scope's value whose flows may lack a quantity before its tonnage is
treated as missing."""
PRICE_WINDOW = 36
"""Trailing months of month-on-month log changes a price move is compared with."""
PRICE_FLOOR = 0.01
"""Smallest scale of a monthly log price change (1 %)."""
VOLATILITY_WINDOW = 12
"""Months in the rolling volatility (standard deviation of log changes, annualised)."""
VOLATILITY_BASELINE = 60
"""Months of earlier rolling volatility whose median is the volatility baseline."""


# --- primitives ------------------------------------------------------------------------------


def calc_robust_z(history: npt.ArrayLike, current: float, floor: float) -> float:
    """Robust z of ``current`` against ``history``; NaN with fewer than MIN_HISTORY points."""
    values = np.asarray(history, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < MIN_HISTORY or math.isnan(current):
        return math.nan
    median = float(np.median(values))
    deviations = np.abs(values - median)
    return (current - median) / max(calc_spread(deviations), floor)


def calc_spread(deviations: npt.ArrayLike) -> float:
    """Robust scale from absolute deviations from the median: 1.4826 MAD, or 1.2533 times the
    mean absolute deviation where the MAD is 0 (a step series that mostly stands still)."""
    values = np.asarray(deviations, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan
    mad = float(np.median(values))
    return MAD_TO_SIGMA * mad if mad > 0 else MEAN_AD_TO_SIGMA * float(values.mean())


def calc_change(current: float, reference: float) -> float:
    """Relative change current / reference - 1; NaN when the reference is not positive."""
    if math.isnan(current) or math.isnan(reference) or reference <= 0:
        return math.nan
    return current / reference - 1.0


def _nanmedian(matrix: FloatArray) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as wanted
        result: FloatArray = (
            np.nanmedian(matrix, axis=1) if matrix.shape[1] else np.full(matrix.shape[0], np.nan)
        )
    return result


def _scale(history: FloatArray, median: FloatArray, mad: FloatArray) -> FloatArray:
    """Row-wise :func:`calc_spread`: 1.4826 MAD, or 1.2533 mean absolute deviation if MAD = 0."""
    deviations = np.abs(history - median[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_deviation = np.nanmean(deviations, axis=1) if deviations.shape[1] else mad
    result: FloatArray = np.where(mad > 0, MAD_TO_SIGMA * mad, MEAN_AD_TO_SIGMA * mean_deviation)
    return result


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.nan)


def _points(periods: Sequence[object], matrix: FloatArray) -> list[SeriesPoints]:
    labels = [str(period) for period in periods]
    return [
        tuple((label, float(value)) for label, value in zip(labels, row, strict=True)
              if not math.isnan(value))
        for row in matrix
    ]  # fmt: skip


def _window(year: int, window: int) -> list[int]:
    return list(range(year - window, year))


def calc_breaks(levels: pd.DataFrame, year: int, window: int = TRADE_WINDOW) -> pd.DataFrame:
    """Break statistics of each row of ``levels`` (rows = scopes, columns = years) in ``year``.

    Zero means no trade; years before the data start are missing. Columns of the result:

    * ``current``, ``previous``: the level in T and T-1;
    * ``baseline_median``, ``baseline_mad``, ``baseline_count``: over years T-window .. T-1;
    * ``change_vs_median`` = x_T / median - 1, ``yoy_change`` = x_T / x_(T-1) - 1;
    * ``robust_z``: (x_T - median) / max(1.4826 MAD, 5 % of median);
    * ``change_z``: the log change ln(x_T + c) - ln(x_(T-1) + c) against the log changes of
      years T-window .. T-1 (c = 1 % of the median), floor 0.05 - a break in a trending series;
    * ``series``: the points T-window-1 .. T.
    """
    years = list(range(year - window - 1, year + 1))
    matrix = levels.reindex(columns=years).to_numpy(dtype=float)
    history = matrix[:, 1:-1]
    current, previous = matrix[:, -1], matrix[:, -2]
    median = _nanmedian(history)
    mad = _nanmedian(np.abs(history - median[:, None]))
    count = (~np.isnan(history)).sum(axis=1)
    enough = count >= MIN_HISTORY
    level_scale = np.maximum(_scale(history, median, mad), LEVEL_FLOOR_FRACTION * median)
    robust_z = np.where(enough & (level_scale > 0), _divide(current - median, level_scale), np.nan)
    offset = np.where(median > 0, LOG_OFFSET_FRACTION * median, np.nan)
    logs = np.log(matrix + offset[:, None])
    changes = np.diff(logs, axis=1)
    change_history, change_now = changes[:, :-1], changes[:, -1]
    change_median = _nanmedian(change_history)
    change_mad = _nanmedian(np.abs(change_history - change_median[:, None]))
    change_count = (~np.isnan(change_history)).sum(axis=1)
    change_scale = np.maximum(_scale(change_history, change_median, change_mad), LOG_CHANGE_FLOOR)
    change_z = np.where(
        change_count >= MIN_HISTORY, (change_now - change_median) / change_scale, np.nan
    )
    return pd.DataFrame(
        {
            "current": current,
            "previous": previous,
            "baseline_median": median,
            "baseline_mad": mad,
            "baseline_count": count,
            "change_vs_median": _divide(current, median) - 1.0,
            "yoy_change": _divide(current, previous) - 1.0,
            "robust_z": robust_z,
            "change_z": change_z,
            "series": _points(years, matrix),
        },
        index=levels.index,
    )


def calc_series_break(series: pd.Series, year: int, window: int = TRADE_WINDOW) -> pd.Series:
    """:func:`calc_breaks` for one annual series indexed by year (a convenience for one scope)."""
    levels = pd.DataFrame([series.to_numpy(dtype=float)], columns=[int(y) for y in series.index])
    return calc_breaks(levels, year, window).iloc[0]


def _window_median(frame: pd.DataFrame, year: int, window: int) -> FloatArray:
    return _nanmedian(frame.reindex(columns=_window(year, window)).to_numpy(dtype=float))


def _cut(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Only the columns (years) up to ``year``: the no-look-ahead guard of the trade signals."""
    return frame.loc[:, [column for column in frame.columns if int(column) <= year]]


# --- trade panels ----------------------------------------------------------------------------


def calc_scope_panel(flows: pd.DataFrame, scopes: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum HS6 flows into scopes: ``keys`` + scope_key + year -> value_usd, quantity_t.

    ``flows`` has ``keys``, year, hs6, hs_revision, value_usd, quantity_t and optionally
    value_without_quantity_usd; ``scopes`` maps (hs6, hs_revision) to scope_key (a code can
    belong to several scopes). Where flows without a reported quantity carry more than 10 % of
    the value, the summed quantity is missing (a partial tonnage would look like a fall).
    """
    codes = scopes[["hs6", "hs_revision", "scope_key"]].drop_duplicates()
    merged = flows.merge(codes, on=["hs6", "hs_revision"])
    if "value_without_quantity_usd" not in merged:
        merged["value_without_quantity_usd"] = np.where(merged["quantity_t"].isna(),
                                                        merged["value_usd"], 0.0)  # fmt: skip
    grouped = merged.groupby([*keys, "scope_key", "year"], as_index=False)[
        ["value_usd", "quantity_t", "value_without_quantity_usd"]
    ].sum(min_count=1)
    # a tonnage that leaves out more than 10 % of the value is not a tonnage: missing
    unquantified = grouped["value_without_quantity_usd"] > UNQUANTIFIED_LIMIT * grouped["value_usd"]
    grouped.loc[unquantified, "quantity_t"] = np.nan
    return grouped.drop(columns="value_without_quantity_usd")


def _wide(panel: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Rows = keys, columns = years. No row that year: 0 (no trade). A row whose ``column`` is
    missing (a flow with a value but no reported quantity) stays missing, never 0."""
    indexed = panel.set_index([*keys, "year"])
    wide = indexed[column].unstack("year")
    present = indexed["value_usd"].unstack("year").notna()
    wide = wide.where(present | wide.notna(), 0.0)
    wide.columns = [int(c) for c in wide.columns]
    return wide


def calc_supplier_export_drops(
    panel: pd.DataFrame, year: int, window: int = TRADE_WINDOW
) -> pd.DataFrame:
    """(a) A supplier's exports (all destinations) against its own history, in tonnes.

    ``panel``: exporter_iso3, scope_key, year, value_usd, quantity_t. Adds the materiality of
    the supplier: ``baseline_share`` (median share of world exports by value over the window)
    and ``baseline_value_usd`` (median export value over the window); and
    ``share_change_vs_median``: its share of world tonnage in T against its median share.
    """
    keys = ["exporter_iso3", "scope_key"]
    panel = panel[panel["year"] <= year]
    if panel.empty:
        return _empty(keys)
    quantity = _cut(_wide(panel, keys, "quantity_t"), year)
    value = _cut(_wide(panel, keys, "value_usd"), year)
    world = value.groupby(level="scope_key").transform("sum")
    shares = value / world.where(world > 0)
    world_tonnes = quantity.groupby(level="scope_key").transform("sum")
    tonnage_shares = quantity / world_tonnes.where(world_tonnes > 0)
    return _break_rows(quantity, value, shares, tonnage_shares, year, window)


def calc_partner_export_drops(
    panel: pd.DataFrame, year: int, window: int = TRADE_WINDOW
) -> pd.DataFrame:
    """(b) Imports of a perspective from one supplier against their own history, in tonnes.

    ``panel``: perspective, exporter_iso3, scope_key, year, value_usd, quantity_t (flows
    between members excluded). ``baseline_share`` is the supplier's median share of the
    perspective's imports (value) over the window; ``share_previous`` its share in T-1;
    ``share_change_vs_median`` its share of the perspective's tonnage in T against the median.
    """
    keys = ["perspective", "exporter_iso3", "scope_key"]
    panel = panel[panel["year"] <= year]
    if panel.empty:
        return _empty(keys)
    quantity = _cut(_wide(panel, keys, "quantity_t"), year)
    value = _cut(_wide(panel, keys, "value_usd"), year)
    total = value.groupby(level=["perspective", "scope_key"]).transform("sum")
    shares = value / total.where(total > 0)
    tonnes = quantity.groupby(level=["perspective", "scope_key"]).transform("sum")
    tonnage_shares = quantity / tonnes.where(tonnes > 0)
    return _break_rows(quantity, value, shares, tonnage_shares, year, window)


def _break_rows(
    quantity: pd.DataFrame,
    value: pd.DataFrame,
    shares: pd.DataFrame,
    tonnage_shares: pd.DataFrame,
    year: int,
    window: int,
) -> pd.DataFrame:
    breaks = calc_breaks(quantity, year, window)
    breaks["baseline_share"] = _window_median(shares, year, window)
    # the fall relative to the market: a supplier losing tonnes while everyone else does too
    # (a slump in demand) keeps its share; a disrupted supplier loses it
    median_share = _window_median(tonnage_shares, year, window)
    current_share = tonnage_shares.reindex(columns=[year]).to_numpy(dtype=float)[:, 0]
    breaks["share_change_vs_median"] = _divide(current_share, median_share) - 1.0
    breaks["share_previous"] = shares.reindex(columns=[year - 1]).to_numpy(dtype=float)[:, 0]
    breaks["baseline_value_usd"] = _window_median(value, year, window)
    current_value = value.reindex(columns=[year]).to_numpy(dtype=float)[:, 0]
    breaks["value_usd"] = current_value
    breaks["value_change_vs_median"] = (
        _divide(current_value, breaks["baseline_value_usd"].to_numpy()) - 1.0
    )
    breaks = breaks[breaks["baseline_value_usd"] > 0].rename(
        columns={"current": "quantity_t", "previous": "quantity_t_previous",
                 "baseline_median": "baseline_quantity_t", "baseline_mad": "baseline_mad_t"}
    )  # fmt: skip
    breaks.insert(0, "year", year)
    return breaks.reset_index()


def _empty(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=[*keys, "year"])


def calc_in_bloc(frame: pd.DataFrame, bloc: pd.DataFrame) -> pd.Series:
    """Whether each row's exporter_iso3 was a bloc member (iso3, from_year, to_year) that year."""
    flags = calc_member_flags(bloc, list(frame["exporter_iso3"]), list(frame["year"]))
    return pd.Series(flags, index=frame.index, dtype=bool)


def calc_import_structure(partners: pd.DataFrame) -> pd.DataFrame:
    """Per perspective, scope and year: imports, partner HHI, top partner and outside-bloc share.

    ``partners``: perspective, scope_key, year, exporter_iso3, value_usd, in_bloc. Each year
    uses that year's flows only. HHI = sum of squared partner shares (value).
    """
    keys = ["perspective", "scope_key", "year"]
    rows = partners[partners["value_usd"] > 0].sort_values(
        [*keys, "value_usd", "exporter_iso3"], ascending=[True, True, True, False, True]
    )
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "imports_value_usd", "hhi", "top_partner_iso3",
                                     "top_share", "outside_share"])  # fmt: skip
    total = rows.groupby(keys)["value_usd"].transform("sum")
    share = rows["value_usd"] / total
    rows = rows.assign(share=share, share_squared=share * share,  # HHI terms (formulas.calc_hhi)
                       outside=np.where(rows["in_bloc"], 0.0, rows["value_usd"]))  # fmt: skip
    grouped = rows.groupby(keys, sort=False)
    structure = grouped.agg(
        imports_value_usd=("value_usd", "sum"),
        hhi=("share_squared", "sum"),
        top_partner_iso3=("exporter_iso3", "first"),
        top_share=("share", "first"),
        outside_value_usd=("outside", "sum"),
    ).reset_index()
    structure["outside_share"] = structure["outside_value_usd"] / structure["imports_value_usd"]
    return structure.drop(columns="outside_value_usd")


def _structure_wide(structure: pd.DataFrame, column: str, year: int) -> pd.DataFrame:
    wide = structure.pivot(index=["perspective", "scope_key"], columns="year", values=column)
    wide.columns = [int(c) for c in wide.columns]
    return _cut(wide, year)


def calc_concentration_jumps(
    structure: pd.DataFrame, year: int, window: int = TRADE_WINDOW
) -> pd.DataFrame:
    """(c) Change of a perspective's import-partner HHI: against T-1 and the window median."""
    return _level_shift(structure, "hhi", year, window)


def calc_outside_bloc_rises(
    structure: pd.DataFrame, year: int, window: int = TRADE_WINDOW
) -> pd.DataFrame:
    """(e) Change of the share of a perspective's imports from outside the bloc."""
    return _level_shift(structure, "outside_share", year, window)


def _level_shift(structure: pd.DataFrame, column: str, year: int, window: int) -> pd.DataFrame:
    structure = structure[structure["year"] <= year]
    if structure.empty or year not in set(structure["year"]):
        return _empty(["perspective", "scope_key"])
    levels = _structure_wide(structure, column, year)
    imports = _structure_wide(structure, "imports_value_usd", year)
    years = list(range(year - window, year + 1))
    matrix = levels.reindex(columns=years).to_numpy(dtype=float)
    current, previous = matrix[:, -1], matrix[:, -2]
    median = _nanmedian(matrix[:, :-1])
    frame = pd.DataFrame(
        {
            column: current,
            f"{column}_previous": previous,
            f"{column}_baseline": median,
            f"{column}_change": current - previous,
            "change_vs_median": current - median,
            "imports_value_usd": imports.reindex(columns=[year]).to_numpy(dtype=float)[:, 0],
            "baseline_value_usd": _window_median(imports.fillna(0.0), year, window),
            "series": _points(years, matrix),
        },
        index=levels.index,
    )
    frame = frame.loc[~np.isnan(current)]
    frame.insert(0, "year", year)
    result: pd.DataFrame = frame.reset_index()
    return result


def calc_new_dominant_suppliers(
    structure: pd.DataFrame, year: int, window: int = TRADE_WINDOW
) -> pd.DataFrame:
    """(d) The top partner of year T was top in none of the window years T-window .. T-1.

    One row per perspective and scope where that happens: the new top partner and its share in
    T, and the partner it displaced (top in the latest earlier year) with its share then.
    """
    structure = structure[(structure["year"] <= year) & (structure["year"] >= year - window)]
    now = structure[structure["year"] == year]
    before = structure[structure["year"] < year].sort_values("year")
    if now.empty or before.empty:
        return _empty(["perspective", "scope_key"])
    earlier_tops: dict[tuple[str, str], set[str]] = {}
    last: dict[tuple[str, str], tuple[str, float, int]] = {}
    for perspective, scope_key, top, share, when in zip(
        before["perspective"], before["scope_key"], before["top_partner_iso3"],
        before["top_share"], before["year"], strict=True,
    ):  # fmt: skip
        key = (str(perspective), str(scope_key))
        earlier_tops.setdefault(key, set()).add(str(top))
        last[key] = (str(top), float(share), int(when))
    rows = []
    for perspective, scope_key, top, share, imports in zip(
        now["perspective"], now["scope_key"], now["top_partner_iso3"], now["top_share"],
        now["imports_value_usd"], strict=True,
    ):  # fmt: skip
        key = (str(perspective), str(scope_key))
        if key not in earlier_tops or str(top) in earlier_tops[key]:
            continue
        previous_top, previous_share, previous_year = last[key]
        rows.append({
            "perspective": key[0], "scope_key": key[1], "year": year,
            "top_partner_iso3": str(top), "top_share": float(share),
            "previous_top_iso3": previous_top, "previous_top_share": previous_share,
            "previous_year": previous_year, "imports_value_usd": float(imports),
            "series": ((str(previous_year), previous_share), (str(year), float(share))),
        })  # fmt: skip
    return pd.DataFrame(rows) if rows else _empty(["perspective", "scope_key"])


# --- production ------------------------------------------------------------------------------


def calc_production_shifts(production: pd.DataFrame, year: int) -> pd.DataFrame:
    """(f) Change of each country's share of world production from T-1 to T.

    ``production``: year, country_iso3, material, stage, product_type, quantity, unit, source,
    vintage (USGS MCS rows, several editions). Both years come from the same edition - the
    latest that holds T and T-1 - and the same product type (the one naming most countries in
    T), so a revision or a change of series between editions is not read as a shift. Shares
    divide by the publisher's world total (``metrics.supply.production_shares``).
    """
    rows = production[production["year"].isin([year - 1, year])]
    frames = []
    for key, group in rows.groupby(["material", "stage"], sort=True):
        material, stage = str(key[0]), str(key[1])
        editions = sorted(
            str(vintage) for vintage, edition in group.groupby("vintage")
            if {year - 1, year} <= set(edition["year"])
        )  # fmt: skip
        if not editions:
            continue
        edition = group[group["vintage"] == editions[-1]]
        product_type = choose_product_type(edition[edition["year"] == year])
        if product_type is None:
            continue
        shares = [_edition_shares(edition, product_type, y) for y in (year - 1, year)]
        merged = shares[1].merge(shares[0], on="country_iso3", suffixes=("", "_previous"))
        if merged.empty:
            continue
        merged = merged.assign(
            material=material, stage=stage, scope_key=f"{material}|{stage}", year=year,
            share_change=merged["share"] - merged["share_previous"],
            production_change=_divide(merged["quantity"].to_numpy(dtype=float),
                                      merged["quantity_previous"].to_numpy(dtype=float)) - 1.0,
            unit=str(edition["unit"].iloc[0]), product_type=str(product_type),
            edition=f"{edition['source'].iloc[0]!s} {editions[-1]}",
        )  # fmt: skip
        points = [
            ((str(year - 1), float(a)), (str(year), float(b)))
            for a, b in zip(merged["share_previous"], merged["share"], strict=True)
        ]
        merged["series"] = pd.Series(points, index=merged.index, dtype=object)  # fmt: skip
        frames.append(merged.rename(columns={"country_iso3": "exporter_iso3"}))
    if not frames:
        return _empty(["exporter_iso3", "scope_key"])
    return pd.concat(frames, ignore_index=True)


def _edition_shares(edition: pd.DataFrame, product_type: str, year: int) -> pd.DataFrame:
    series = select_production_series(edition[edition["year"] == year], product_type)
    return production_shares(series)[["country_iso3", "quantity", "share"]]


# --- prices ----------------------------------------------------------------------------------


def calc_price_moves(prices: pd.DataFrame, year: int) -> pd.DataFrame:
    """(g) Monthly price spikes and volatility of each series in year T.

    ``prices``: month (first day), series, value. For each month m of T: the log change
    r_m = ln(p_m / p_(m-1)) and its robust z against the 36 changes before m (floor 1 %);
    the row keeps the month with the largest z (``spike_month``, ``spike_z``, ``spike_change``
    = exp(r) - 1). ``volatility``: standard deviation of the 12 log changes ending the last
    month of T, times sqrt(12); ``volatility_baseline``: median of that rolling volatility over
    the 60 months ending 12 months earlier; ``annual_change``: mean price of T over mean of T-1.
    """
    end = pd.Timestamp(year=year, month=12, day=1)
    rows = []
    for series, group in prices[prices["month"] <= end].groupby("series", sort=True):
        monthly = group.set_index("month")["value"].sort_index().asfreq("MS")
        months = pd.DatetimeIndex(monthly.index)
        levels = monthly.to_numpy(dtype=float)
        logs = np.log(np.where(levels > 0, levels, np.nan))
        changes = np.concatenate([[np.nan], np.diff(logs)])
        in_year = np.flatnonzero((months.year == year) & ~np.isnan(levels))
        if in_year.size == 0:
            continue
        spike_z, spike = -math.inf, int(in_year[0])
        for index in (int(position) for position in in_year):
            history = changes[max(0, index - PRICE_WINDOW) : index]
            z = calc_robust_z(history, float(changes[index]), PRICE_FLOOR)
            if not math.isnan(z) and z > spike_z:
                spike_z, spike = z, index
        rolling = pd.Series(changes).rolling(VOLATILITY_WINDOW, min_periods=VOLATILITY_WINDOW)
        volatility = rolling.std().to_numpy(dtype=float) * math.sqrt(12)
        last = int(in_year[-1])
        stop = last - VOLATILITY_WINDOW + 1
        earlier = volatility[max(0, stop - VOLATILITY_BASELINE) : max(0, stop)]
        earlier = earlier[~np.isnan(earlier)]
        baseline = float(np.median(earlier)) if earlier.size >= 12 else math.nan
        previous = levels[(months.year == year - 1) & ~np.isnan(levels)]
        shown = (months >= pd.Timestamp(year=year - 1, month=1, day=1)) & ~np.isnan(levels)
        rows.append({
            "series_name": str(series), "year": year,
            "spike_month": months[spike].strftime("%Y-%m"),
            "spike_z": spike_z if spike_z > -math.inf else math.nan,
            "spike_change": math.exp(changes[spike]) - 1.0,
            "annual_change": calc_change(float(levels[in_year].mean()), float(previous.mean()))
            if previous.size else math.nan,
            "volatility": float(volatility[last]), "volatility_baseline": baseline,
            "volatility_ratio": calc_change(float(volatility[last]), baseline) + 1.0,
            "months": int(in_year.size),
            "series": tuple((m.strftime("%Y-%m"), float(v))
                            for m, v in zip(months[shown], levels[shown], strict=True)),
        })  # fmt: skip
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["series_name", "year"])


# --- export-restriction events ---------------------------------------------------------------

PHASES = ("announced", "effective", "lifted")
PHASE_COLUMNS = {"announced": "announced_date", "effective": "effective_date",
                 "lifted": "end_date"}  # fmt: skip


def calc_restriction_events(events: pd.DataFrame, year: int) -> pd.DataFrame:
    """(h) Export-restriction events with a date in year T, known by the end of T.

    ``events`` are rows of ``export_restriction_event`` with ``known_date`` (announcement,
    else effective date). One row per event and year: ``phase`` is ``effective`` if the measure
    took effect in T, else ``announced`` if it was announced in T, else ``lifted`` - a measure
    that starts and ends within T is reported as a start; ``phases`` lists all dated in T.
    """
    end = pd.Timestamp(year=year, month=12, day=31)
    known = events[pd.to_datetime(events["known_date"]) <= end]
    rows = []
    for _, event in known.iterrows():
        dated = [
            (phase, pd.Timestamp(event[column])) for phase, column in PHASE_COLUMNS.items()
            if pd.notna(event[column]) and pd.Timestamp(event[column]).year == year
            and pd.Timestamp(event[column]) <= end
        ]  # fmt: skip
        if not dated:
            continue
        dates = dict(dated)
        phase = next(p for p in ("effective", "announced", "lifted") if p in dates)
        date = dates[phase]
        rows.append({
            "event_id": event["event_id"], "exporter_iso3": event["country_iso3"],
            "year": year, "phase": phase, "date": date.date().isoformat(),
            "phases": "; ".join(f"{p} {d.date().isoformat()}" for p, d in dated),
            "measure_type": event["measure_type"], "hs6": event["hs6_codes"] or "",
            "material": event["scope_materials"], "materials_text": event["materials"],
            "target_scope": event["target_scope"],
            "series": (),
        })  # fmt: skip
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["event_id", "year", "phase"])
