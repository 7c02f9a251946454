"""Whether a criterion is met, not met, or cannot be computed: the one place the pages decide
it, so that a missing figure never reads as good news.

A criterion whose input is missing (no trade data loaded for the HS6 codes, no production
series, a unit the method cannot use) is *not computable*, with what is missing; "no
criterion met" is said only where every criterion was computed. The three EU dependency-
screen criteria (import HHI, outside-bloc share, imports/exports) and the EU supply-risk
threshold are judged separately: the screen can be fully computed where the supply risk is
not, and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chainwatch.services.metrics import EU_CRITICAL_SUPPLY_RISK, FLAG_LABELS
from chainwatch.ui.formatting import number_or_none

State = Literal["met", "not_met", "not_computable"]
SCREEN_INPUTS = {
    "screen_concentrated_suppliers": "import_partner_hhi",
    "screen_outside_bloc_reliance": "screen_outside_bloc_share_of_total_imports",
    "screen_net_importer": "imports_to_exports_ratio",
}
"""Each screen flag and the figure it is judged on (docs/methods.md, EU dependency screen)."""
SUPPLY_RISK_LABEL = f"EU supply risk ≥ {EU_CRITICAL_SUPPLY_RISK:g}"
SCREEN_LABEL = "dependency screen (all three criteria)"
UNKNOWN_REASON = "an input is missing"
NOT_COMPUTABLE = "not computable: "
NO_FLOWS = "no imports recorded for its HS6 codes in the year"


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    state: State
    reason: str | None = None
    """What is missing, where the criterion is not computable."""


@dataclass(frozen=True)
class Verdict:
    """The criteria of one stage (material page) or one material (overview), as chips."""

    met: list[Criterion]
    not_computable: list[Criterion]
    screen_complete: bool
    """Every dependency-screen criterion was computed (so "none met" may be said)."""

    @property
    def screen_met(self) -> list[Criterion]:
        return [c for c in self.met if c.key in SCREEN_INPUTS]

    @property
    def gaps(self) -> list[dict[str, Any]]:
        """Not-computable criteria grouped by what is missing: one grey chip each (the three
        screen criteria together read "dependency screen")."""
        grouped: dict[str, list[Criterion]] = {}
        for criterion in self.not_computable:
            grouped.setdefault(criterion.reason or UNKNOWN_REASON, []).append(criterion)
        gaps = []
        for reason, criteria in grouped.items():
            labels = [criterion.label for criterion in criteria]
            if {criterion.key for criterion in criteria} >= set(SCREEN_INPUTS):
                labels = [SCREEN_LABEL] + [c.label for c in criteria if c.key not in SCREEN_INPUTS]
            gaps.append({"labels": labels, "reason": reason})
        return gaps


def plain_reason(text: Any) -> str | None:
    """A metric's detail as the reason a figure is missing (its own prefix dropped)."""
    if not isinstance(text, str) or not text.strip():
        return None
    reason = text.strip()
    return reason[len(NOT_COMPUTABLE) :] if reason.lower().startswith(NOT_COMPUTABLE) else reason


def stage_verdict(figures: Mapping[str, Any], details: Mapping[str, Any]) -> Verdict:
    """The criteria of one stage from its tidy metrics (values and details by metric).

    A criterion is computable only where its flag *and* the figure it is judged on are there:
    a flag of 0 beside a missing import HHI (no flows recorded in the year) is not "not met"."""
    criteria = []
    imports = number_or_none(figures.get("imports_value_usd"))
    for flag, source in SCREEN_INPUTS.items():
        value = number_or_none(figures.get(flag))
        judged_on = imports if flag == "screen_net_importer" else figures.get(source)
        if value is None or number_or_none(judged_on) is None:
            criteria.append(Criterion(flag, FLAG_LABELS[flag], "not_computable",
                                      _screen_reason(imports, details, source, flag)))  # fmt: skip
        else:
            criteria.append(Criterion(flag, FLAG_LABELS[flag], "met" if value else "not_met"))
    criteria.append(_supply_risk(figures.get("eu_supply_risk"), details.get("eu_supply_risk")))
    return _verdict(criteria)


def _screen_reason(
    imports: float | None, details: Mapping[str, Any], source: str, flag: str
) -> str | None:
    """Why a screen criterion cannot be judged: no trade data for the codes, no flows in the
    year, else what the figure's own detail says."""
    if imports is None:
        return plain_reason(details.get("imports_value_usd"))
    if imports == 0:
        return NO_FLOWS
    return plain_reason(details.get(source)) or plain_reason(details.get(flag))


def row_verdict(row: Mapping[str, Any], year: int) -> Verdict:
    """The criteria of one risk-table row (a material at its headline stage).

    The row lists the screen criteria met (``criteria``); one whose figure is missing is not
    computable: no trade figures at all, or no import HHI / outside-bloc share."""
    met_text = str(row.get("criteria") or "")
    no_trade = number_or_none(row.get("imports_value_usd")) is None
    inputs = {
        "screen_concentrated_suppliers": row.get("import_partner_hhi"),
        "screen_outside_bloc_reliance": row.get("outside_bloc_share"),
        "screen_net_importer": row.get("imports_value_usd"),
    }
    criteria = []
    for flag, label in FLAG_LABELS.items():
        if label in met_text:
            criteria.append(Criterion(flag, label, "met"))
        elif no_trade or number_or_none(inputs[flag]) is None:
            reason = f"no trade figures for {year}" if no_trade else "its figure is missing"
            criteria.append(Criterion(flag, label, "not_computable", reason))
        else:
            criteria.append(Criterion(flag, label, "not_met"))
    missing = plain_reason(row.get("missing"))
    criteria.append(_supply_risk(row.get("eu_supply_risk"), missing))
    return _verdict(criteria)


def _supply_risk(value: Any, detail: Any) -> Criterion:
    risk = number_or_none(value)
    if risk is None:
        return Criterion("eu_supply_risk", "EU supply risk", "not_computable",
                         plain_reason(detail) or UNKNOWN_REASON)  # fmt: skip
    state: State = "met" if risk >= EU_CRITICAL_SUPPLY_RISK else "not_met"
    return Criterion("eu_supply_risk", SUPPLY_RISK_LABEL, state)


def _verdict(criteria: list[Criterion]) -> Verdict:
    screen = [c for c in criteria if c.key in SCREEN_INPUTS]
    return Verdict(
        met=[c for c in criteria if c.state == "met"],
        not_computable=[c for c in criteria if c.state == "not_computable"],
        screen_complete=all(c.state != "not_computable" for c in screen),
    )
