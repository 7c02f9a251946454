"""chainwatch: allied supply-chain intelligence and early warning.

The public Python API lives in :mod:`chainwatch.api_python` and is re-exported here.
"""

from __future__ import annotations

__version__ = "0.1.0"
