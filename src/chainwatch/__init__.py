"""chainwatch: allied supply-chain intelligence and early warning.

The public Python API lives in :mod:`chainwatch.python_api` and is re-exported here.
"""

from __future__ import annotations

__version__ = "0.1.0"

from chainwatch.python_api import (
    add_texts,
    build_store,
    dependency_metrics,
    ingest_file,
    list_sources,
    open_store,
    partnership_coverage,
    partnership_records,
    risk_table,
)

__all__ = [
    "add_texts",
    "build_store",
    "dependency_metrics",
    "ingest_file",
    "list_sources",
    "open_store",
    "partnership_coverage",
    "partnership_records",
    "risk_table",
]
