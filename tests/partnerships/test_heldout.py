"""Held-out checks of the partnership extractor on hand-labelled synthetic announcements.

The texts in ``heldout/`` are synthetic (see ``heldout/README.md``) and were written without
looking at the extractor, so these tests measure how it generalises. ``heldout/expected.json``
holds only what a careful reader of each text is sure of; every check of one case is gathered
and reported together, so a failure lists all that is wrong with the case at once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

import pytest

if TYPE_CHECKING:
    from chainwatch.partnerships import Partnership

HELDOUT = Path(__file__).parent / "heldout"
EXPECTED = HELDOUT / "expected.json"

INSTRUMENTS = frozenset({"partnership", "dialogue", "working group", "agreement", "programme"})
STATUSES = frozenset({"signed", "concluded", "launched", "agreed", "planned", "referenced"})
MODALITIES = frozenset({"firm", "intended", "done"})
THEMES = frozenset(
    {
        "critical_minerals",
        "clean_technology",
        "semiconductors",
        "batteries_evs",
        "defence_security",
        "cyber",
        "artificial_intelligence",
        "quantum",
        "connectivity",
        "digital_identity_trust",
        "online_platforms",
        "trade_facilitation",
        "supply_chain_resilience",
        "energy",
        "space",
        "research_innovation",
    }
)

DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
SPACES = re.compile(r"\s+")


class ExpectedAmount(TypedDict):
    value: float
    currency: str
    equivalents: NotRequired[list[ExpectedAmount]]


class ExpectedDate(TypedDict):
    year: int | None
    month: int | None
    day: int | None


class ExpectedPartnership(TypedDict):
    name_contains: str
    parties: list[str]
    instrument: str
    must_not_have_parties: NotRequired[list[str]]
    status: NotRequired[str]
    themes_include: NotRequired[list[str]]
    materials_include: NotRequired[list[str]]
    amounts: NotRequired[list[ExpectedAmount]]
    amounts_exact: NotRequired[bool]
    dates_include: NotRequired[list[ExpectedDate]]
    placeholders: NotRequired[list[str]]
    min_commitments: NotRequired[int]
    max_commitments: NotRequired[int]
    commitment_kinds_include: NotRequired[list[str]]
    modalities_include: NotRequired[list[str]]
    sources: NotRequired[list[str]]


class Case(TypedDict):
    id: str
    files: list[str]
    partnerships: list[ExpectedPartnership]
    merge: NotRequired[bool]
    no_partnerships: NotRequired[bool]
    forbidden_names: NotRequired[list[str]]


def load_cases() -> list[Case]:
    data = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return cast(list[Case], data["cases"])


CASES = load_cases()
CASES_BY_ID = {case["id"]: case for case in CASES}
MERGE_CASES = [case for case in CASES if case.get("merge", False)]


@cache
def extract_case(case_id: str) -> tuple[Partnership, ...]:
    """Run the extractor once per case over the case's files, read as UTF-8 text."""
    from chainwatch.partnerships import extract_partnerships

    case = CASES_BY_ID[case_id]
    texts = [(name, (HELDOUT / name).read_text(encoding="utf-8")) for name in case["files"]]
    return tuple(extract_partnerships(texts))


def norm(text: str) -> str:
    """Lower case, one kind of dash, single spaces: for comparing names."""
    return SPACES.sub(" ", DASHES.sub("-", text)).strip().casefold()


def name_hit(record: Partnership, needle: str) -> bool:
    wanted = norm(needle)
    return any(wanted in norm(name) for name in (record.name, *record.aliases))


def describe(records: Iterable[Partnership]) -> str:
    return "; ".join(f"{r.name!r} {r.instrument} {list(r.parties)}" for r in records) or "none"


def find_record(
    records: Sequence[Partnership], needle: str, taken: set[int]
) -> tuple[int, Partnership] | None:
    """The best record whose name or an alias holds ``needle``, skipping ones already matched.

    A hit on the name beats a hit on an alias only; among equals, the shortest name wins.
    """
    wanted = norm(needle)
    hits = [(i, r) for i, r in enumerate(records) if i not in taken and name_hit(r, needle)]
    if not hits:
        return None
    hits.sort(key=lambda hit: (wanted not in norm(hit[1].name), len(hit[1].name)))
    return hits[0]


