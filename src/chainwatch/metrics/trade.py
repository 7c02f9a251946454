"""Running the SQL trade definitions on the relations registered for one request."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from chainwatch.metrics import sql
from chainwatch.store.relations import Relations


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
    covered_years: set[tuple[int, str]]
    """(year, scope key) with at least one loaded flow that year: a code that stopped being
    used (HS92 811230 after 2006) has no trade data that year, not zero imports."""


def read_trade_frames(relations: Relations) -> TradeFrames:
    """The trade definitions over the registered ``flows``, ``members``, ``bloc``, ``scope``."""
    engine = relations.engine
    world = engine.frame(sql.WORLD_EXPORT_CONCENTRATION)
    return TradeFrames(
        concentration=engine.frame(sql.IMPORT_CONCENTRATION),
        partner_imports=engine.frame(sql.PARTNER_IMPORTS),
        exports=engine.frame(sql.EXPORT_TOTALS),
        internal_imports=engine.frame(sql.INTERNAL_IMPORTS),
        world_exports=world,
        covered={str(row[0]) for row in engine.rows(sql.COVERED_SCOPES)},
        covered_years={
            (int(y), str(k)) for y, k in zip(world["year"], world["scope_key"], strict=True)
        },
    )
