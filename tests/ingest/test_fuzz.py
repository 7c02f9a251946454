"""Property-based ingest fuzz (issue 12): every reader, real fixture files, hostile mutations.

Each example copies one reader's real fixture files (tests/fixtures; the Comtrade fixture is
itself SYNTHETIC, see its README), applies 1-3 SYNTHETIC mutations (bytes, rows, headers,
encodings, codes, numbers) and ingests the result into a store. The property: the ingest
either loads cleanly and the store holds what the file says (an independent reading of the
mutated file with the csv module, the oracle of each reader below), or raises one InputError
line naming the file with the store byte for byte unchanged and no work file left. Any other
exception, a hang (a SIGALRM deadline per example) or memory growth past a bound fails.

Budget: a fixed number of examples per reader, derandomised (the same examples every run),
sized so the module stays under 60 s on one core. ``CHAINWATCH_FUZZ_EXAMPLES=250`` runs that
many random examples per reader instead (about 5 minutes), to look for new failures.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import re
import resource
import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainwatch.errors import InputError
from chainwatch.ingest.comtrade import COMTRADE_CODES, FLOWS, NOT_COUNTRIES, REVISIONS, TOTALS
from chainwatch.ingest.countries import bundled_country_table, bundled_resolver
from chainwatch.ingest.pink_sheet import MISSING_MARKERS
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.ingest.reference_lists import GROUP_IDS
from chainwatch.ingest.usgs_mcs import parse_value
from chainwatch.ingest.wmd import UNITS, commodity_mappings
from chainwatch.store import Store
from tests.ingest.support import (
    BACI_2021,
    BACI_COUNTRIES,
    INPUTS,
    build_template,
    copy_input,
    leftovers,
    state,
)

EXAMPLES = {"baci": 22, "wgi": 24, "wmd": 24, "comtrade": 22, "pink-sheet": 22,
            "country-groups": 24, "export-restrictions": 24, "usgs-mcs": 24}  # fmt: skip
"""Examples per reader (fixed budget: 186 in all, about 30 s on one core); the environment
variable ``CHAINWATCH_FUZZ_EXAMPLES`` overrides it for a long, random run."""
_LONG_RUN = int(os.environ.get("CHAINWATCH_FUZZ_EXAMPLES", "0"))
DEADLINE_S = 30
"""An example still running after this long is a hang."""
MEMORY_GROWTH_MB = 1024
"""How far the process's peak resident memory may grow over the whole module."""

HOSTILE_CELLS = [
    "NaN", "nan", "inf", "-inf", "Infinity", "1e308", "1e400", "-1", "-0", "0", "1e-400", "",
    " ", "..", "NA", "1,000", "1_000", "0x10", "١٢٣", "²", "2999", "1800", "99999", "-2",
    "99999999", "2147483648", "9" * 40, "[/bold]", '"', "a\nb", "é", "\x1b[31m", "AUS", "ZZZ",
    "e5,000", "<100", "W", "…",
]  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    """One SYNTHETIC change to a copied fixture; positions are fractions of the file."""

    kind: str
    where: float = 0.0
    column: int = 0
    value: str = ""
    data: bytes = b""

    def __repr__(self) -> str:  # short, for hypothesis' falsifying-example report
        return f"Mutation({self.kind!r}, {self.where:.3f}, {self.column}, {self.value!r})"


def _mutations() -> st.SearchStrategy[Mutation]:
    fraction = st.floats(0, 1, allow_nan=False)
    cell = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=12))
    return st.one_of(
        st.builds(Mutation, st.just("cell"), fraction, st.integers(0, 12), cell),
        st.builds(Mutation, st.just("cell"), fraction, st.integers(0, 12), cell),
        st.builds(Mutation, st.just("header_rename"), st.just(0.0), st.integers(0, 12),
                  st.text(max_size=8)),
        st.builds(Mutation, st.just("header_reorder"), fraction),
        st.builds(Mutation, st.just("header_duplicate"), st.just(0.0), st.integers(0, 12)),
        st.builds(Mutation, st.sampled_from(["delete_line", "duplicate_line", "blank_line"]),
                  fraction),
        st.builds(Mutation, st.sampled_from(["cut", "flip", "insert"]), fraction,
                  st.integers(0, 255), st.just(""), st.binary(min_size=1, max_size=6)),
        st.builds(Mutation, st.just("encoding"),
                  value=st.sampled_from(["utf-16", "latin-1", "bom", "crlf", "lf", "nul"])),
    )  # fmt: skip


