"""Monthly supplier-drop signal over ``trade_flow_monthly`` (UN Comtrade monthly data).

One row per reporter (importing country, in the ``perspective`` column), partner (supplier,
``exporter_iso3``) and scope (``material|stage`` where the HS6 code is mapped to a material in
that revision, else ``hs6:CODE``) for a tested month M: the reporter's imports from that
partner in M, in tonnes (net weight), against its own history.

Baseline (the choice): the **trailing 12 months** M-12 .. M-1, not the same month of earlier
years. A same-month baseline would need three or more years of monthly history before the
first signal and would react to a break a year late at best; the trailing window catches a
stop within a month. Seasonality is handled by the extra fields instead: ``yoy_change``
compares M with the same month a year earlier (M-12).

The statistics are those of the annual signals (``watch/signals.py``, computed by the same
function with months as periods): ``robust_z`` = (x_M - median) / max(1.4826 MAD, 5 % of the
median) over M-12 .. M-1; ``change_z`` = the month-on-month log change against the 12 before
it (floor 0.05); ``change_vs_median`` = x_M / median - 1; ``previous_change`` = x_M / x_(M-1)
- 1; ``yoy_change`` = x_M / x_(M-12) - 1; ``baseline_share``, ``share_change_vs_median``,
``value_usd``, ``baseline_value_usd``, ``value_change_vs_median`` as for the partner signal
(b). The rows carry the field names of ``partner_export_drop``, so a rule written for that
signal (``watch/rules.py``) can be evaluated on them with ``alerts.calc_rule_hits``.

No look-ahead: the rows for month M are computed from flows dated M or earlier only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from chainwatch.watch.signals import calc_partner_export_drops, calc_scope_panel

MONTH_WINDOW = 12
"""Trailing months a month is compared with (M-12 .. M-1)."""
SIGNAL = "monthly_partner_drop"


def month_index(month: date | pd.Timestamp) -> int:
    """Months since year 0: consecutive integers, so month arithmetic is subtraction."""
    return int(month.year) * 12 + int(month.month) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def calc_monthly_partner_drops(
    flows: pd.DataFrame,
    month: date | pd.Timestamp,
    scopes: pd.DataFrame | None = None,
    window: int = MONTH_WINDOW,
) -> pd.DataFrame:
    """Imports of each reporter from each partner in ``month`` against the trailing window.

    ``flows``: rows of ``trade_flow_monthly`` (period, reporter_iso3, partner_iso3, flow, hs6,
    hs_revision, value_usd, quantity_t); only imports are read, and only periods up to
    ``month``. ``scopes``: hs6, hs_revision, scope_key (as ``WatchInputs.scopes``); a code in
    none of them is its own scope ``hs6:CODE``.
    """
    tested = month_index(month)
    imports = flows[flows["flow"] == "import"].copy()
    periods = pd.to_datetime(imports["period"])
    imports["year"] = periods.dt.year * 12 + periods.dt.month - 1  # the period axis, in months
    imports = imports[imports["year"] <= tested]  # no look-ahead
    keys = ["perspective", "exporter_iso3", "scope_key"]
    if imports.empty:
        return pd.DataFrame(columns=[*keys, "month", "signal"])
    imports = imports.rename(columns={"reporter_iso3": "perspective",
                                      "partner_iso3": "exporter_iso3"})  # fmt: skip
    panel = calc_scope_panel(imports, _scopes(imports, scopes), ["perspective", "exporter_iso3"])
    rows = calc_partner_export_drops(panel, tested, window)
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "month", "signal"])
    return _describe(rows, tested)


def _scopes(imports: pd.DataFrame, scopes: pd.DataFrame | None) -> pd.DataFrame:
    codes = imports[["hs6", "hs_revision"]].drop_duplicates()
    mapped = (
        scopes[["hs6", "hs_revision", "scope_key"]]
        if scopes is not None
        else pd.DataFrame(columns=["hs6", "hs_revision", "scope_key"])
    )
    unmapped = codes.merge(mapped, on=["hs6", "hs_revision"], how="left")
    unmapped = unmapped[unmapped["scope_key"].isna()]
    own = unmapped.assign(scope_key="hs6:" + unmapped["hs6"].astype(str))
    return pd.concat([mapped, own], ignore_index=True)


def _describe(rows: pd.DataFrame, tested: int) -> pd.DataFrame:
    """Month labels instead of month indexes; yoy_change from the same month a year earlier."""
    previous_change = rows["yoy_change"]  # x_M / x_(M-1) - 1 in the annual calculation
    same_month = [_point(series, tested - 12) for series in rows["series"]]
    current = rows["quantity_t"].to_numpy(dtype=float)
    earlier = np.asarray(same_month, dtype=float)
    safe = np.where(earlier > 0, earlier, 1.0)
    described = rows.assign(
        month=month_label(tested),
        year=tested // 12,
        previous_change=previous_change,
        yoy_change=np.where(earlier > 0, current / safe - 1.0, np.nan),
        series=pd.Series(
            [tuple((month_label(int(p)), v) for p, v in series) for series in rows["series"]],
            index=rows.index,
            dtype=object,
        ),
        signal=SIGNAL,
        scope=rows["perspective"] + "|" + rows["exporter_iso3"] + "|" + rows["scope_key"],
    )
    return described


def _point(series: Any, period: int) -> float:
    for label, value in series:
        if int(label) == period:
            return float(value)
    return float("nan")


def read_monthly_flows(con: Any, month: date | pd.Timestamp) -> pd.DataFrame:
    """Rows of ``trade_flow_monthly`` dated ``month`` or earlier, from a store connection."""
    frame: pd.DataFrame = con.execute(
        "SELECT period, reporter_iso3, partner_iso3, flow, hs6, hs_revision, value_usd, "
        "quantity_t FROM trade_flow_monthly WHERE period <= ? ORDER BY period",
        [date(int(month.year), int(month.month), 1)],
    ).df()
    return frame