def amount_matches(value: float, currency: str, expected: ExpectedAmount) -> bool:
    return currency == expected["currency"] and math.isclose(
        value, float(expected["value"]), rel_tol=1e-9
    )


def check_well_formed(record: Partnership, case: Case) -> list[str]:
    """Contract checks that hold for every returned record, labelled or not."""
    where = f"record {record.name!r}"
    problems: list[str] = []
    if not record.name.strip():
        problems.append(f"{where}: empty name")
    if record.instrument not in INSTRUMENTS:
        problems.append(f"{where}: instrument {record.instrument!r} not in {sorted(INSTRUMENTS)}")
    if record.status not in STATUSES:
        problems.append(f"{where}: status {record.status!r} not in {sorted(STATUSES)}")
    if list(record.parties) != sorted(record.parties):
        problems.append(f"{where}: parties {list(record.parties)} are not sorted")
    unknown_themes = sorted(set(record.themes) - THEMES)
    if unknown_themes:
        problems.append(f"{where}: themes outside the vocabulary: {unknown_themes}")
    upper = [m for m in record.materials if m != m.lower()]
    if upper:
        problems.append(f"{where}: materials must be lower case, got {upper}")
    foreign = sorted(set(record.sources) - set(case["files"]))
    if foreign:
        problems.append(f"{where}: sources {foreign} are not among the case files")
    bad_modality = sorted({c.modality for c in record.commitments} - MODALITIES)
    if bad_modality:
        problems.append(f"{where}: commitment modalities outside {sorted(MODALITIES)}")
    seen: set[tuple[str, str]] = set()
    for commitment in record.commitments:
        key = (norm(commitment.sentence), commitment.source)
        if key in seen:
            problems.append(
                f"{where}: commitment counted twice (repeated paragraph?): "
                f"{commitment.sentence[:80]!r}"
            )
        seen.add(key)
    return problems


def check_amounts(record: Partnership, expected: ExpectedPartnership) -> list[str]:
    if "amounts" not in expected:
        return []
    where = f"record {record.name!r}"
    got = [(a.text, a.value, a.currency) for a in record.amounts]
    problems: list[str] = []
    for amount in expected["amounts"]:
        label = f"{amount['value']:g} {amount['currency']}"
        matching = [a for a in record.amounts if amount_matches(a.value, a.currency, amount)]
        if not matching:
            problems.append(f"{where}: amount {label} missing; got {got}")
            continue
        for equivalent in amount.get("equivalents", []):
            eq_label = f"{equivalent['value']:g} {equivalent['currency']}"
            if not any(
                amount_matches(e.value, e.currency, equivalent)
                for a in matching
                for e in a.equivalents
            ):
                held = [[(e.value, e.currency) for e in a.equivalents] for a in matching]
                problems.append(
                    f"{where}: amount {label} lacks its bracketed equivalent {eq_label}; "
                    f"equivalents held: {held}"
                )
            if any(amount_matches(a.value, a.currency, equivalent) for a in record.amounts):
                problems.append(
                    f"{where}: the bracketed conversion {eq_label} is a separate primary amount; "
                    f"it belongs in the equivalents of {label}"
                )
    if expected.get("amounts_exact", False) and len(record.amounts) != len(expected["amounts"]):
        want = [f"{a['value']:g} {a['currency']}" for a in expected["amounts"]]
        problems.append(f"{where}: expected exactly the amounts {want}; got {got}")
    return problems


def check_dates(record: Partnership, expected: ExpectedPartnership) -> list[str]:
    got = [(d.date.text, d.date.year, d.date.month, d.date.day) for d in record.dates]
    problems: list[str] = []
    for date in expected.get("dates_include", []):
        want = (date["year"], date["month"], date["day"])
        if not any((d.date.year, d.date.month, d.date.day) == want for d in record.dates):
            problems.append(
                f"record {record.name!r}: date (year, month, day) {want} missing; got {got}"
            )
    return problems


