"""Production concentration, reliance, EU CRM supply risk and GeoPolRisk on a SYNTHETIC store.

All production figures, WGI estimates, restriction events and trade flows below are synthetic,
chosen so that every metric can be worked out by hand (see the comments). Only the country
table is real.

The synthetic world of 2023 (cobalt, mine stage, HS6 260500, tonnes):

    production  COD 700, AUS 100, CAN 50, CHN 50, other 100, world 1 000
    shares      COD 0.7, AUS 0.1, CAN 0.05, CHN 0.05 (named producers; "other" is left out)
    WGI 2022    mean of six estimates -> WGI_scaled = (2.5 - mean) * 2; pv -> g = (2.5 - pv) / 5
                COD mean -1.5 -> 8.0, pv -2.0 -> g 0.9
                AUS mean  1.5 -> 2.0, pv  1.0 -> g 0.3
                CAN mean  1.0 -> 3.0, pv  0.5 -> g 0.4
                CHN mean -0.5 -> 6.0, pv -0.5 -> g 0.6
    t           CAN 0.8 (the perspective), CHN 1.5 (export ban 2023), COD 1.1 (export licensing
                2022-06 to 2024-12), AUS 1.0 (its ban concerns lithium only)
    trade       COD -> CAN 60 t (600 000 USD), CHN -> CAN 20 t (200 000), AUS -> CAN 20 t
                (300 000); CAN -> USA 10 t (100 000)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chainwatch.metrics import inputs
from chainwatch.metrics.service import calc_metrics
from chainwatch.store import Store
from chainwatch.store.relations import open_relations
from tests.metrics.synthetic import (
    SOURCE,
    YEAR,
    build_store,
    detail,
    flow,
    group_rows,
    material_rows,
    merge,
    metric,
)

approx = pytest.approx

WGI_2022 = {
    "COD": {"va": -1.5, "pv": -2.0, "ge": -1.5, "rq": -1.5, "rl": -1.5, "cc": -1.0},  # mean -1.5
    "AUS": {"va": 1.5, "pv": 1.0, "ge": 1.5, "rq": 1.5, "rl": 1.5, "cc": 2.0},  # mean 1.5
    "CAN": {"va": 1.0, "pv": 0.5, "ge": 1.0, "rq": 1.0, "rl": 1.0, "cc": 1.5},  # mean 1.0
    "CHN": {"va": -1.5, "pv": -0.5, "ge": 0.5, "rq": -0.5, "rl": -0.5, "cc": -0.5},  # mean -0.5
    "USA": {"va": 1.0, "pv": 0.0, "ge": 1.0, "rq": 1.0, "rl": 1.0, "cc": 2.0},  # mean 1.0
}
# A later WGI year than the metric year: it must not be used for 2023.
WGI_2024_DECOY = {"CHN": dict.fromkeys(("va", "pv", "ge", "rq", "rl", "cc"), -2.5)}

# --- hand-computed expectations (perspective CAN) --------------------------------------------
PRODUCTION_HHI = 0.49 + 0.01 + 0.0025 + 0.0025  # 0.505
GOVERNANCE_HHI = 0.49 * 8.0 + 0.01 * 2.0 + 0.0025 * 3.0 + 0.0025 * 6.0  # 3.9625
# sum s^2 * WGI_scaled * t: 0.49*8*1.1 + 0.01*2*1 + 0.0025*3*0.8 + 0.0025*6*1.5 = 4.3605
GLOBAL_HHI_WGI_T = 0.49 * 8.0 * 1.1 + 0.01 * 2.0 * 1.0 + 0.0025 * 3.0 * 0.8 + 0.0025 * 6.0 * 1.5
# sourcing = CAN production 50 + imports COD 60, CHN 20, AUS 20 (150 t):
# (1/3)^2*3*0.8 + 0.4^2*8*1.1 + (2/15)^2*6*1.5 + (2/15)^2*2*1 = 420.8/225 = 1.870222
SOURCING_HHI_WGI_T = (
    (1 / 3) ** 2 * 3.0 * 0.8 + 0.4**2 * 8.0 * 1.1 + (2 / 15) ** 2 * 6.0 * 1.5 + (2 / 15) ** 2 * 2.0
)
RELIANCE_CAN = (100 - 10) / (50 + 100 - 10)  # 9/14 = 0.642857
EOL = 0.2
# [4.3605 * IR/2 + 1.870222 * (1 - IR/2)] * (1 - 0.2) = 2.136535
SUPPLY_RISK_CAN = (
    GLOBAL_HHI_WGI_T * RELIANCE_CAN / 2 + SOURCING_HHI_WGI_T * (1 - RELIANCE_CAN / 2)
) * (1 - EOL)
# sum g f = 0.9*60 + 0.6*20 + 0.3*20 = 72; GeoPolRisk = 0.505 * 72 / (50 + 100) = 0.2424
GEOPOLRISK = PRODUCTION_HHI * (0.9 * 60 + 0.6 * 20 + 0.3 * 20) / (50 + 100)
# average import price 1 100 000 USD / 100 000 kg = 11 USD/kg; CF = 0.2424 * 11 = 2.6664
GEOPOLRISK_CF = GEOPOLRISK * 1_100_000 / 100_000


def _production(country: str, quantity: float, material: str = "cobalt") -> dict[str, Any]:
    return {
        "year": YEAR,
        "country_iso3": country,
        "material": material,
        "stage": "mine",
        "measure": "production",
        "product_type": f"Mine production, contained {material} (synthetic)",
        "quantity": quantity,
        "unit": "t",
        "estimated": False,
        "source": SOURCE,
        "vintage": "S1",
    }


def _governance(year: int, table: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    return [
        {
            "year": year,
            "country_iso3": country,
            "indicator": indicator,
            "estimate": estimate,
            "source": SOURCE,
            "vintage": "S1",
        }
        for country, estimates in table.items()
        for indicator, estimate in estimates.items()
    ]


def _event(
    event_id: str,
    country: str,
    measure: str,
    start: str | None,
    end: str | None,
    materials: str,
    hs6_codes: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "country_iso3": country,
        "measure_type": measure,
        "effective_date": start,
        "end_date": end,
        "materials": materials,
        "hs6_codes": hs6_codes,
        "target_scope": "all destinations",
        "confidence": "high",
        "verify_status": "synthetic",
    }


EVENTS = [
    _event("S-CHN", "CHN", "export_ban", "2023-01-01", "2023-12-31", "cobalt"),  # t 1.5
    _event("S-COD", "COD", "export_licensing", "2022-06-01", "2024-12-31", "cobalt ores"),  # 1.1
    _event("S-COD-T", "COD", "technology_export_ban", "2020-01-01", "2025-01-01", "cobalt tech"),
    _event("S-CHN-OLD", "CHN", "export_suspension", "2015-01-01", "2016-12-31", "cobalt"),  # over
    _event("S-AUS", "AUS", "export_ban", "2020-01-01", "2030-01-01", "lithium", "253090"),
    _event("S-ZAF", "ZAF", "export_ban", "2020-01-01", "2030-01-01", "platinum group metals"),
]


def _tables(
    events: list[dict[str, Any]] = EVENTS, wgi: dict[str, dict[str, float]] = WGI_2022
) -> dict[str, list[Any]]:
    return merge(
        material_rows(eol_rir=EOL),
        # lithium: production but no trade loaded for its HS6 code
        material_rows("lithium", "253090", "mine", eol_rir=0.0),
        group_rows({"NA": ["CAN", "USA"]}),
        {
            "production": [
                _production("COD", 700),
                _production("AUS", 100),
                _production("CAN", 50),
                _production("CHN", 50),
                _production("OTH", 100),
                _production("WLD", 1000),
                _production("AUS", 70, "lithium"),
                _production("CHL", 20, "lithium"),
                _production("CAN", 10, "lithium"),
                _production("WLD", 100, "lithium"),
            ],
            "governance": _governance(2022, wgi) + _governance(2024, WGI_2024_DECOY),
            "export_restriction_event": events,
            "trade_flow": [
                flow("COD", "CAN", 600_000, 60),
                flow("CHN", "CAN", 200_000, 20),
                flow("AUS", "CAN", 300_000, 20),
                flow("CAN", "USA", 100_000, 10),
            ],
        },
    )


@pytest.fixture(scope="module")
def risk_store(country_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_store(country_template, tmp_path_factory.mktemp("supply"), _tables())


def _cobalt(store: Store, perspective: str) -> Any:
    return calc_metrics(store, perspective, YEAR, material="cobalt", bloc="NA")


def test_production_concentration(risk_store: Store) -> None:
    frame = _cobalt(risk_store, "CAN")
    assert metric(frame, "production_hhi") == approx(0.505)
    assert metric(frame, "production_top1_share") == approx(0.7)
    assert detail(frame, "production_top1_share") == "COD"
    assert metric(frame, "production_top3_share") == approx(0.85)  # 0.7 + 0.1 + 0.05
    assert metric(frame, "domestic_production") == approx(50)
    assert metric(frame, "governance_weighted_hhi") == approx(GOVERNANCE_HHI)
    assert approx(3.9625) == GOVERNANCE_HHI


def test_import_reliance_and_trade(risk_store: Store) -> None:
    frame = _cobalt(risk_store, "CAN")
    assert metric(frame, "imports_quantity_t") == approx(100)
    assert metric(frame, "exports_quantity_t") == approx(10)
    assert metric(frame, "import_reliance") == approx(9 / 14)
    # value basis: COD 6/11, AUS 3/11, CHN 2/11 -> (36 + 9 + 4) / 121
    assert metric(frame, "import_partner_hhi") == approx(49 / 121)


def test_eu_supply_risk(risk_store: Store) -> None:
    frame = _cobalt(risk_store, "CAN")
    assert approx(4.3605) == GLOBAL_HHI_WGI_T
    assert approx(420.8 / 225) == SOURCING_HHI_WGI_T
    assert approx(2.136535, abs=1e-6) == SUPPLY_RISK_CAN
    assert metric(frame, "eu_supply_risk_global_hhi_wgi_t") == approx(GLOBAL_HHI_WGI_T)
    assert metric(frame, "eu_supply_risk_sourcing_hhi_wgi_t") == approx(SOURCING_HHI_WGI_T)
    assert metric(frame, "eu_supply_risk") == approx(SUPPLY_RISK_CAN)
    assert "SI_SR unknown" in str(detail(frame, "eu_supply_risk"))


def test_geopolrisk(risk_store: Store) -> None:
    frame = _cobalt(risk_store, "CAN")
    assert approx(0.2424) == GEOPOLRISK
    assert approx(2.6664) == GEOPOLRISK_CF
    assert metric(frame, "geopolrisk_score") == approx(GEOPOLRISK)
    assert metric(frame, "geopolrisk_cf") == approx(GEOPOLRISK_CF)


def test_group_perspective_members_get_member_factor(risk_store: Store) -> None:
    # NA = {CAN, USA}: CAN -> USA is internal, so X = 0 and IR = 100 / (50 + 100) = 2/3.
    # Global and sourcing HHIs are those of CAN (USA neither produces nor supplies).
    frame = _cobalt(risk_store, "NA")
    assert metric(frame, "exports_quantity_t") == 0.0
    assert metric(frame, "import_reliance") == approx(2 / 3)
    assert metric(frame, "eu_supply_risk_global_hhi_wgi_t") == approx(GLOBAL_HHI_WGI_T)
    assert metric(frame, "eu_supply_risk_sourcing_hhi_wgi_t") == approx(SOURCING_HHI_WGI_T)
    # [4.3605 / 3 + 1.870222 * 2/3] * 0.8 = 2.160252
    expected = (GLOBAL_HHI_WGI_T / 3 + SOURCING_HHI_WGI_T * 2 / 3) * (1 - EOL)
    assert metric(frame, "eu_supply_risk") == approx(expected)
    assert expected == approx(2.160252, abs=1e-6)
    assert metric(frame, "geopolrisk_score") == approx(GEOPOLRISK)


def test_incomplete_governance_is_neutral(country_template: Path, tmp_path: Path) -> None:
    # CHN with five of the six WGI estimates in 2022 (and the 2024 decoy, too late) gets the
    # neutral WGI_scaled 5: governance HHI 0.49*8 + 0.01*2 + 0.0025*3 + 0.0025*5 = 3.96.
    # GeoPolRisk needs political stability only, which CHN has (pv -0.5 -> g 0.6), so its
    # score is unchanged (issue 11: read_governance no longer requires all six for g):
    # 0.505 * (0.9*60 + 0.6*20 + 0.3*20) / 150
    wgi = {country: dict(values) for country, values in WGI_2022.items()}
    del wgi["CHN"]["cc"]
    store = build_store(country_template, tmp_path, _tables(wgi=wgi))
    frame = _cobalt(store, "CAN")
    assert metric(frame, "governance_weighted_hhi") == approx(3.96)
    assert metric(frame, "geopolrisk_score") == approx(GEOPOLRISK)


def test_missing_political_stability_is_neutral(country_template: Path, tmp_path: Path) -> None:
    # CHN without its pv estimate: g 0.5 (neutral) and WGI_scaled neutral 5 too (five of six)
    # GeoPolRisk 0.505 * (0.9*60 + 0.5*20 + 0.3*20) / 150 = 0.505 * 70 / 150
    wgi = {country: dict(values) for country, values in WGI_2022.items()}
    del wgi["CHN"]["pv"]
    store = build_store(country_template, tmp_path, _tables(wgi=wgi))
    frame = _cobalt(store, "CAN")
    assert metric(frame, "governance_weighted_hhi") == approx(3.96)
    assert metric(frame, "geopolrisk_score") == approx(0.505 * 70 / 150)


def test_restriction_events_touching_a_material(risk_store: Store) -> None:
    with open_relations(risk_store) as relations:
        cobalt = inputs.read_restrictions(relations, "cobalt", ["260500"])
        lithium = inputs.read_restrictions(relations, "lithium", ["253090"])
    assert set(cobalt["event_id"]) == {"S-CHN", "S-COD", "S-COD-T", "S-CHN-OLD"}
    assert set(lithium["event_id"]) == {"S-AUS"}
    assert inputs.restriction_factors()["export_ban"] == 1.5
    assert inputs.restriction_factors()["export_licensing"] == 1.1
    assert inputs.restriction_factors()["technology_export_ban"] == 1.0


def test_restriction_material_match_is_by_word(risk_store: Store) -> None:
    with open_relations(risk_store) as relations:
        tin = inputs.read_restrictions(relations, "tin", ["260900"])
    assert tin.empty


def test_production_without_trade_data(risk_store: Store) -> None:
    # lithium: AUS 70, CHL 20, CAN 10 of 100 -> HHI 0.49 + 0.04 + 0.01 = 0.54; no trade loaded
    frame = calc_metrics(risk_store, "CAN", YEAR, bloc="NA")
    assert metric(frame, "production_hhi", "lithium") == approx(0.54)
    assert detail(frame, "production_top1_share", "lithium") == "AUS"
    # CHL has no WGI: neutral 5. 0.49*2 + 0.04*5 + 0.01*3 = 1.21
    assert metric(frame, "governance_weighted_hhi", "lithium") == approx(1.21)
    assert metric(frame, "imports_value_usd", "lithium") is None
    assert "no trade data loaded" in str(detail(frame, "imports_value_usd", "lithium"))
    assert metric(frame, "import_reliance", "lithium") is None
    # issue 11: the JRC fallback scores a stage without trade on global supply alone,
    # SR = HHI_WGI,t(GS) * (1 - EoL) with t = 1 (no restriction touches lithium in 2023 but
    # AUS's lithium ban: 1.5) and CAN 0.8:
    # 0.49*2*1.5 + 0.04*5*1 + 0.01*3*0.8 = 1.494; EoL unknown -> 0
    risk = metric(frame, "eu_supply_risk", "lithium")
    assert detail(frame, "eu_supply_risk", "lithium").startswith("fallback: global supply only")
    assert metric(frame, "eu_supply_risk_sourcing_term", "lithium") is None
    assert risk == approx(metric(frame, "eu_supply_risk_global_hhi_wgi_t", "lithium"))


def test_geopolrisk_unknown_without_trade_data(risk_store: Store) -> None:
    frame = calc_metrics(risk_store, "CAN", YEAR, bloc="NA")
    rows = frame[(frame["metric"] == "geopolrisk_score") & (frame["material"] == "lithium")]
    assert rows.empty or rows["value"].isna().all()


def test_request_without_any_trend_emits_no_warning(risk_store: Store) -> None:
    # lithium alone: no trade and one production year, so every 5-year trend is None
    frame = calc_metrics(risk_store, "CAN", YEAR, material="lithium", bloc="NA")
    assert frame[frame["metric"].str.endswith("_trend_5y")]["value"].isna().all()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(
            "2022-06-01",
            None,
            id="open-ended",
        ),
        pytest.param(
            None,
            "2024-12-31",
            id="no-start",
        ),
        pytest.param("2022-06-01", "2024-12-31", id="closed"),
    ],
)
def test_restriction_dates(
    country_template: Path, tmp_path: Path, start: str | None, end: str | None
) -> None:
    # COD's export licensing in force in 2023 gives t = 1.1 whatever the form of its dates
    events = [e for e in EVENTS if e["event_id"] != "S-COD"]
    events.append(_event("S-COD", "COD", "export_licensing", start, end, "cobalt ores"))
    store = build_store(country_template, tmp_path, _tables(events=events))
    frame = _cobalt(store, "CAN")
    assert metric(frame, "eu_supply_risk_global_hhi_wgi_t") == approx(GLOBAL_HHI_WGI_T)
