"""Shared by the hostile-input and fuzz tests: real fixture copies, a small store, "refused".

Every input these tests feed the readers is a real fixture file (tests/fixtures, see each
README) or a SYNTHETIC edit of one that the test makes at run time; the Comtrade fixture is
itself synthetic (tests/fixtures/comtrade/README.md).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainwatch.errors import InputError
from chainwatch.ingest.pipeline import countries_source, ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import bundle_directory
from chainwatch.store.load import load_parsed

FIXTURES = Path(__file__).parents[1] / "fixtures"
BACI_2021 = "BACI_HS92_Y2021_V202401b.csv"
BACI_COUNTRIES = "country_codes_V202401b.csv"
BACI_PRODUCTS = "product_codes_HS92_V202401b.csv"
WGI = "wgidataset_2024update_sample.csv"
WMD = "wmd_production_sample.csv"
COMTRADE = "comtrade_final_CAN_202301-202302_H5_SYNTHETIC.csv"
PINK = "pink_sheet_monthly_prices_sample.csv"
PINK_SERIES = "pink_sheet_series_metadata.csv"
GROUPS = "country_groups.csv"
EVENTS = "export_restriction_events.csv"
USGS_LITHIUM = "mcs2024-lithi_world.csv"


@dataclass(frozen=True)
class Input:
    """One reader's real input: ``kind`` for ``chainwatch ingest``, the files it needs."""

    kind: str
    folder: str
    files: tuple[str, ...]
    main: str | None
    """The file to ingest; None when the input is the folder itself (a BACI release)."""


INPUTS = {
    "baci": Input("baci", "baci/release", (BACI_2021, "BACI_HS92_Y2022_V202401b.csv",
                                           BACI_COUNTRIES, BACI_PRODUCTS), None),
    "wgi": Input("wgi", "wgi", (WGI,), WGI),
    "wmd": Input("wmd", "wmd", (WMD,), WMD),
    "comtrade": Input("comtrade", "comtrade", (COMTRADE,), COMTRADE),
    "pink-sheet": Input("pink-sheet", "pink_sheet", (PINK, PINK_SERIES), PINK),
    "country-groups": Input("country-groups", "curated", (GROUPS,), GROUPS),
    "export-restrictions": Input("export-restrictions", "curated", (EVENTS,), EVENTS),
    "usgs-mcs": Input("usgs-mcs", "usgs_mcs", (USGS_LITHIUM,), USGS_LITHIUM),
}  # fmt: skip


def copy_input(kind: str, target: Path) -> Path:
    """Copy one reader's real fixture files into ``target``; the path to ingest."""
    spec = INPUTS[kind]
    target.mkdir(parents=True, exist_ok=True)
    for name in spec.files:
        shutil.copyfile(FIXTURES / spec.folder / name, target / name)
    return target / spec.main if spec.main else target


def build_template(path: Path) -> Store:
    """A store with the reference tables every reader checks against: the ISO country table
    and the material table of the bundled data set (USGS rows need known materials)."""
    store = Store(path)
    with store.writing() as con:
        load_parsed(con, countries_source())
        columns = "material, display_name, eu_crma_2024, usgs_critical_2022, eol_rir, usgs_mcs_code"
        material = bundle_directory() / "material.parquet"
        con.execute(f"INSERT INTO material SELECT {columns} FROM read_parquet(?)", [str(material)])
    return store


def copy_store(template: Store, directory: Path) -> Store:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / template.path.name
    shutil.copyfile(template.path, target)
    return Store(target)


def state(store: Store) -> tuple[str, list[str]]:
    """The store file's digest and what lies beside it: equal before and after a refused load
    means nothing was committed and nothing was left behind."""
    digest = hashlib.sha256(store.path.read_bytes()).hexdigest()
    beside = sorted(p.name for p in store.path.parent.iterdir() if not p.name.endswith(".lock"))
    return digest, beside


def leftovers(store: Store) -> list[str]:
    """Work copies and scratch directories of a writer (none once a write has ended)."""
    return sorted(
        p.name
        for p in store.path.parent.iterdir()
        if ".loading-" in p.name or ".scratch-" in p.name
    )


def assert_refused(
    store: Store,
    kind: str,
    path: Path,
    names: str | Path,
    match: str,
    row: int | None = None,
    column: str | None = None,
) -> InputError:
    """Ingesting ``path`` raises one InputError line naming ``names`` (and row, column);
    the store is byte for byte what it was, with no work files left."""
    before = state(store)
    with pytest.raises(InputError, match=match) as raised:
        ingest_file(store, kind, path)
    text = str(raised.value)
    assert "\n" not in text and "\r" not in text, text
    assert str(names) in text, text
    if row is not None:
        assert raised.value.row == row, text
        assert f"row {row}" in text
    if column is not None:
        assert raised.value.column == column, text
    assert state(store) == before
    assert leftovers(store) == []
    return raised.value


def edit_text(path: Path, old: str, new: str, count: int = 1) -> None:
    """SYNTHETIC edit of a copied real fixture (UTF-8 text in, UTF-8 text out)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def edit_bytes(path: Path, change: Callable[[bytes], bytes]) -> None:
    """SYNTHETIC edit of a copied real fixture's bytes (encodings, NUL, truncation)."""
    path.write_bytes(change(path.read_bytes()))
