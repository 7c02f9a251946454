"""The risk table on the bundled real data: one ranked row per material, criteria = flags."""

from __future__ import annotations

import itertools
import math
import re

import pandas as pd
import pytest

from chainwatch.errors import QueryError
from chainwatch.metrics.risk import EU_CRITICAL_SUPPLY_RISK, FLAG_LABELS, calc_risk_table
from chainwatch.metrics.service import calc_metrics
from chainwatch.store import Store

pytestmark = pytest.mark.slow

YEAR = 2023


@pytest.fixture(scope="module")
def can_table(bundled_store: Store) -> pd.DataFrame:
    return calc_risk_table(bundled_store, "CAN", YEAR)


@pytest.fixture(scope="module")
def can_metrics(bundled_store: Store) -> pd.DataFrame:
    return calc_metrics(bundled_store, "CAN", YEAR)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rank_key(row: pd.Series) -> tuple[float, ...]:
    """Descending order of the table: materials above the materiality threshold first
    (issue 11), then supply risk (missing last), criteria, outside share."""
    risk, outside = row["eu_supply_risk"], row["outside_bloc_share"]
    return (
        0.0 if row["below_materiality"] else 1.0,
        0.0 if _missing(risk) else 1.0,
        0.0 if _missing(risk) else float(risk),
        float(row["criteria_met"]),
        0.0 if _missing(outside) else 1.0,
        0.0 if _missing(outside) else float(outside),
    )


def _check_table(table: pd.DataFrame, perspective: str) -> None:
    assert len(table) > 0
    assert table["material"].is_unique
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert set(table["perspective"]) == {perspective}
    assert set(table["year"]) == {YEAR}
    keys = [_rank_key(row) for _, row in table.iterrows()]
    assert all(a >= b for a, b in itertools.pairwise(keys))
    for _, row in table.iterrows():
        parts = [p for p in str(row["criteria"]).split("; ") if p]
        assert row["criteria_met"] == len(parts)
        risk = row["eu_supply_risk"]
        critical = not _missing(risk) and risk >= EU_CRITICAL_SUPPLY_RISK
        assert ("supply risk >= 1.0" in parts) == critical
        hhi = row["import_partner_hhi"]
        assert any(p.startswith("import HHI > 0.4") for p in parts) == (
            not _missing(hhi) and hhi > 0.4
        )
        if row["dependent"]:
            for label in FLAG_LABELS.values():
                assert any(p.startswith(label) for p in parts)
    provenance = table.attrs["provenance"]
    assert provenance["method_ids"] and provenance["sources"]


def test_can_ranked_rows(can_table: pd.DataFrame, can_metrics: pd.DataFrame) -> None:
    _check_table(can_table, "CAN")
    assert set(can_table["material"]) <= set(can_metrics["material"])
    assert len(can_table) >= 50


def test_can_one_row_per_material(can_table: pd.DataFrame, can_metrics: pd.DataFrame) -> None:
    assert set(can_table["material"]) == set(can_metrics["material"])


def test_can_unknown_imports_are_not_zero(
    can_table: pd.DataFrame, can_metrics: pd.DataFrame
) -> None:
    imports = can_metrics[can_metrics["metric"] == "imports_value_usd"]
    unknown = set(
        imports.groupby("material")["value"]
        .apply(lambda v: v.isna().all())
        .pipe(lambda flags: flags[flags].index)
    )
    assert "gallium" in unknown
    rows = can_table[can_table["material"].isin(unknown)]
    assert rows["imports_value_usd"].isna().all(), rows[["material", "imports_value_usd"]]


def test_can_criteria_match_the_flags(can_table: pd.DataFrame, can_metrics: pd.DataFrame) -> None:
    for _, row in can_table.iterrows():
        parts = [p for p in str(row["criteria"]).split("; ") if p]
        mine = can_metrics[can_metrics["material"] == row["material"]]
        for metric, label in FLAG_LABELS.items():
            fired = sorted(mine.loc[(mine["metric"] == metric) & (mine["value"] > 0), "stage"])
            listed = [p for p in parts if p.startswith(label)]
            if fired:
                assert listed == [f"{label} ({', '.join(fired)})"], row["material"]
            else:
                assert listed == [], row["material"]
        # for a country the screen share is the outside-bloc share
        outside = row["outside_bloc_share"]
        assert any(p.startswith("outside-bloc share > 0.5") for p in parts) == (
            not _missing(outside) and outside > 0.5
        )
        # dependent: the three screen criteria fire at one and the same stage
        dependent = mine[(mine["metric"] == "screen_dependent") & (mine["value"] > 0)]
        assert row["dependent"] == (not dependent.empty)


def test_can_headline_metrics_belong_to_the_riskiest_stage(
    can_table: pd.DataFrame, can_metrics: pd.DataFrame
) -> None:
    for _, row in can_table.iterrows():
        if _missing(row["production_hhi"]):
            continue
        at_stage = can_metrics[
            (can_metrics["material"] == row["material"])
            & (can_metrics["stage"] == row["riskiest_stage"])
            & (can_metrics["metric"] == "production_hhi")
        ]
        assert len(at_stage) == 1, (row["material"], row["riskiest_stage"])
        assert at_stage["value"].iloc[0] == pytest.approx(row["production_hhi"])


@pytest.mark.parametrize("perspective", ["EU27", "ALLIED"])
def test_group_perspectives(bundled_store: Store, perspective: str) -> None:
    table = calc_risk_table(bundled_store, perspective, YEAR)
    _check_table(table, perspective)
    shares = table["outside_bloc_share"].dropna()
    assert ((shares >= 0) & (shares <= 1 + 1e-9)).all()
    if perspective == "ALLIED":
        # the bloc is the perspective: every import it counts comes from outside the bloc
        assert len(shares) > 0
        assert all(share == pytest.approx(1.0) for share in shares)
    criteria = "; ".join(table["criteria"])
    assert re.search(r"\((mine|refinery|intermediate)(, (mine|refinery|intermediate))*\)", criteria)


def test_unknown_perspective(bundled_store: Store) -> None:
    with pytest.raises(QueryError, match="unknown perspective"):
        calc_risk_table(bundled_store, "XYZ", YEAR)
    with pytest.raises(QueryError, match="unknown perspective"):
        calc_risk_table(bundled_store, "CAN", YEAR, bloc="NOT_A_GROUP")
