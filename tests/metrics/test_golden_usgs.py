"""Golden test on real data: production top-1 shares of 2023 against USGS MCS2024 table T5.

T5 ("Critical minerals salient statistics") gives, per critical mineral, the leading producing
country and its percentage of world production for 2023 (estimated). chainwatch computes
``production_top1_share`` (detail = the leader's ISO3) from the bundled USGS world tables.
Both must agree within 1 percentage point, with the same leader, for every material where both
exist; the full comparison is kept in ``golden/usgs_t5_top1_2023.csv`` so that a change in a
published figure (or in the computation) is caught.

Set ``CHAINWATCH_UPDATE_GOLDEN=1`` to rewrite the golden file after a reviewed change.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from chainwatch.ingest.countries import bundled_resolver
from chainwatch.ingest.usgs_mcs import parse_usgs_salient_critical
from chainwatch.metrics.service import calc_metrics
from chainwatch.store import Store
from tests.conftest import FIXTURES, SHARED_DATA

pytestmark = pytest.mark.slow

T5_NAME = "MCS2024_T5_Critical_Minerals_Salient.csv"
T5_SHARED = SHARED_DATA / "usgs_mcs" / "mcs2024" / "industry_trends" / T5_NAME
T5 = T5_SHARED if T5_SHARED.exists() else FIXTURES / "usgs_mcs" / T5_NAME
GOLDEN = Path(__file__).parent / "golden" / "usgs_t5_top1_2023.csv"
YEAR = 2023
TOLERANCE_PP = 1.0

# The stage each T5 row measures (from the T5 notes and the MCS commodity pages): mine output
# unless T5 says refinery/plant/smelter production or names a metal.
T5_STAGE = {
    "Aluminum (bauxite)": "mine",
    "Antimony": "mine",
    "Arsenic": "refinery",  # plant production of arsenic trioxide
    "Barite": "mine",
    "Beryllium": "mine",
    "Bismuth": "refinery",  # T5: "Refinery production."
    "Chromium": "mine",
    "Cobalt": "mine",
    "Fluorspar": "mine",
    "Gallium": "refinery",  # primary (low-purity) gallium production
    "Graphite (natural)": "mine",
    "Indium": "refinery",  # T5: "Refinery production."
    "Lithium": "mine",
    "Magnesium": "refinery",  # magnesium metal smelter production
    "Manganese": "mine",
    "Nickel": "mine",
    "Niobium": "mine",
    "Palladium": "mine",
    "Platinum": "mine",
    "Rare earths (compounds and metals)": "mine",
    "Tantalum": "mine",
    "Tellurium": "refinery",  # T5: "Refinery production."
    "Tin": "mine",
    "Titanium (metal)": "refinery",  # titanium sponge metal
    "Tungsten": "mine",
    "Vanadium": "mine",
    "Zirconium (ores and concentrates)": "mine",
}

# T5 rows that give no leading share for 2023 (NA): nothing to compare.
T5_WITHOUT_FIGURE = {"Germanium", "Scandium", "Yttrium", "Zinc"}

# Materials where both exist but genuinely disagree (> 1 pp or another leader), with the
# reason. None today: every material chainwatch computes agrees with T5.
KNOWN_DIFFERENCES: dict[str, str] = {}

# T5 gives a figure but chainwatch computes no production_top1_share at T5's stage: production
# metrics are computed only for a (material, stage) that has an HS6 code in material_product,
# and for these the bundled mapping has none at that stage (the production rows are there).
NOT_COMPUTED = {
    # Production-only stages are scored since issue 11 (a code-less scope per production
    # stage): beryllium, niobium, palladium, platinum, rare earths, tantalum, titanium and
    # vanadium moved from here to the compared rows.
    "indium": "no HS6 code mapped to indium at all",
    "magnesium": "no HS6 code mapped to magnesium at all",
}

COLUMNS = [
    "material",
    "critical_mineral",
    "stage",
    "usgs_leader",
    "usgs_share_pct",
    "chainwatch_leader",
    "chainwatch_share_pct",
    "status",
]


@pytest.fixture(scope="module")
def t5() -> pd.DataFrame:
    table = parse_usgs_salient_critical(T5, bundled_resolver()).to_pandas()
    assert set(table["year"]) == {YEAR}
    return table


@pytest.fixture(scope="module")
def comparison(bundled_store: Store, t5: pd.DataFrame) -> pd.DataFrame:
    metrics = calc_metrics(bundled_store, "USA", YEAR)
    top1 = metrics[metrics["metric"] == "production_top1_share"]
    rows = []
    for _, usgs in t5.iterrows():
        if pd.isna(usgs["leading_share_percent"]) or usgs["leading_country_iso3"] is None:
            continue
        stage = T5_STAGE[usgs["critical_mineral"]]
        ours = top1[(top1["material"] == usgs["material"]) & (top1["stage"] == stage)]
        assert len(ours) <= 1
        share = float(ours["value"].iloc[0]) * 100 if len(ours) else None
        leader = str(ours["detail"].iloc[0]) if len(ours) else None
        if share is None:
            status = "not_computed"
        elif (
            abs(share - usgs["leading_share_percent"]) <= TOLERANCE_PP
            and leader == usgs["leading_country_iso3"]
        ):
            status = "agree"
        else:
            status = "differ"
        rows.append(
            {
                "material": usgs["material"],
                "critical_mineral": usgs["critical_mineral"],
                "stage": stage,
                "usgs_leader": usgs["leading_country_iso3"],
                "usgs_share_pct": float(usgs["leading_share_percent"]),
                "chainwatch_leader": leader,
                "chainwatch_share_pct": share,
                "status": status,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("material").reset_index(drop=True)


def _csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in frame.to_dict("records"):
        ours = record["chainwatch_share_pct"]
        record["usgs_share_pct"] = f"{record['usgs_share_pct']:g}"
        record["chainwatch_share_pct"] = "" if ours is None or pd.isna(ours) else f"{ours:.4f}"
        record["chainwatch_leader"] = record["chainwatch_leader"] or ""
        writer.writerow([record[name] for name in COLUMNS])
    return buffer.getvalue()


def test_every_t5_row_is_classified(t5: pd.DataFrame) -> None:
    assert set(t5["critical_mineral"]) == set(T5_STAGE) | T5_WITHOUT_FIGURE
    without = t5[t5["leading_share_percent"].isna() | t5["leading_country_iso3"].isna()]
    assert set(without["critical_mineral"]) == T5_WITHOUT_FIGURE
    assert t5["material"].notna().all()


def test_top1_share_agrees_with_usgs_t5(comparison: pd.DataFrame) -> None:
    differ = comparison[comparison["status"] == "differ"]
    # exact: a listed difference that vanishes fails too
    assert set(differ["material"]) == set(KNOWN_DIFFERENCES), differ.to_string()
    computed = comparison[comparison["status"] != "not_computed"]
    assert len(computed) >= 15
    for _, row in computed[computed["status"] == "agree"].iterrows():
        assert abs(row["chainwatch_share_pct"] - row["usgs_share_pct"]) <= TOLERANCE_PP
        assert row["chainwatch_leader"] == row["usgs_leader"]


def test_not_computed_is_exact(comparison: pd.DataFrame) -> None:
    missing = comparison[comparison["status"] == "not_computed"]
    assert set(missing["material"]) == set(NOT_COMPUTED)


def test_matches_golden_file(comparison: pd.DataFrame) -> None:
    text = _csv_text(comparison)
    if os.environ.get("CHAINWATCH_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == text
