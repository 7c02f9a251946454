"""Issue 12: the malformed inputs an adversarial user tried, one named regression test each.

Every case is a SYNTHETIC edit (made here, at run time) of a real fixture file. A refused file
must give one InputError line naming the file (row and column where there is one) and leave
the store byte for byte as it was, with no work files beside it (``assert_refused``).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainwatch.errors import InputError, StoreError
from chainwatch.ingest import files
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from tests.ingest.support import (
    BACI_2021,
    BACI_COUNTRIES,
    COMTRADE,
    EVENTS,
    GROUPS,
    PINK,
    WGI,
    WMD,
    assert_refused,
    build_template,
    copy_input,
    copy_store,
    edit_bytes,
    edit_text,
    leftovers,
    state,
)

FIELD_LIMIT = csv.field_size_limit()
USGS = "mcs2024-lithi_world.csv"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_template(tmp_path_factory.mktemp("hostile") / "chainwatch.duckdb")


@pytest.fixture
def store(template: Store, tmp_path: Path) -> Store:
    return copy_store(template, tmp_path / "store")


@dataclass(frozen=True)
class Case:
    """A refused input: what the error must name and say."""

    kind: str
    damage: Callable[[Path], Path]
    """Given a fresh directory: write the damaged input there, return the path to ingest."""
    names: str
    match: str
    row: int | None = None
    column: str | None = None


def _baci(file: str, old: str, new: str, count: int = 1) -> Callable[[Path], Path]:
    def damage(directory: Path) -> Path:
        release = copy_input("baci", directory / "release")
        edit_text(release / file, old, new, count)
        return release

    return damage


def _single_baci_file(year_text: str) -> Callable[[Path], Path]:
    """A trade file whose name states no year (``trade.csv``) beside the code tables."""

    def damage(directory: Path) -> Path:
        release = copy_input("baci", directory / "release")
        trade = release / "trade.csv"
        (release / BACI_2021).rename(trade)
        edit_text(trade, "\n2021,32,76,", f"\n{year_text},32,76,")
        return trade

    return damage


def _text(kind: str, old: str, new: str) -> Callable[[Path], Path]:
    def damage(directory: Path) -> Path:
        path = copy_input(kind, directory / kind)
        edit_text(path, old, new)
        return path

    return damage


def _bytes(kind: str, change: Callable[[bytes], bytes], file: str | None = None
           ) -> Callable[[Path], Path]:  # fmt: skip
    def damage(directory: Path) -> Path:
        path = copy_input(kind, directory / kind)
        folder = path if path.is_dir() else path.parent
        edit_bytes(folder / file if file else path, change)
        return path

    return damage


def _latin1(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Re-encode one UTF-8 passage as Latin-1 (``new`` holds its Latin-1 bytes)."""
    return lambda data: data.replace(old, new, 1)


def _utf16(data: bytes) -> bytes:
    return data.decode("utf-8-sig").encode("utf-16")


