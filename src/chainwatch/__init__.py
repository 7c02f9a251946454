"""chainwatch: allied supply-chain intelligence and early warning.

The public Python API lives in :mod:`chainwatch.python_api` and is re-exported here, loaded
on first use (PEP 562): ``import chainwatch.metrics.formulas`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The public function ``name`` from :mod:`chainwatch.python_api`, imported on first use."""
    if name in __all__:
        value = getattr(importlib.import_module("chainwatch.python_api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
