"""Read queries the adapters use (sources, reference tables)."""

from __future__ import annotations

import pandas as pd

from chainwatch.store.duckdb_store import Store


def read_sources(store: Store) -> pd.DataFrame:
    """The provenance table: one row per loaded data set."""
    with store.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT source_id, title, publisher, version, licence, licence_class, rows, bundled, "
            "citation, obtained_from, cut, tables FROM source ORDER BY source_id"
        ).df()
    return frame