def check_commitments(record: Partnership, expected: ExpectedPartnership) -> list[str]:
    where = f"record {record.name!r}"
    count = len(record.commitments)
    problems: list[str] = []
    if count < expected.get("min_commitments", 0):
        problems.append(
            f"{where}: {count} commitments, expected at least {expected['min_commitments']}"
        )
    if "max_commitments" in expected and count > expected["max_commitments"]:
        problems.append(
            f"{where}: {count} commitments, expected at most {expected['max_commitments']} "
            f"(repeated paragraphs counted again?)"
        )
    kinds = {kind for c in record.commitments for kind in c.kinds}
    missing_kinds = sorted(set(expected.get("commitment_kinds_include", [])) - kinds)
    if missing_kinds:
        problems.append(f"{where}: commitment kinds {missing_kinds} missing; got {sorted(kinds)}")
    modalities = {c.modality for c in record.commitments}
    missing_modalities = sorted(set(expected.get("modalities_include", [])) - modalities)
    if missing_modalities:
        problems.append(
            f"{where}: commitment modalities {missing_modalities} missing; got {sorted(modalities)}"
        )
    return problems


def check_record(record: Partnership, expected: ExpectedPartnership, case: Case) -> list[str]:
    where = f"record {record.name!r} (matched by {expected['name_contains']!r})"
    problems: list[str] = []
    if list(record.parties) != expected["parties"]:
        problems.append(f"{where}: parties {list(record.parties)} != {expected['parties']}")
    wrong_parties = sorted(set(expected.get("must_not_have_parties", [])) & set(record.parties))
    if wrong_parties:
        problems.append(f"{where}: {wrong_parties} must not be parties (region or boilerplate)")
    if record.instrument != expected["instrument"]:
        problems.append(f"{where}: instrument {record.instrument!r} != {expected['instrument']!r}")
    if "status" in expected and record.status != expected["status"]:
        problems.append(f"{where}: status {record.status!r} != {expected['status']!r}")
    missing_themes = sorted(set(expected.get("themes_include", [])) - set(record.themes))
    if missing_themes:
        problems.append(f"{where}: themes {missing_themes} missing; got {list(record.themes)}")
    missing_materials = sorted(set(expected.get("materials_include", [])) - set(record.materials))
    if missing_materials:
        problems.append(
            f"{where}: materials {missing_materials} missing; got {list(record.materials)}"
        )
    if "placeholders" in expected:
        flagged = sorted({p.text for p in record.placeholders})
        if flagged != sorted(set(expected["placeholders"])):
            problems.append(
                f"{where}: placeholders {flagged} != {sorted(set(expected['placeholders']))}"
            )
    want_sources = sorted(expected.get("sources", case["files"]))
    if sorted(set(record.sources)) != want_sources:
        problems.append(f"{where}: sources {list(record.sources)} != {want_sources}")
    problems += check_amounts(record, expected)
    problems += check_dates(record, expected)
    problems += check_commitments(record, expected)
    return problems


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_heldout_case(case: Case) -> None:
    records = extract_case(case["id"])
    problems: list[str] = []
    for record in records:
        problems += check_well_formed(record, case)

    if case.get("no_partnerships", False) and records:
        problems.append(f"no partnership is named in the text, yet got: {describe(records)}")

    for forbidden in case.get("forbidden_names", []):
        bad = [r for r in records if name_hit(r, forbidden)]
        if bad:
            problems.append(
                f"{forbidden!r} is boilerplate or a link, not an instrument of this text: "
                f"{describe(bad)}"
            )

    taken: set[int] = set()
    for expected in case["partnerships"]:
        found = find_record(records, expected["name_contains"], taken)
        if found is None:
            problems.append(
                f"no record named like {expected['name_contains']!r} "
                f"(each expected instrument needs its own record); got: {describe(records)}"
            )
            continue
        index, record = found
        taken.add(index)
        problems += check_record(record, expected, case)

    assert not problems, f"case {case['id']} ({', '.join(case['files'])}):\n" + "\n".join(
        f"- {problem}" for problem in problems
    )


@pytest.mark.parametrize("case", MERGE_CASES, ids=[case["id"] for case in MERGE_CASES])
def test_heldout_merge(case: Case) -> None:
    records = extract_case(case["id"])
    for expected in case["partnerships"]:
        hits = [r for r in records if name_hit(r, expected["name_contains"])]
        assert len(hits) == 1, (
            f"texts naming the same instrument differently must give one record for "
            f"{expected['name_contains']!r}; got {len(hits)}: {describe(hits)}"
        )
        (record,) = hits
        assert sorted(set(record.sources)) == sorted(case["files"]), (
            f"the merged record {record.name!r} must come from every text of the case: "
            f"sources {list(record.sources)} != {sorted(case['files'])}"
        )
