"""``assert_metric_tables_equal``: two metric tables hold the same rows, numbers within 1e-9
relative (the parity criterion between engines)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

RELATIVE_TOLERANCE = 1e-9


def _normalised(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(bool)
        elif pd.api.types.is_numeric_dtype(series):
            out[column] = series.astype(float)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[column] = pd.to_datetime(series).dt.tz_localize(None).astype("datetime64[ns]")
        else:
            out[column] = series.map(lambda value: None if _missing(value) else str(value))
    order = [k for k in keys if k in out.columns]
    order += [c for c in out.columns if c not in order and out[c].map(type).nunique() <= 1]
    return out.sort_values(order, na_position="last", kind="stable").reset_index(drop=True)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def assert_metric_tables_equal(
    left: pd.DataFrame, right: pd.DataFrame, keys: Sequence[str] | None = None
) -> None:
    """Same columns, same rows (after sorting by ``keys``, default every non-float column),
    floats equal within 1e-9 relative (NaN equals NaN), everything else exactly."""
    assert sorted(left.columns) == sorted(right.columns), (list(left.columns), list(right.columns))
    right = right[list(left.columns)]
    assert len(left) == len(right), f"{len(left)} rows against {len(right)}"
    if keys is None:
        keys = [c for c in left.columns if not pd.api.types.is_float_dtype(left[c])]
    a, b = _normalised(left, keys), _normalised(right, keys)
    for column in a.columns:
        if pd.api.types.is_float_dtype(a[column]):
            np.testing.assert_allclose(
                a[column].to_numpy(), b[column].to_numpy(), rtol=RELATIVE_TOLERANCE, atol=0.0,
                equal_nan=True, err_msg=f"column {column}",
            )  # fmt: skip
        else:
            assert a[column].tolist() == b[column].tolist(), f"column {column} differs"
