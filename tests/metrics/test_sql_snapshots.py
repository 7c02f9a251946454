"""Committed SQL per definition and dialect: a change in the SQL an engine runs shows in review.

The files under ``sql_snapshots/DIALECT/NAME.sql`` are what :func:`for_engine` gives (the
reviewed override where one is registered, else SQLGlot's translation). After an intended
change, rewrite them with ``CHAINWATCH_UPDATE_SNAPSHOTS=1 pytest FILE`` (this file)
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainwatch.metrics import sql
from chainwatch.store import dialects

SNAPSHOTS = Path(__file__).parent / "sql_snapshots"
DIALECTS = ("spark",)
"""Engines whose SQL is a translation (on DuckDB the definition in metrics/sql.py is the SQL
that runs, so a change already shows in review there)."""
DEFINITIONS = {
    name: value
    for name, value in vars(sql).items()
    if name.isupper() and isinstance(value, str)
    and value.lstrip().upper().startswith(("SELECT", "WITH"))
}  # fmt: skip


def _expected_text(name: str, dialect: str) -> str:
    # the same translation the engine runs, laid out on several lines for review
    text = dialects.for_engine(DEFINITIONS[name], dialect, pretty=True)
    return text.strip() + "\n"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_sql_snapshot(name: str, dialect: str) -> None:
    path = SNAPSHOTS / dialect / f"{name}.sql"
    text = _expected_text(name, dialect)
    if os.environ.get("CHAINWATCH_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with CHAINWATCH_UPDATE_SNAPSHOTS=1"
    assert path.read_text(encoding="utf-8") == text, f"{dialect} SQL of {name} changed"


def test_no_stale_snapshots() -> None:
    for dialect in DIALECTS:
        names = {path.stem for path in (SNAPSHOTS / dialect).glob("*.sql")}
        assert names == set(DEFINITIONS), f"{dialect}: stale {sorted(names - set(DEFINITIONS))}"
