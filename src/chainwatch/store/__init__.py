"""The only code that opens databases. DuckDB holds the analytic store."""

from chainwatch.store.duckdb_store import Store, default_store_path

__all__ = ["Store", "default_store_path"]