def _rows(data: bytes) -> tuple[list[list[str]], str] | None:
    """The file as csv rows and its line end, or None when it is no longer UTF-8 CSV."""
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows, "\r\n" if "\r\n" in text else "\n"


def _write(rows: list[list[str]], ending: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerows(rows)
    return out.getvalue().encode("utf-8")


def _apply(data: bytes, mutation: Mutation) -> bytes:
    """``data`` after one mutation (a CSV-level one is skipped when the file is not CSV)."""
    kind, where = mutation.kind, mutation.where
    position = min(int(where * len(data)), max(len(data) - 1, 0))
    if kind == "cut":
        return data[:position]
    if kind == "flip" and data:
        return data[:position] + bytes([mutation.column]) + data[position + 1 :]
    if kind == "insert":
        return data[:position] + mutation.data + data[position:]
    if kind == "encoding":
        return _encode(data, mutation.value)
    parsed = _rows(data)
    if parsed is None or not parsed[0]:
        return data
    rows, ending = parsed
    line = min(int(where * (len(rows) - 1)) + 1, len(rows) - 1) if len(rows) > 1 else 0
    if kind == "cell" and rows[line]:
        rows[line][mutation.column % len(rows[line])] = mutation.value
    elif kind == "header_rename" and rows[0]:
        rows[0][mutation.column % len(rows[0])] = mutation.value
    elif kind == "header_duplicate" and rows[0]:
        column = mutation.column % len(rows[0])
        rows = [[*row, row[column]] if len(row) > column else row for row in rows]
    elif kind == "header_reorder":
        order = list(range(len(rows[0])))
        random.Random(where).shuffle(order)
        rows = [[row[i] for i in order if i < len(row)] for row in rows]
    elif kind == "delete_line" and line:
        del rows[line]
    elif kind == "duplicate_line":
        rows.insert(line, list(rows[line]))
    elif kind == "blank_line":
        rows.insert(line, [])
    return _write(rows, ending)


def _encode(data: bytes, target: str) -> bytes:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data
    if target == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if target == "crlf":
        return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    if target == "lf":
        return text.replace("\r\n", "\n").encode("utf-8")
    if target == "nul":
        return text.encode("utf-16-le")  # UTF-16 without a byte order mark
    return text.encode(target, errors="replace")


# --- oracles: what the (mutated) file says, read independently with the csv module --------

Oracle = Callable[[Path, Any], None]


def _dicts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _close(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.12g}")


def _baci(path: Path, con: Any) -> None:
    resolver = bundled_resolver()
    codes = {}
    for row in _dicts(path / BACI_COUNTRIES):
        iso3 = row["country_iso3"].strip()
        codes[int(row["country_code"])] = resolver.resolve_code(iso3) or iso3
    expected: Counter[tuple[Any, ...]] = Counter()
    for trade in sorted(path.glob("BACI_*.csv")):
        for row in _dicts(trade):
            written = row["q"].strip()
            quantity = None if written in ("NA", "") else _close(float(written))
            expected[(int(row["t"]), codes[int(row["i"])], codes[int(row["j"])],
                      row["k"].strip().zfill(6), _close(float(row["v"]) * 1000),
                      quantity)] += 1  # fmt: skip
    actual = Counter(
        (year, exporter, importer, hs6, _close(value), _close(quantity))
        for year, exporter, importer, hs6, value, quantity in con.execute(
            "SELECT year, exporter_iso3, importer_iso3, hs6, value_usd, quantity_t FROM trade_flow"
        ).fetchall()
    )
    assert actual == expected


def _wgi(path: Path, con: Any) -> None:
    resolver = bundled_resolver()
    expected = Counter(
        (resolver.resolve_code(row["code"].strip()) or row["code"].strip(),
         row["indicator"].strip().lower(), int(row["year"]), _close(float(row["estimate"])))
        for row in _dicts(path) if row["estimate"].strip() not in ("..", "")
    )  # fmt: skip
    actual = Counter(
        (code, indicator, year, _close(estimate))
        for code, indicator, year, estimate in con.execute(
            "SELECT country_iso3, indicator, year, estimate FROM governance"
        ).fetchall()
    )
    assert actual == expected


def _wmd(path: Path, con: Any) -> None:
    mappings = commodity_mappings()
    expected: Counter[tuple[Any, ...]] = Counter()
    for row in _dicts(path):
        mapping = mappings.get(row["commodity"].strip())
        if mapping is None or mapping.material is None:
            continue
        value, factor = row["value"].strip(), UNITS[row["unit"].strip()][1]
        expected[(row["commodity"].strip(), int(row["year"]),
                  _close(float(value) * factor) if value else None)] += 1  # fmt: skip
    actual = Counter(
        (kind, year, _close(quantity))
        for kind, year, quantity in con.execute(
            "SELECT product_type, year, quantity FROM production"
        ).fetchall()
    )
    assert actual == expected


def _resolvable(row: dict[str, str], side: str) -> bool:
    """Whether a Comtrade partner names a country: its ISO column, else its numeric code
    (Comtrade's own codes, else UN M49), through the shipped country table and aliases."""
    resolver = bundled_resolver()
    iso = row.get(f"{side}ISO", "")
    if iso and resolver.resolve_code(iso):
        return True
    code = int(row[f"{side}Code"])
    table = bundled_country_table()
    m49 = dict(zip(table["m49"].to_pylist(), table["iso3"].to_pylist(), strict=True))
    candidate = COMTRADE_CODES.get(code) or m49.get(code)
    return bool(candidate and resolver.resolve_code(str(candidate)))


def _comtrade(path: Path, con: Any) -> None:
    expected: Counter[tuple[Any, ...]] = Counter()
    delimiter = "\t" if "\t" in path.read_text(encoding="utf-8-sig").splitlines()[0] else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for raw in csv.DictReader(handle, delimiter=delimiter):
            row = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
            kept = (row["freqCode"].upper() == "M" and row["flowCode"].upper() in FLOWS
                    and all(row.get(c, total) in (total, "") for c, total in TOTALS.items())
                    and row["classificationCode"].upper() in REVISIONS
                    and re.fullmatch(r"[0-9]{6}", row["cmdCode"])
                    and int(row["partnerCode"]) not in NOT_COUNTRIES
                    and _resolvable(row, "partner"))  # fmt: skip
            if kept:
                period = f"{row['period'][:4]}-{row['period'][4:]}-01"
                expected[(period, FLOWS[row["flowCode"].upper()], row["cmdCode"],
                          _close(float(row["primaryValue"])))] += 1  # fmt: skip
    actual = Counter(
        (str(period), flow, hs6, _close(value))
        for period, flow, hs6, value in con.execute(
            "SELECT period, flow, hs6, value_usd FROM trade_flow_monthly"
        ).fetchall()
    )
    assert actual == expected


def _pink_sheet(path: Path, con: Any) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [name.strip() for name in rows[0]]
    month = header.index("month")
    expected = Counter(
        (f"{row[month].strip()}-01", code, _close(float(cell)))
        for row in rows[1:] if any(cell.strip() for cell in row)
        for code, cell in zip(header, row, strict=False)
        if code != "month" and cell.strip() not in MISSING_MARKERS
    )  # fmt: skip
    actual = Counter(
        (str(month_), series, _close(value))
        for month_, series, value in con.execute(
            "SELECT month, series, value FROM price"
        ).fetchall()
    )
    assert actual == expected


def _country_groups(path: Path, con: Any) -> None:
    expected = Counter(
        (GROUP_IDS.get(row["group"].strip(), row["group"].strip()), row["iso3"].strip())
        for row in _dicts(path)
    )
    actual = Counter(con.execute("SELECT group_id, iso3 FROM group_membership").fetchall())
    assert actual == expected


def _export_restrictions(path: Path, con: Any) -> None:
    expected = Counter(
        (row["event_id"].strip(), row["country_iso3"].strip(),
         row["announced_date"].strip() or None)
        for row in _dicts(path)
    )  # fmt: skip
    actual = Counter(
        (event, country, None if announced is None else str(announced))
        for event, country, announced in con.execute(
            "SELECT event_id, country_iso3, announced_date FROM export_restriction_event"
        ).fetchall()
    )
    assert actual == expected


def _usgs(path: Path, con: Any) -> None:
    """No invented figure: every stored quantity is a production cell of the file (x unit)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    factors = {"t": 1.0, "kt": 1e3}
    cells: Counter[float | None] = Counter()
    for position, name in enumerate(rows[0]):
        parts = name.strip().split("_")
        if not name.lower().startswith("prod_") or len(parts) < 3:
            continue
        unit = next((part.lower() for part in parts if part.lower() in factors), None)
        for row in rows[1:]:
            if position < len(row) and row[position].strip() and unit:
                value = parse_value(row[position])
                if value is not None:
                    quantity = value.quantity
                    cells[_close(None if quantity is None else quantity * factors[unit])] += 1
    stored = Counter(
        _close(q) for (q,) in con.execute("SELECT quantity FROM production").fetchall()
    )
    assert stored and not stored - cells


ORACLES: dict[str, Oracle] = {
    "baci": _baci, "wgi": _wgi, "wmd": _wmd, "comtrade": _comtrade, "pink-sheet": _pink_sheet,
    "country-groups": _country_groups, "export-restrictions": _export_restrictions,
    "usgs-mcs": _usgs,
}  # fmt: skip

# --- the property -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_template(tmp_path_factory.mktemp("fuzz") / "chainwatch.duckdb")


@pytest.fixture(scope="module")
def memory() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    yield
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert after - before < MEMORY_GROWTH_MB, f"peak memory grew {after - before:.0f} MB"


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"the ingest ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _targets(kind: str, path: Path) -> list[Path]:
    """The files a mutation may hit (the trade file most, for BACI)."""
    if kind == "baci":
        return [path / BACI_2021, path / BACI_2021, path / BACI_2021, path / BACI_COUNTRIES]
    return [path]


RUNS: Counter[str] = Counter()
LOADS: Counter[str] = Counter()
"""Examples run and examples that loaded (and met their oracle), per reader."""


def check_one(
    kind: str, template: Store, mutations: list[tuple[int, Mutation]], must_load: bool = False
) -> None:
    with tempfile.TemporaryDirectory(prefix="chainwatch-fuzz-") as scratch:
        root = Path(scratch)
        store = Store(root / "store" / "chainwatch.duckdb")
        store.path.parent.mkdir()
        shutil.copyfile(template.path, store.path)
        path = copy_input(kind, root / "input")
        targets = _targets(kind, path)
        for choice, mutation in mutations:
            target = targets[choice % len(targets)]
            target.write_bytes(_apply(target.read_bytes(), mutation))
        before = state(store)
        RUNS[kind] += 1
        try:
            with _deadline(DEADLINE_S):
                ingest_file(store, kind, path)
        except InputError as error:
            if must_load:
                raise
            text = str(error)
            assert "\n" not in text and "\r" not in text
            assert INPUTS[kind].folder.split("/")[-1] in text or path.name in text, text
            assert state(store) == before, "a refused file changed the store"
            assert leftovers(store) == []
            return
        assert leftovers(store) == []
        with store.connect() as con:
            ORACLES[kind](path, con)
        LOADS[kind] += 1


@pytest.mark.usefixtures("memory")
@pytest.mark.parametrize("kind", list(INPUTS))
def test_every_reader_loads_what_the_file_says_or_refuses_in_one_line(
    kind: str, template: Store
) -> None:
    mutation_lists = st.lists(st.tuples(st.integers(0, 3), _mutations()), min_size=1, max_size=3)

    @settings(max_examples=_LONG_RUN or EXAMPLES[kind], deadline=None,
              derandomize=not _LONG_RUN, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(mutation_lists)
    def property(mutations: list[tuple[int, Mutation]]) -> None:
        check_one(kind, template, mutations)

    property()
    assert RUNS[kind] >= EXAMPLES[kind]
    assert LOADS[kind] >= 1, "no example loaded: the oracle was never exercised"
    print(f"fuzz {kind}: {RUNS[kind]} examples, {LOADS[kind]} clean loads")


def test_the_oracles_agree_with_the_unmutated_fixtures(template: Store) -> None:
    """Each oracle, on the real file as is, must describe exactly what the reader loads."""
    for kind in INPUTS:
        check_one(kind, template, [], must_load=True)
