"""Running the SQL metric definitions against the store for one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from chainwatch.metrics import sql


@dataclass
class TradeFrames:
    """Trade aggregates for the requested perspectives, years and scopes."""

    concentration: pd.DataFrame
    partner_imports: pd.DataFrame
    exports: pd.DataFrame
    internal_imports: pd.DataFrame
    world_exports: pd.DataFrame
    covered: set[str]
    """Scope keys with at least one loaded flow in the years read (others have no trade data)."""


def register_relations(
    con: Any, members: pd.DataFrame, bloc: pd.DataFrame, scope: pd.DataFrame, years: list[int]
) -> None:
    """Register ``flows``, ``members``, ``bloc`` and ``scope``, the relations the SQL reads."""
    relations = {
        "members": members,
        "bloc": bloc,
        "scope": scope[["hs6", "hs_revision", "scope_key"]].drop_duplicates(),
    }
    for name, frame in relations.items():
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")
    listed = ", ".join(str(int(year)) for year in years)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM trade_flow WHERE year IN ({listed})"
    )


def read_trade_frames(con: Any) -> TradeFrames:
    def frame(query: str) -> pd.DataFrame:
        result: pd.DataFrame = con.execute(query).df()
        return result

    return TradeFrames(
        concentration=frame(sql.IMPORT_CONCENTRATION),
        partner_imports=frame(sql.PARTNER_IMPORTS),
        exports=frame(
            f"SELECT perspective, year, scope_key, sum(value_usd) AS value_usd, "
            f"sum(quantity_t) AS quantity_t FROM ({sql.PARTNER_EXPORTS}) AS e "
            "GROUP BY perspective, year, scope_key"
        ),
        internal_imports=frame(sql.INTERNAL_IMPORTS),
        world_exports=frame(sql.WORLD_EXPORT_CONCENTRATION),
        covered={
            row[0]
            for row in con.execute(
                "SELECT DISTINCT s.scope_key FROM flows f JOIN scope s "
                "ON s.hs6 = f.hs6 AND s.hs_revision = f.hs_revision"
            ).fetchall()
        },
    )


def trade_vintages(con: Any) -> str:
    rows = con.execute("SELECT DISTINCT source || ' ' || vintage FROM flows ORDER BY 1").fetchall()
    return "; ".join(row[0] for row in rows)
