"""``chainwatch texts`` and ``chainwatch partnerships`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "partnership_texts"
FILES = [str(path) for path in sorted(EXAMPLES.glob("*.txt"))]


def _run(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHAINWATCH_STORE": str(store), "COLUMNS": "200"}
    env.pop("CHAINWATCH_APP_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "chainwatch", *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "chainwatch.duckdb"


def test_add_texts_then_list_partnerships(store: Path) -> None:
    added = _run("texts", "add", *FILES, store=store)
    assert added.returncode == 0, added.stderr
    assert "EU-Canada Digital Partnership" in added.stdout
    assert "4 repeated paragraph(s) ignored" in added.stdout
    again = _run("texts", "add", *FILES, "--json", store=store)
    assert [item["added"] for item in json.loads(again.stdout)] == [False, False]
    listed = _run("partnerships", "--format", "json", store=store)
    assert listed.returncode == 0, listed.stderr
    records = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(records) == {
        "EU-Canada Digital Partnership", "Digital Dialogue", "Industrial Policy Dialogue",
        "EU–Canada Strategic Partnership of the Future", "Security and Defence Partnership",
    }  # fmt: skip
    digital = records["EU-Canada Digital Partnership"]
    assert digital["party_names"] == {"CAN": "Canada", "EU27": "European Union"}
    assert digital["dates"][0]["date"] == {"text": "1 February", "year": None, "month": 2,
                                           "day": 1, "relative": False, "iso": None}  # fmt: skip
    csv = _run("partnerships", "--theme", "critical_minerals", "--format", "csv", store=store)
    assert csv.stdout.splitlines()[0].startswith("id,name,instrument,parties,status")
    assert len(csv.stdout.splitlines()) == 2
    shown = _run("partnerships", "show", digital["id"], "--format", "csv", store=store)
    assert len(shown.stdout.splitlines()) == 1 + 13  # header + commitments
    texts = _run("texts", "list", "--format", "json", store=store)
    ids = [t["id"] for t in json.loads(texts.stdout)]
    removed = _run("texts", "remove", ids[0], store=store)
    assert removed.returncode == 0, removed.stderr
    left = json.loads(_run("partnerships", "--format", "json", store=store).stdout)
    assert "EU-Canada Digital Partnership" not in {r["name"] for r in left}


def test_mistakes_are_one_line_and_store_nothing(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"Canada and Japan\nsigned \xe9 an Agreement")
    completed = _run("texts", "add", FILES[0], bad.as_posix(), store=store)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: {bad}, row 2: byte 0xe9 at column 8 is not UTF-8 (save the file as UTF-8)"
    ]
    assert json.loads(_run("texts", "list", "--format", "json", store=store).stdout) == []
    missing = _run("partnerships", "show", "no-such-id", store=store)
    assert missing.returncode == 2
    assert "no partnership with id 'no-such-id'" in missing.stderr
    assert "Traceback" not in missing.stderr + completed.stderr


def test_themes_are_listed(store: Path) -> None:
    completed = _run("partnerships", "themes", "--format", "json", store=store)
    themes = {row["theme"]: row for row in json.loads(completed.stdout)}
    assert "lithium" in themes["batteries_evs"]["materials"]
    assert themes["cyber"]["materials"] is None or themes["cyber"]["materials"] == ""
