"""SYNTHETIC inputs for the monitor's tests: invented countries, codes and series with breaks
injected where the tests expect them. Nothing in this module is real data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainwatch.watch.inputs import WatchInputs

YEARS = list(range(1996, 2016))
DROP_YEAR = 2012
"""SYNTHETIC: the year exporter BBB's shipments of 'alpha' collapse."""
SPIKE_MONTH = "2013-06"
"""SYNTHETIC: the month the ALPHA price jumps by 30 %."""
SOURCE = "SYNTHETIC test data"


def noisy(level: float, count: int, noise: float, seed: int) -> np.ndarray:
    """A flat SYNTHETIC series: ``level`` times (1 + uniform noise in +-``noise``)."""
    rng = np.random.default_rng(seed)
    return level * (1 + rng.uniform(-noise, noise, count))


def synthetic_inputs(drop: float = 0.7, seed: int = 7) -> WatchInputs:
    """SYNTHETIC world: exporters AAA (stable, in the bloc), BBB (falls by ``drop`` from
    DROP_YEAR on), CCC (small); one importer perspective PPP; material 'alpha' at the mine
    stage (codes 111111 and 222222) and 'beta' at the refinery (333333)."""
    exports, imports = [], []
    levels = {"AAA": 1000.0, "BBB": 800.0, "CCC": 50.0}
    for offset, (exporter, level) in enumerate(levels.items()):
        for code, part in (("111111", 0.6), ("222222", 0.4), ("333333", 0.5)):
            series = noisy(level * part, len(YEARS), 0.05, seed + offset * 10 + int(code[0]))
            for year, tonnes in zip(YEARS, series, strict=True):
                if exporter == "BBB" and code != "333333" and year >= DROP_YEAR:
                    tonnes *= 1 - drop
                value = tonnes * 1e5  # SYNTHETIC: 100,000 USD a tonne
                exports.append({"year": year, "exporter_iso3": exporter, "hs6": code,
                                "hs_revision": "HS92", "value_usd": value, "quantity_t": tonnes,
                                "value_without_quantity_usd": 0.0})  # fmt: skip
                imports.append({"perspective": "PPP", "year": year, "exporter_iso3": exporter,
                                "hs6": code, "hs_revision": "HS92", "value_usd": value / 2,
                                "quantity_t": tonnes / 2,
                                "value_without_quantity_usd": 0.0})  # fmt: skip
    scopes = pd.DataFrame({
        "hs6": ["111111", "222222", "333333"], "hs_revision": ["HS92"] * 3,
        "scope_key": ["alpha|mine", "alpha|mine", "beta|refinery"],
        "material": ["alpha", "alpha", "beta"], "stage": ["mine", "mine", "refinery"],
    })  # fmt: skip
    production = pd.DataFrame([
        {"year": year, "country_iso3": country, "material": "alpha", "stage": "mine",
         "product_type": "Mine production", "quantity": quantity, "unit": "t",
         "source": "SYNTHETIC", "vintage": "SYN2015"}
        for year, rows in ((2013, {"AAA": 500.0, "BBB": 300.0, "WLD": 1000.0}),
                           (2014, {"AAA": 400.0, "BBB": 450.0, "WLD": 1000.0}))
        for country, quantity in rows.items()
    ])  # fmt: skip
    months = pd.date_range("1995-01-01", "2015-12-01", freq="MS")
    prices = noisy(100.0, len(months), 0.01, seed)
    prices = np.where(months >= pd.Timestamp(f"{SPIKE_MONTH}-01"), prices * 1.3, prices)
    events = pd.DataFrame([{
        "event_id": "BBB-2012-BAN", "country_iso3": "BBB",
        "announced_date": pd.Timestamp("2011-11-15"), "effective_date": pd.Timestamp("2012-01-01"),
        "end_date": pd.Timestamp("2014-06-30"), "measure_type": "export_ban",
        "materials": "alpha ore", "hs6_codes": "111111", "target_scope": "all destinations",
        "known_date": pd.Timestamp("2011-11-15"), "scope_materials": "alpha",
    }])  # fmt: skip
    return WatchInputs(
        last_year=max(YEARS), perspectives=("PPP",), bloc_id="BLOC",
        exports=pd.DataFrame(exports), imports=pd.DataFrame(imports),
        bloc=pd.DataFrame({"iso3": ["AAA"], "from_year": [0], "to_year": [9999]}),
        scopes=scopes, production=production,
        prices=pd.DataFrame({"month": months, "series": "ALPHA", "value": prices}),
        price_series=pd.DataFrame({"series": ["ALPHA"], "name": ["Alpha (SYNTHETIC)"],
                                   "unit": ["$/t"], "material": ["alpha"]}),
        events=events,
        names={"AAA": "Aland", "BBB": "Bbland", "CCC": "Ccland", "PPP": "Ppland",
               "BLOC": "the bloc", "material:alpha": "Alpha", "material:beta": "Beta"},
        sources={"trade_flow": SOURCE, "production": SOURCE, "price": SOURCE,
                 "export_restriction_event": SOURCE},
    )  # fmt: skip
