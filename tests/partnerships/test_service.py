"""Texts in the app database (SQLite and PostgreSQL), the service, and the coverage view.

The example texts are the real seed announcements; the perspective data are the bundled store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from chainwatch.errors import InputError, QueryError
from chainwatch.partnerships.coverage import calc_coverage
from chainwatch.partnerships.service import (
    add_text_files,
    calc_partnership_coverage,
    filter_partnerships,
    find_partnership,
    read_partnerships,
)
from chainwatch.store.app_state import AppState
from chainwatch.store.text_store import delete_text, read_texts
from tests.api.support import bundled_store
from tests.watch.test_state import BACKENDS, app_database

EXAMPLES = Path(__file__).parents[2] / "examples" / "partnership_texts"
FILES = sorted(EXAMPLES.glob("*.txt"))


@pytest.fixture(params=BACKENDS)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppState]:
    with app_database(request.param, tmp_path) as url, AppState(url) as opened:
        yield opened


def test_texts_are_stored_once_and_read_back(state: AppState) -> None:
    added = add_text_files(state, FILES)
    assert [a.text.added_now for a in added] == [True, True]
    assert added[0].instruments == ("EU-Canada Digital Partnership", "Digital Dialogue")
    again = add_text_files(state, FILES)  # same content: recognised, not stored twice
    assert [a.text.added_now for a in again] == [False, False]
    stored = read_texts(state)
    assert [t.name for t in stored] == [f.name for f in FILES]
    assert stored[0].content == FILES[0].read_text(encoding="utf-8")
    assert len(read_partnerships(state)) == 5


def test_one_bad_file_stores_nothing(state: AppState, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Canada and the EU\n\xff\xfe launched")
    with pytest.raises(InputError, match=r"bad.txt, row 2: byte 0xff at column 1"):
        add_text_files(state, [*FILES, bad])
    assert read_texts(state) == []


def test_furniture_only_file_is_refused(state: AppState, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><nav>Home</nav><p>Share this page</p></body></html>")
    with pytest.raises(InputError, match="no text left once page furniture is removed"):
        add_text_files(state, [page])


def test_removing_a_text_removes_the_records_only_it_supports(state: AppState) -> None:
    added = add_text_files(state, FILES)
    delete_text(state, added[1].text.id)  # the Industrial Policy Dialogue text
    names = {r.name for r in read_partnerships(state)}
    assert names == {"EU-Canada Digital Partnership", "Digital Dialogue"}
    with pytest.raises(QueryError, match="no text with id"):
        delete_text(state, added[1].text.id)


def test_filters_and_lookup(state: AppState) -> None:
    add_text_files(state, FILES)
    records = read_partnerships(state)
    assert [r.name for r in filter_partnerships(records, theme="critical_minerals")] == [
        "Industrial Policy Dialogue"
    ]
    assert len(filter_partnerships(records, party="can")) == 5
    assert filter_partnerships(records, party="USA") == []
    # cobalt is named nowhere; the critical-minerals and defence themes reach it
    assert [r.name for r in filter_partnerships(records, material="cobalt")] == [
        "Industrial Policy Dialogue",
        "Security and Defence Partnership",
    ]
    assert [r.name for r in filter_partnerships(records, material="semiconductors")] == [
        "EU-Canada Digital Partnership"
    ]
    assert find_partnership(records, records[0].id) is records[0]
    with pytest.raises(QueryError, match="no partnership with id 'x'"):
        find_partnership(records, "x")


def _exposures(*materials: str) -> pd.DataFrame:
    """SYNTHETIC risk rows: only the columns the coverage view reads."""
    return pd.DataFrame({
        "rank": range(1, len(materials) + 1), "material": list(materials),
        "riskiest_stage": "mine", "eu_supply_risk": 1.0, "import_reliance": 1.0,
        "outside_bloc_share": 0.5, "criteria": "",
    })  # fmt: skip


def test_coverage_named_theme_none(state: AppState) -> None:
    add_text_files(state, FILES)
    records = read_partnerships(state)
    themes = {"critical_minerals": ["cobalt", "lithium"], "semiconductors": ["semiconductors"]}
    members = {"EU27": {"DEU", "FRA"}}
    frame = calc_coverage(_exposures("semiconductors", "cobalt", "asbestos"), records,
                          {"CAN"}, members, themes)  # fmt: skip
    assert list(frame["coverage"]) == ["named", "theme", "none"]
    assert frame.loc[1, "partnership_names"] == "Industrial Policy Dialogue"
    assert frame.loc[1, "via_themes"] == "critical_minerals"
    # a perspective that no party is, or contains, is covered by nothing
    other = calc_coverage(_exposures("cobalt"), records, {"JPN"}, members, themes)
    assert list(other["coverage"]) == ["none"]
    # the EU party concerns a member state's perspective
    german = calc_coverage(_exposures("cobalt"), records, {"DEU"}, members, themes)
    assert list(german["coverage"]) == ["theme"]


@pytest.mark.slow
def test_coverage_on_the_bundled_store(state: AppState) -> None:
    add_text_files(state, FILES)
    frame = calc_partnership_coverage(bundled_store(), read_partnerships(state), "CAN", 2023, 15)
    assert len(frame) == 15
    assert list(frame["rank"]) == list(range(1, 16))
    assert {"theme", "none"} <= set(frame["coverage"])


def test_python_api(tmp_path: Path) -> None:
    import chainwatch

    store = tmp_path / "chainwatch.duckdb"
    added = chainwatch.add_texts(FILES, store=store)
    assert list(added["added"]) == [True, True]
    frame = chainwatch.partnership_records(party="EU27", store=store)
    assert len(frame) == 5 and set(frame["instrument"]) == {"partnership", "dialogue"}