def _cut_last_line(data: bytes) -> bytes:
    """Cut the file inside its last line, as an interrupted copy or download does."""
    body = data.rstrip(b"\r\n")
    last = body.rindex(b"\n")
    return body[: last + 1 + (len(body) - last) // 2]


def _long_field(kind: str, old: str) -> Callable[[Path], Path]:
    return _text(kind, old, old + "x" * (FIELD_LIMIT + 10))


def _lines(data: bytes) -> int:
    return data.rstrip(b"\r\n").count(b"\n") + 1


CASES: dict[str, Case] = {}


def case(name: str, kind: str, damage: Callable[[Path], Path], names: str, match: str,
         row: int | None = None, column: str | None = None) -> None:  # fmt: skip
    CASES[name] = Case(kind, damage, names, match, row, column)


# --- bad values loaded silently -------------------------------------------------------------
NOT_FINITE = "not a (finite )?number"
case("baci value NaN", "baci", _baci(BACI_2021, ",0.819,", ",NaN,"), BACI_2021, NOT_FINITE, 3, "v")
case("baci value Infinity", "baci", _baci(BACI_2021, ",0.819,", ",Infinity,"), BACI_2021,
     NOT_FINITE, 3, "v")  # fmt: skip
case("baci value 1e308 overflows x1000", "baci", _baci(BACI_2021, ",0.819,", ",1e308,"),
     BACI_2021, "too large", 3, "v")  # fmt: skip
case("baci quantity NaN", "baci", _baci(BACI_2021, ",0.020\n", ",nan\n"), BACI_2021, NOT_FINITE,
     3, "q")  # fmt: skip
for year in ("1800", "2999"):
    case(f"baci year {year}", "baci", _single_baci_file(year), "trade.csv", "outside 1900-2100",
         3, "t")  # fmt: skip
    case(f"wgi year {year}", "wgi", _text("wgi", ",1996,cc,-1.29,", f",{year},cc,-1.29,"), WGI,
         "outside 1900-2100", 2, "year")  # fmt: skip
    case(f"wmd year {year}", "wmd", _text("wmd", ",r,2023,140121.0", f",r,{year},140121.0"), WMD,
         "outside 1900-2100", 12, "year")  # fmt: skip
    case(f"comtrade period {year}", "comtrade", _text("comtrade", ",202301,124,",
                                                      f",{year}01,124,"),
         COMTRADE, "outside the years 1900-2100", 2, "period")  # fmt: skip
    case(f"restriction list date {year}", "export-restrictions",
         _text("export-restrictions", ",2014-01-11,", f",{year}-01-11,"), EVENTS,
         "outside the years 1900-2100", 2, "announced_date")  # fmt: skip
case("baci exporter code -2 is not Zambia", "baci", _baci(BACI_2021, "\n2021,32,", "\n2021,-2,"),
     BACI_2021, "unknown BACI country code -2", 3, "i")  # fmt: skip
case("baci code 99,999,999", "baci", _baci(BACI_2021, "\n2021,32,", "\n2021,99999999,"),
     BACI_2021, "unknown BACI country code 99999999", 3, "i")  # fmt: skip
case("wgi estimate NaN", "wgi", _text("wgi", ",1996,cc,-1.29,", ",1996,cc,nan,"), WGI,
     "not a number", 2, "estimate")  # fmt: skip
case("wgi source count past int16", "wgi", _text("wgi", ",-1.29,0.34,2,", ",-1.29,0.34,99999,"),
     WGI, "outside 0-32767", 2, "nsource")  # fmt: skip
case("wmd value Infinity", "wmd", _text("wmd", ",r,2023,140121.0", ",r,2023,Infinity"), WMD,
     "not a number", 12, "value")  # fmt: skip
case("restriction list impossible date", "export-restrictions",
     _text("export-restrictions", ",2014-01-11,", ",2014-02-30,"), EVENTS, "not a date", 2,
     "announced_date")  # fmt: skip

# --- structure trusted blindly --------------------------------------------------------------
case("baci code table lists 36 twice", "baci",
     _baci(BACI_COUNTRIES, "36,Australia,AU,AUS\n", "36,Australia,AU,AUS\n36,Austria,AT,AUT\n"),
     BACI_COUNTRIES, "code 36 appears twice", 12, "country_code")  # fmt: skip
case("baci code table unknown ISO3", "baci",
     _baci(BACI_COUNTRIES, "36,Australia,AU,AUS", "36,Australia,AU,XYZ"), BACI_COUNTRIES,
     "unknown ISO3 code 'XYZ'", 11, "country_iso3")  # fmt: skip
case("baci file named 2021 holding 2019", "baci", _baci(BACI_2021, "\n2021,", "\n2019,", -1),
     BACI_2021, "file whose name says 2021", 2, "t")  # fmt: skip
case("wgi column named twice", "wgi", _text("wgi", ",stddev,", ",estimate,"), WGI,
     "column 'estimate' appears twice", 1)  # fmt: skip

# --- stack traces instead of one line -------------------------------------------------------
NOT_UTF8 = "is not UTF-8"
case("baci Latin-1", "baci", _bytes("baci", _latin1(b"Algeria", b"Alg\xe9rie"), BACI_COUNTRIES),
     BACI_COUNTRIES, "byte 0xe9 is not UTF-8", 4)  # fmt: skip
case("baci trade file UTF-16", "baci", _bytes("baci", _utf16, BACI_2021), BACI_2021,
     "UTF-16 text; chainwatch reads UTF-8")  # fmt: skip
case("country groups Latin-1", "country-groups",
     _bytes("country-groups", _latin1(b"Treaty", b"Trait\xe9")), GROUPS, NOT_UTF8, 2)  # fmt: skip
case("country groups UTF-16", "country-groups", _bytes("country-groups", _utf16), GROUPS,
     "UTF-16")  # fmt: skip
case("restriction list Latin-1", "export-restrictions",
     _bytes("export-restrictions", _latin1(b"ban on", b"ban \xe0")), EVENTS, NOT_UTF8,
     2)  # fmt: skip
case("restriction list UTF-16", "export-restrictions", _bytes("export-restrictions", _utf16),
     EVENTS, "UTF-16")  # fmt: skip
case("pink sheet Latin-1", "pink-sheet", _bytes("pink-sheet", _latin1(b"1960-02", b"1960\xb702")),
     PINK, "byte 0xb7 is not UTF-8", 3)  # fmt: skip
case("pink sheet UTF-16", "pink-sheet", _bytes("pink-sheet", _utf16), PINK, "UTF-16")
case("NUL bytes", "wgi", _bytes("wgi", lambda data: data.replace(b"Albania", b"Alb\x00nia")),
     WGI, "NUL bytes", 3)  # fmt: skip
TOO_LONG = "field longer than"
for kind, file, cell, line in [
    ("wgi", WGI, "Afghanistan", 2), ("wmd", WMD, "Algeria", 2), ("comtrade", COMTRADE, "Canada", 2),
    ("pink-sheet", PINK, "1960-02,", 3), ("country-groups", GROUPS, "Treaty", 2),
    ("export-restrictions", EVENTS, "ban on", 2), ("usgs-mcs", USGS, "Australia", None),
]:  # fmt: skip
    case(f"{kind} field over 131,072 characters", kind, _long_field(kind, cell), file, TOO_LONG,
         line)  # fmt: skip
case("baci code table field over 131,072 characters", "baci",
     _baci(BACI_COUNTRIES, "Algeria", "Algeria" + "x" * (FIELD_LIMIT + 1)), BACI_COUNTRIES,
     TOO_LONG, 4)  # fmt: skip
CUT = "cut short"
case("restriction list row cut mid-line", "export-restrictions",
     _bytes("export-restrictions", _cut_last_line), EVENTS, CUT, 17)  # fmt: skip
case("wgi row cut mid-line", "wgi", _bytes("wgi", _cut_last_line), WGI, CUT, 25)
case("pink sheet row cut mid-line", "pink-sheet", _bytes("pink-sheet", _cut_last_line), PINK,
     CUT, 6)  # fmt: skip
case("row cut inside a quoted cell", "export-restrictions",
     _bytes("export-restrictions", lambda data: _cut_last_line(data) + b',"cut'), EVENTS,
     "ends inside a quoted field", 17)  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_refused_with_one_line_and_the_store_unchanged(
    name: str, store: Store, tmp_path: Path
) -> None:
    case = CASES[name]
    path = case.damage(tmp_path / "input")
    assert_refused(store, case.kind, path, case.names, case.match, case.row, case.column)


def test_baci_header_read_by_name_not_position(store: Store, tmp_path: Path) -> None:
    """``t,j,i,k,v,q``: importer first. The flow DZA -> FRA must stay DZA -> FRA."""
    reference = copy_input("baci", tmp_path / "reference")
    swapped = copy_input("baci", tmp_path / "swapped")
    for path in swapped.glob("BACI_*.csv"):
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
        order = [0, 2, 1, 3, 4, 5]  # t, j, i, k, v, q
        path.write_text("".join(",".join(row[i] for i in order) + "\n" for row in rows))
    assert (swapped / BACI_2021).read_text().startswith("t,j,i,k,v,q\n2021,251,12,")
    reference_store = copy_store(store, tmp_path / "reference_store")
    ingest_file(reference_store, "baci", reference)
    ingest_file(store, "baci", swapped)
    query = ("SELECT year, exporter_iso3, importer_iso3, hs6, value_usd, quantity_t "
             "FROM trade_flow ORDER BY ALL")  # fmt: skip
    with store.connect() as con, reference_store.connect() as expected:
        assert con.execute(query).fetchall() == expected.execute(query).fetchall()
        assert con.execute(
            "SELECT value_usd FROM trade_flow WHERE year = 2021 AND exporter_iso3 = 'DZA' "
            "AND importer_iso3 = 'FRA' AND hs6 = '282200'"
        ).fetchone() == (pytest.approx(25.0),)


def test_partial_baci_load_keeps_a_true_provenance_record(store: Store, tmp_path: Path) -> None:
    """A file of one year over the full release: ``sources`` counts what the table holds."""
    release = copy_input("baci", tmp_path / "release")
    ingest_file(store, "baci", release)
    one_year = tmp_path / "one_year"
    one_year.mkdir()
    for name in (BACI_2021, BACI_COUNTRIES, "product_codes_HS92_V202401b.csv"):
        (one_year / name).write_bytes((release / name).read_bytes())
    result = ingest_file(store, "baci", one_year)
    assert result.rows["trade_flow"] == 1762  # the rows of 2021 just loaded
    with store.connect() as con:
        flows = con.execute("SELECT count(*) FROM trade_flow").fetchone()[0]
        rows, tables, obtained, cut = con.execute(
            "SELECT rows, tables, obtained_from, cut FROM source "
            "WHERE source_id = 'cepii-baci-hs92-v202401b'"
        ).fetchone()
        reference = con.execute(
            "SELECT (SELECT count(*) FROM product) + (SELECT count(*) FROM "
            "country_code_concordance) + (SELECT count(*) FROM country WHERE kind = 'former')"
        ).fetchone()[0]
    assert flows == 3495  # 2021 replaced, 2022 kept
    assert rows == flows + reference
    assert "trade_flow" in tables
    assert "BACI_HS92_Y2022_V202401b.csv" in obtained and "then" in obtained
    assert "rows replaced from a later load" in cut


def test_directory_where_a_file_is_needed(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "wgidataset_2024update.csv"
    folder.mkdir()
    assert_refused(store, "wgi", folder, folder, "is a directory")


def test_fifo_is_refused_before_any_read(store: Store, tmp_path: Path) -> None:
    fifo = tmp_path / "wgidataset_2024update.csv"
    os.mkfifo(fifo)
    with _deadline(10):
        assert_refused(store, "wgi", fifo, fifo, "FIFO")
        release = copy_input("baci", tmp_path / "release")
        (release / BACI_COUNTRIES).unlink()
        os.mkfifo(release / BACI_COUNTRIES)  # a FIFO named like the code table
        assert_refused(store, "baci", release, release, "country_codes_V")


def test_dev_zero_is_refused(store: Store) -> None:
    with _deadline(10):
        assert_refused(store, "pink-sheet", Path("/dev/zero"), "/dev/zero", "character device")


def test_unreadable_code_table(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = copy_input("baci", tmp_path / "release")
    table = release / BACI_COUNTRIES
    table.chmod(0)
    if os.geteuid() == 0:  # root reads anything: deny this one file as the kernel would
        real_access = os.access
        monkeypatch.setattr(files.os, "access", lambda path, mode: real_access(path, mode)
                            and Path(path) != table)  # fmt: skip
    assert_refused(store, "baci", release, BACI_COUNTRIES, "permission denied")


def test_zip_bomb_is_refused_before_extraction(store: Store, tmp_path: Path) -> None:
    release = copy_input("baci", tmp_path / "release")
    archive = tmp_path / "BACI_HS92_V202401b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member in release.iterdir():
            bundle.write(member, member.name)
        bundle.writestr("padding.csv", b"0" * (64 << 20))  # SYNTHETIC: 64 MiB of one byte
    assert archive.stat().st_size < 1 << 20
    assert_refused(store, "baci", archive, "padding.csv", "possible zip bomb")


def test_gzip_bomb_stops_while_streaming(store: Store, tmp_path: Path) -> None:
    comtrade = copy_input("comtrade", tmp_path / "comtrade")
    bomb = tmp_path / "comtrade_bomb.csv.gz"
    with gzip.open(bomb, "wb") as packed:  # SYNTHETIC: the header, then 64 MiB of commas
        packed.write(comtrade.read_bytes().splitlines(keepends=True)[0])
        packed.write(b"," * (64 << 20))
    assert_refused(store, "comtrade", bomb, bomb.name, "decompression bomb|line longer")


def test_duplicate_members_in_a_zip(store: Store, tmp_path: Path) -> None:
    release = copy_input("baci", tmp_path / "release")
    archive = tmp_path / "BACI_HS92_V202401b.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for member in release.iterdir():
            bundle.write(member, member.name)
        bundle.write(release / BACI_2021, f"copy/{BACI_2021}")
    assert_refused(store, "baci", archive, archive, "two members are named")


def test_pink_sheet_csv_export_under_any_name(store: Store, tmp_path: Path) -> None:
    """The sheet "Monthly Prices" saved as CSV (title rows, names, units, codes, 1960M01 rows)
    from the real fixture rows, named as a user names it; and the conversion renamed."""
    source = copy_input("pink-sheet", tmp_path / "pink")
    rows = list(csv.reader(source.read_text(encoding="utf-8").splitlines()))
    metadata = (source.parent / "pink_sheet_series_metadata.csv").read_text(encoding="utf-8")
    series = list(csv.DictReader(metadata.splitlines()))
    names = {row["code"]: row for row in series}
    codes = rows[0][1:]
    title = [["World Bank Commodity Price Data (The Pink Sheet)"], ["Monthly prices in nominal "
             "US dollars, 1960 to present"], ["Updated on December 02, 2025"]]  # fmt: skip
    sheet = [*title, ["", *(names[c]["name"] for c in codes)],
             ["", *(names[c]["unit"] for c in codes)], ["", *codes]]  # fmt: skip
    for row in rows[1:]:
        sheet.append([row[0].replace("-", "M"), *(cell or "…" for cell in row[1:])])
    width = max(len(row) for row in sheet)
    export = tmp_path / "my prices export.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(r + [""] * (width - len(r)) for r in sheet)
    export.write_text(buffer.getvalue(), encoding="utf-8")
    result = ingest_file(store, "pink-sheet", export)
    assert result.source_id == "worldbank-pink-sheet-2025-12-02"
    renamed = tmp_path / "pink" / "prices.csv"
    source.rename(renamed)
    assert ingest_file(store, "pink-sheet", renamed).rows == result.rows
    with store.connect() as con:
        nickel = con.execute(
            "SELECT DISTINCT value FROM price WHERE series = 'NICKEL' AND month = '2014-05-01'"
        ).fetchall()
    assert nickel == [(19401.08,)]  # hand-checked in tests/fixtures/pink_sheet/README.md


def test_markup_in_a_value_is_printed_not_interpreted(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A rich markup tag in a quoted value (``[/bold]``) used to crash the error printer."""
    from chainwatch.cli.main import main

    path = copy_input("wgi", tmp_path / "wgi")
    edit_text(path, ",AFG,Afghanistan,", ",[/bold],Afghanistan,")
    monkeypatch.setattr("sys.argv", ["chainwatch", "ingest", "wgi", str(path), "--store",
                                     str(store.path), "--quiet"])  # fmt: skip
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "'[/bold]'" in lines[0] and "row 2" in lines[0]


def test_a_store_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "chainwatch.duckdb"
    target.write_bytes(b"not a database")  # SYNTHETIC
    wgi = copy_input("wgi", tmp_path / "wgi")
    for attempt in (
        lambda: Store(target).connect(),
        lambda: ingest_file(Store(target), "wgi", wgi),
    ):
        with pytest.raises(StoreError, match="cannot open the store") as raised:
            attempt()
        assert "\n" not in str(raised.value)
    assert target.read_bytes() == b"not a database"
    assert leftovers(Store(target)) == []


def test_control_characters_in_a_value_stay_on_one_line() -> None:
    error = InputError("file.csv", "unknown code 'a\nb\x1b[31m'", 2, "code")
    assert str(error) == "file.csv, row 2, column 'code': unknown code 'a\\nb\\x1b[31m'"
    assert len(str(InputError("f.csv", "x" * 10_000))) <= 600


# --- interrupts -------------------------------------------------------------------------


def test_interrupt_a_duckdb_query_is_a_keyboard_interrupt(store: Store) -> None:
    """DuckDB turns Ctrl-C into ``RuntimeError: Query interrupted``: the writer makes it an
    interrupt again and commits nothing."""
    before = state(store)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), store.writing() as con:
        con.execute("DELETE FROM country")
        timer.start()  # the query below runs for tens of seconds unless interrupted
        con.execute("SELECT count(*) FROM range(2000000000) t(x) WHERE x % 7 = 3").fetchall()
    timer.join()
    assert time.monotonic() - started < 5, "the interrupt did not stop the query"
    assert state(store) == before


def test_an_interrupt_swallowed_during_the_load_still_stops_the_commit(store: Store) -> None:
    """Under load an interrupt could be lost inside a library call and the load commit."""
    before = state(store)
    handler = signal.getsignal(signal.SIGINT)  # not always Python's: PySpark installs its own
    with pytest.raises(KeyboardInterrupt), store.writing() as con:
        con.execute("DELETE FROM country")
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass  # swallowed, as a library call may do
        con.execute("SELECT 1").fetchall()
    assert state(store) == before
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.fixture(scope="module")
def synthetic_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC BACI release (random values, real code tables) zipped, big enough that its
    ingest is still running a moment after extraction has begun."""
    from tests.synthetic import write_synthetic_baci_release

    directory = tmp_path_factory.mktemp("synthetic")
    release = write_synthetic_baci_release(directory / "release", rows=400_000).parent
    archive = directory / "BACI_HS92_V209901synthetic.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for member in release.iterdir():
            bundle.write(member, member.name)
    return archive


def _when_extracting(store: Store, act: Callable[[], None]) -> threading.Thread:
    """Call ``act`` once the ingest has begun extracting into the store's scratch directory."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not list(store.path.parent.glob("*.scratch-*/*/*.csv")):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.2)
        act()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_ctrl_c_during_a_zip_ingest_exits_130_in_one_line(
    store: Store, synthetic_zip: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Ctrl-C during ``chainwatch ingest baci release.zip``: one line, exit 130, nothing
    committed, no extracted member or work copy left."""
    from chainwatch.cli.main import main

    before = state(store)
    monkeypatch.setattr("sys.argv", ["chainwatch", "ingest", "baci", str(synthetic_zip),
                                     "--store", str(store.path), "--quiet"])  # fmt: skip
    watcher = _when_extracting(store, lambda: os.kill(os.getpid(), signal.SIGINT))
    with pytest.raises(SystemExit) as stopped:
        main()
    watcher.join()
    assert stopped.value.code == 130
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: nothing was committed")
    assert state(store) == before and leftovers(store) == []


def test_a_killed_zip_ingest_leaves_nothing_for_good(store: Store, synthetic_zip: Path) -> None:
    """SIGKILL cannot be caught: the extracted members stay until the next writer, which
    removes them (they are beside the store, not in the system temp directory)."""
    before = state(store)
    code = ("import sys; from pathlib import Path; from chainwatch.store import Store; "
            "from chainwatch.ingest.pipeline import ingest_file; "
            "ingest_file(Store(sys.argv[1]), 'baci', Path(sys.argv[2]))")  # fmt: skip
    writer = subprocess.Popen([sys.executable, "-c", code, str(store.path), str(synthetic_zip)])
    watcher = _when_extracting(store, writer.kill)
    writer.wait(timeout=120)
    watcher.join()
    assert writer.returncode == -signal.SIGKILL
    assert leftovers(store)  # a killed writer cannot clean up ...
    with store.writing():
        pass
    assert leftovers(store) == []  # ... the next writer does
    assert state(store)[0] == before[0]


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the test run) if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s: the reader blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
