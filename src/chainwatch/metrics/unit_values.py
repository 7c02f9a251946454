"""Unit-value screen for the quantities that make sourcing shares.

A supplier whose declared unit value (value / quantity) is more than :data:`FACTOR` times
above or below the world unit value of the same product and year has a quantity that cannot
be right for that product (the EU27's mercury imports of 2023: "Nigeria, 77 t at US$1.9/kg"
against a world unit value near US$ 40/kg). Such a quantity is re-estimated from its value at
the world unit value - the repair CEPII applies to BACI quantities it cannot reconcile - and
the re-estimate is named in the output. Pure functions: no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FACTOR = 10.0


def world_unit_value(value_usd: float, quantity_t: float) -> float | None:
    """World unit value in USD per tonne, from flows that report a quantity."""
    if not quantity_t or quantity_t <= 0 or not np.isfinite(value_usd) or value_usd <= 0:
        return None
    return float(value_usd / quantity_t)


def screen_quantities(
    partners: pd.DataFrame, reference_usd_per_t: float | None
) -> tuple[pd.DataFrame, list[str]]:
    """(partners with ``quantity_t`` re-estimated where implausible, one note per re-estimate).

    ``partners``: exporter_iso3, value_usd, quantity_t. A missing quantity stays missing.
    """
    if reference_usd_per_t is None or partners.empty:
        return partners, []
    quantity = partners["quantity_t"].astype(float)
    unit_value = partners["value_usd"].astype(float) / quantity.where(quantity > 0)
    implausible = (unit_value < reference_usd_per_t / FACTOR) | (
        unit_value > reference_usd_per_t * FACTOR
    )
    implausible = implausible.fillna(False)
    if not implausible.any():
        return partners, []
    screened = partners.copy()
    estimate = screened["value_usd"].astype(float) / reference_usd_per_t
    screened.loc[implausible, "quantity_t"] = estimate[implausible]
    changed = screened[implausible].assign(
        declared_t=quantity[implausible], unit_value=unit_value[implausible]
    )
    largest = changed.sort_values("value_usd", ascending=False).iloc[0]
    note = (
        f"unit-value screen: {len(changed)} supplier quantit"
        f"{'y' if len(changed) == 1 else 'ies'} re-estimated from value at the world unit "
        f"value US${reference_usd_per_t / 1000:,.3g}/kg (largest by value: "
        f"{largest['exporter_iso3']} {float(largest['declared_t']):,.4g} t declared at "
        f"US${float(largest['unit_value']) / 1000:,.3g}/kg -> "
        f"{float(largest['quantity_t']):,.4g} t)"
    )
    return screened, [note]
