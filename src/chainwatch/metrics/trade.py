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


def read_trade_frames(relations: Relations) -> TradeFrames:
    """The trade definitions over the registered ``flows``, ``members``, ``bloc``, ``scope``."""
    engine = relations.engine
    return TradeFrames(
        concentration=engine.frame(sql.IMPORT_CONCENTRATION),
        partner_imports=engine.frame(sql.PARTNER_IMPORTS),
        exports=engine.frame(sql.EXPORT_TOTALS),
        internal_imports=engine.frame(sql.INTERNAL_IMPORTS),
        world_exports=engine.frame(sql.WORLD_EXPORT_CONCENTRATION),
        covered={str(row[0]) for row in engine.rows(sql.COVERED_SCOPES)},
    )
