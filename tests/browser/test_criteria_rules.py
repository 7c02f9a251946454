"""The rule behind every criteria chip (ui.views.criteria), without a browser: a criterion
whose figure is missing is "not computable" with what is missing, never "not met"; "no
criterion met" only where all three screen criteria were computed. The figures below are
SYNTHETIC shapes of the tidy metric rows (values 0/1 flags, fractions), not published data."""

from __future__ import annotations

from typing import Any

from chainwatch.ui.views.criteria import NO_FLOWS, SCREEN_LABEL, row_verdict, stage_verdict

NO_TRADE = "no trade data loaded for HS6 811292, 811299"
COMPUTED = {
    "imports_value_usd": 26.0e6,
    "import_partner_hhi": 0.37,
    "screen_outside_bloc_share_of_total_imports": 0.29,
    "imports_to_exports_ratio": 0.07,
    "screen_concentrated_suppliers": 0.0,
    "screen_outside_bloc_reliance": 0.0,
    "screen_net_importer": 0.0,
    "eu_supply_risk": 0.6,
}


def test_all_computed_and_none_met_may_say_so() -> None:
    verdict = stage_verdict(COMPUTED, {})
    assert verdict.screen_complete and not verdict.met and not verdict.not_computable


def test_a_met_criterion_is_met() -> None:
    verdict = stage_verdict(
        {**COMPUTED, "screen_concentrated_suppliers": 1.0, "eu_supply_risk": 1.4}, {}
    )
    assert [c.key for c in verdict.met] == ["screen_concentrated_suppliers", "eu_supply_risk"]
    assert verdict.screen_complete and verdict.screen_met


def test_no_trade_data_is_not_computable_with_the_reason() -> None:
    figures: dict[str, Any] = {"imports_value_usd": None, "eu_supply_risk": 5.9}
    details = {"imports_value_usd": NO_TRADE, "import_partner_hhi": NO_TRADE}
    verdict = stage_verdict(figures, details)
    assert not verdict.screen_complete
    assert [c.key for c in verdict.met] == ["eu_supply_risk"]
    assert verdict.gaps == [{"labels": [SCREEN_LABEL], "reason": NO_TRADE}]


def test_a_zero_flag_beside_a_missing_figure_is_not_not_met() -> None:
    """No flows in the year: the flag says 0 but the import HHI it judges is missing."""
    figures = {
        **COMPUTED,
        "imports_value_usd": 0.0,
        "import_partner_hhi": None,
        "screen_outside_bloc_share_of_total_imports": None,
        "imports_to_exports_ratio": 0.0,
    }
    verdict = stage_verdict(figures, {})
    assert not verdict.screen_complete
    missing = {c.key for c in verdict.not_computable}
    assert missing == {"screen_concentrated_suppliers", "screen_outside_bloc_reliance"}
    assert {c.reason for c in verdict.not_computable} == {NO_FLOWS}


def test_a_missing_supply_risk_says_what_is_missing() -> None:
    details = {"eu_supply_risk": "not computable: no refinery production series for cobalt"}
    verdict = stage_verdict({**COMPUTED, "eu_supply_risk": None}, details)
    assert verdict.screen_complete, "the screen was computed; only the supply risk was not"
    assert verdict.gaps == [
        {"labels": ["EU supply risk"], "reason": "no refinery production series for cobalt"}
    ]


def test_a_risk_row_without_trade_figures() -> None:
    row = {"criteria": "supply risk >= 1.0", "eu_supply_risk": 5.94, "imports_value_usd": None,
           "import_partner_hhi": None, "outside_bloc_share": None, "missing": ""}  # fmt: skip
    verdict = row_verdict(row, 2023)
    assert not verdict.screen_complete
    assert [c.key for c in verdict.met] == ["eu_supply_risk"]
    assert verdict.gaps == [{"labels": [SCREEN_LABEL], "reason": "no trade figures for 2023"}]


def test_a_risk_row_without_a_score_names_what_is_missing() -> None:
    row = {
        "criteria": "",
        "eu_supply_risk": None,
        "imports_value_usd": 1.0e6,
        "import_partner_hhi": 0.2,
        "outside_bloc_share": 0.3,
        "missing": "refinery: no production series (chainwatch ingest usgs-mcs FILE)",
    }
    verdict = row_verdict(row, 2023)
    assert verdict.screen_complete and not verdict.met
    (gap,) = verdict.gaps
    assert gap["labels"] == ["EU supply risk"] and "chainwatch ingest usgs-mcs" in gap["reason"]
