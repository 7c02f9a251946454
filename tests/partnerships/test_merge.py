"""Merging: one record per instrument, whatever texts name it (SYNTHETIC sentences)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.partnerships import extract_partnerships

TEXTS = {
    "a.txt": "Canada and the EU launched the EU-Canada Digital Partnership on 1 February 2024.",
    "b.txt": "The Canada–EU digital partnership will exchange information on semiconductors.",
    "c.txt": "Le Canada et l'UE ont lancé le Partenariat numérique Canada–UE.",
    "d.txt": "Canada and the European Union also launched an Industrial Policy Dialogue.",
    "e.txt": "Canada and Japan signed a Digital Partnership in 2023.",
}


def _by_name(names: list[str]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    records = extract_partnerships([(name, TEXTS[name]) for name in names])
    return sorted((r.instrument, r.parties, tuple(sorted(r.sources))) for r in records)


def test_names_in_two_languages_become_one_record() -> None:
    assert _by_name(["a.txt", "b.txt", "c.txt"]) == [
        ("partnership", ("CAN", "EU27"), ("a.txt", "b.txt", "c.txt"))
    ]


def test_other_instruments_and_other_parties_stay_apart() -> None:
    assert _by_name(list(TEXTS)) == [
        ("dialogue", ("CAN", "EU27"), ("d.txt",)),
        ("partnership", ("CAN", "EU27"), ("a.txt", "b.txt", "c.txt")),
        ("partnership", ("CAN", "JPN"), ("e.txt",)),
    ]


def test_merged_record_keeps_every_fact() -> None:
    records = extract_partnerships([(name, TEXTS[name]) for name in ("a.txt", "b.txt")])
    (record,) = records
    assert record.status == "launched"  # the most advanced status any text gives
    assert record.materials == ("semiconductors",)
    assert [d.date.iso for d in record.dates] == ["2024-02-01"]
    assert [(c.source, c.modality) for c in record.commitments] == [
        ("a.txt", "done"),
        ("b.txt", "firm"),
    ]


@settings(max_examples=20, deadline=None)
@given(st.permutations(list(TEXTS)))
def test_the_order_of_texts_does_not_change_what_is_merged(order: list[str]) -> None:
    assert _by_name(order) == _by_name(list(TEXTS))


def test_adding_the_same_text_twice_changes_nothing_but_sources() -> None:
    once = extract_partnerships([("a.txt", TEXTS["a.txt"])])
    twice = extract_partnerships([("a.txt", TEXTS["a.txt"]), ("copy.txt", TEXTS["a.txt"])])
    assert len(once) == len(twice) == 1
    assert twice[0].sources == ("a.txt", "copy.txt")
