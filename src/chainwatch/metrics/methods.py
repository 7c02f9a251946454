"""Method registry: every metric's id, version, unit and the data it rests on.

Bump a method's version whenever its definition changes; results carry id and version so a
published number can be traced to the exact definition (docs/methods.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    method_id: str
    version: str
    unit: str
    inputs: tuple[str, ...]


_TRADE = ("trade",)
_PRODUCTION = ("production",)
_RISK = ("trade", "production", "governance", "restrictions")

METHODS: dict[str, Method] = {
    "imports_value_usd": Method("trade.imports", "1", "USD", _TRADE),
    "imports_quantity_t": Method("trade.imports", "1", "t", _TRADE),
    "exports_value_usd": Method("trade.exports", "1", "USD", _TRADE),
    "exports_quantity_t": Method("trade.exports", "1", "t", _TRADE),
    "net_imports_value_usd": Method("trade.net_imports", "1", "USD", _TRADE),
    "net_imports_quantity_t": Method("trade.net_imports", "1", "t", _TRADE),
    "import_partner_hhi": Method("concentration.import_partner_hhi", "1", "HHI (0-1)", _TRADE),
    "import_top3_share": Method("concentration.top_k_share", "1", "fraction", _TRADE),
    "outside_bloc_share": Method("dependence.outside_bloc_share", "1", "fraction", _TRADE),
    "world_export_hhi": Method("concentration.world_export_hhi", "1", "HHI (0-1)", _TRADE),
    "imports_to_exports_ratio": Method("dependence.imports_to_exports", "1", "ratio", _TRADE),
    "screen_outside_bloc_share_of_total_imports": Method(
        "eu.dependency_screen", "2021", "fraction", _TRADE
    ),
    "screen_concentrated_suppliers": Method("eu.dependency_screen", "2021", "flag", _TRADE),
    "screen_outside_bloc_reliance": Method("eu.dependency_screen", "2021", "flag", _TRADE),
    "screen_net_importer": Method("eu.dependency_screen", "2021", "flag", _TRADE),
    "screen_dependent": Method("eu.dependency_screen", "2021", "flag", _TRADE),
    "production_hhi": Method("concentration.production_hhi", "1", "HHI (0-1)", _PRODUCTION),
    "production_top1_share": Method("concentration.top_k_share", "1", "fraction", _PRODUCTION),
    "production_top3_share": Method("concentration.top_k_share", "1", "fraction", _PRODUCTION),
    "domestic_production": Method("production.domestic", "1", "see detail", _PRODUCTION),
    "import_reliance": Method("dependence.import_reliance", "1", "fraction",
                              ("trade", "production")),
    "governance_weighted_hhi": Method("concentration.wgi_weighted_hhi", "1", "0-10",
                                      ("production", "governance")),
    "eu_supply_risk": Method("eu_crm.supply_risk", "JRC-2017+fallbacks-1", "SR", _RISK),
    "eu_supply_risk_global_term": Method("eu_crm.supply_risk", "JRC-2017", "SR", _RISK),
    "eu_supply_risk_sourcing_term": Method("eu_crm.supply_risk", "JRC-2017", "SR", _RISK),
    "eu_supply_risk_global_hhi_wgi_t": Method("eu_crm.supply_risk", "JRC-2017", "0-15", _RISK),
    "eu_supply_risk_sourcing_hhi_wgi_t": Method("eu_crm.supply_risk", "JRC-2017", "0-15", _RISK),
    "geopolrisk_score": Method("geopolrisk.score", "geopolrisk-py-2", "score",
                               ("trade", "production", "governance")),
    "geopolrisk_cf": Method("geopolrisk.characterisation_factor", "geopolrisk-py-2", "USD/kg",
                            ("trade", "production", "governance")),
    "geopolrisk_cf_copper_eq": Method("geopolrisk.characterisation_factor", "geopolrisk-py-2",
                                      "kg Cu-eq/kg", ("trade", "production", "governance")),
    "geopolrisk_score_peer_groups": Method("geopolrisk.score", "geopolrisk-py-2-regions",
                                           "score", ("trade", "production", "governance")),
}  # fmt: skip

for _name in ("import_partner_hhi", "outside_bloc_share", "production_hhi",
              "imports_value_usd", "eu_supply_risk"):  # fmt: skip
    METHODS[f"{_name}_trend_5y"] = Method(
        "trend.least_squares_slope_5y",
        "1",
        f"{METHODS[_name].unit} per year",
        METHODS[_name].inputs,
    )
