"""Load the bundled data set (Parquet shipped in the package) into a store."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from chainwatch import schema
from chainwatch.store.duckdb_store import Store


def bundle_directory() -> Path:
    return Path(str(resources.files("chainwatch").joinpath("data")))


def load_bundle(store: Store, directory: Path | None = None) -> dict[str, int]:
    """Replace the store's tables with the bundled data set; atomic like any load."""
    directory = directory or bundle_directory()
    counts: dict[str, int] = {}
    with store.writing() as con:
        for name in schema.tables():
            path = directory / f"{name}.parquet"
            if not path.exists():
                continue
            columns = ", ".join(schema.table(name).column_names)
            con.execute(f"DELETE FROM {name}")
            con.execute(
                f"INSERT INTO {name} ({columns}) SELECT {columns} FROM read_parquet(?)", [str(path)]
            )
            counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return counts
