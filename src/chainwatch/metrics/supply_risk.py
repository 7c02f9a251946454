"""EU CRM supply risk for one material, stage and year, with the JRC fallbacks.

The full method (JRC 2017 guidelines) blends global supply and the perspective's sourcing:

    SR = [HHI_WGI,t(GS) * IR/2 + HHI_WGI,t(sourcing) * (1 - IR/2)] * (1 - EoL_RIR) * SI_SR

Where a stage lacks data the method and its open re-implementations fall back, and so does
this module, naming the fallback in the output:

* no trade data for the stage, or import reliance not computable (a production unit that
  does not convert to tonnes): **global supply only**, SR = HHI_WGI,t(GS) * (1 - EoL) * SI;
* no production series for the stage: **sourcing only** from the perspective's imports,
  SR = HHI_WGI,t(sourcing) * (1 - EoL) * SI (domestic production unknown, left out);
* neither: not computed, and the output says which data are missing and how to load them.

Every score is returned with its two terms (global and sourcing, each already multiplied by
(1 - EoL) * SI, so they add up to SR) and each term's leading contributor, so a reader sees
which supplier and which term drive it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainwatch.metrics import formulas as f

RowMaker = Callable[..., dict[str, Any]]
FULL = "full method"
GLOBAL_ONLY = "fallback: global supply only"
SOURCING_ONLY = "fallback: sourcing only"
NOT_COMPUTABLE = "not computable"


@dataclass(frozen=True)
class Weighted:
    """A governance- and trade-weighted HHI with its leading contributor."""

    value: float
    leader: str | None
    leader_part: float  # the leader's fraction of the value

    @property
    def detail(self) -> str | None:
        if self.leader is None:
            return None
        return f"top contributor {self.leader} ({self.leader_part:.0%})"


def weighted_hhi(countries: list[str], shares: np.ndarray, weights: list[float]) -> Weighted:
    """sum_i s_i^2 * w_i, and which country contributes most of it."""
    terms = np.asarray(shares, dtype=float) ** 2 * np.asarray(weights, dtype=float)
    total = float(terms.sum())
    if not len(terms) or total <= 0:
        return Weighted(total, None, 0.0)
    top = int(np.argmax(terms))
    return Weighted(total, countries[top], float(terms[top] / total))


@dataclass(frozen=True)
class SupplyRiskInputs:
    """What one stage has: either HHI may be missing, with the reason why."""

    global_supply: Weighted | None
    sourcing: Weighted | None
    reliance: float | None
    end_of_life: float | None
    missing_trade: str | None = None
    missing_production: str | None = None
    sourcing_notes: tuple[str, ...] = ()


def supply_risk_rows(inputs: SupplyRiskInputs, row: RowMaker) -> list[dict[str, Any]]:
    """eu_supply_risk with its method note, its two terms and the two weighted HHIs."""
    eol = inputs.end_of_life or 0.0
    notes = ["SI_SR unknown: 1.0 assumed (no substitution)"]
    if inputs.end_of_life is None:
        notes.append("EoL-RIR unknown: 0 assumed")
    gs, src, reliance = inputs.global_supply, inputs.sourcing, inputs.reliance
    factor = (1 - eol) * 1.0
    if gs is not None and src is not None and reliance is not None:
        method = FULL
        global_term = gs.value * reliance / 2 * factor
        sourcing_term = src.value * (1 - reliance / 2) * factor
    elif gs is not None:
        why = inputs.missing_trade or "import reliance not computable"
        method = f"{GLOBAL_ONLY} ({why})"
        global_term, sourcing_term = gs.value * factor, None
    elif src is not None:
        method = f"{SOURCING_ONLY} ({inputs.missing_production}; domestic production unknown)"
        global_term, sourcing_term = None, src.value * factor
    else:
        missing = [m for m in (inputs.missing_trade, inputs.missing_production) if m]
        why = "; ".join(missing) or "no sourcing and no global supply figures"
        return [row("eu_supply_risk", None, f"{NOT_COMPUTABLE}: {why}")]
    if method == FULL:
        assert gs is not None and src is not None and reliance is not None
        risk = f.calc_eu_supply_risk(gs.value, src.value, reliance, eol)
    else:
        single = gs if gs is not None else src
        assert single is not None
        risk = f.calc_eu_supply_risk_single(single.value, eol)
    sourcing_detail = "; ".join(filter(None, [src.detail if src else None,
                                              *inputs.sourcing_notes])) or None  # fmt: skip
    return [
        row("eu_supply_risk", risk, "; ".join([method, *notes])),
        row("eu_supply_risk_global_term", global_term, gs.detail if gs else None),
        row("eu_supply_risk_sourcing_term", sourcing_term, sourcing_detail),
        row("eu_supply_risk_global_hhi_wgi_t", gs.value if gs else None, gs and gs.detail),
        row("eu_supply_risk_sourcing_hhi_wgi_t", src.value if src else None, sourcing_detail),
    ]


def sourcing_shares(domestic: pd.DataFrame, partners: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Countries and their shares of the perspective's supply: domestic producers (t) and
    import partners (t)."""
    sourcing = (
        pd.concat([domestic[["country", "quantity"]], partners[["country", "quantity"]]])
        .groupby("country", as_index=False)["quantity"]
        .sum()
    )
    sourcing = sourcing[sourcing["quantity"] > 0]
    return list(sourcing["country"]), f.calc_shares(sourcing["quantity"].to_numpy())
