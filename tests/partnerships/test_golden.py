"""Golden records for the two real seed texts (examples/partnership_texts), hand-checked.

``golden/seed_records.json`` holds every field the extractor returns (the evidence sentences
aside). It was written by the extractor and then read against the texts line by line; the
assertions below state the facts a reader checks first, so a change to the golden file that
breaks one of them cannot slip through as a "snapshot update".
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from chainwatch.partnerships import Partnership, clean_text, extract_partnerships, read_text_file

EXAMPLES = Path(__file__).parents[2] / "examples" / "partnership_texts"
GOLDEN = Path(__file__).parent / "golden" / "seed_records.json"
DIGITAL = "eu_canada_digital_partnership.txt"
INDUSTRIAL = "eu_canada_industrial_policy_dialogue.txt"


@pytest.fixture(scope="module")
def records() -> dict[str, Partnership]:
    texts = [(name, read_text_file(EXAMPLES / name)) for name in (DIGITAL, INDUSTRIAL)]
    return {record.name: record for record in extract_partnerships(texts)}


def _comparable(record: Partnership) -> dict[str, Any]:
    fields = asdict(record)
    fields.pop("evidence")
    return json.loads(json.dumps(fields))  # tuples -> lists, as in the golden file


def test_records_equal_the_golden_file(records: dict[str, Partnership]) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [_comparable(record) for record in records.values()] == golden


def test_five_instruments_between_canada_and_the_eu(records: dict[str, Partnership]) -> None:
    assert set(records) == {
        "EU-Canada Digital Partnership",
        "Digital Dialogue",
        "Industrial Policy Dialogue",
        "EU–Canada Strategic Partnership of the Future",
        "Security and Defence Partnership",
    }
    for record in records.values():
        assert record.parties == ("CAN", "EU27")
        assert record.placeholders == ()
        assert record.amounts == ()  # neither text names an amount


def test_digital_partnership(records: dict[str, Partnership]) -> None:
    record = records["EU-Canada Digital Partnership"]
    assert (record.instrument, record.status) == ("partnership", "concluded")
    assert record.sources == (DIGITAL,)
    assert record.aliases == ("Digital Partnership",)
    assert {
        "artificial_intelligence", "quantum", "semiconductors", "online_platforms",
        "connectivity", "cyber", "digital_identity_trust",
    } <= set(record.themes)  # fmt: skip
    assert record.materials == ("semiconductors",)
    # "1 February" and "23-24 November" carry no year in the text: the year stays unknown
    dated = {(e.event, e.date.text, e.date.year, e.date.month, e.date.day) for e in record.dates}
    assert ("meeting", "1 February", None, 2, 1) in dated
    assert ("concluded", "23-24 November", None, 11, 23) in dated
    # 13 sentences commit the two sides; "There is an opportunity to cooperate" does not
    assert len(record.commitments) == 13
    assert all(c.actors == ("CAN", "EU27") for c in record.commitments)
    by_start = {c.sentence[:30]: c for c in record.commitments}
    semiconductors = by_start["On semiconductors, the EU and "]
    assert semiconductors.modality == "intended"
    assert {"explore", "cooperate", "review"} <= set(semiconductors.kinds)
    council = by_start["The two sides agreed to conven"]
    assert council.modality == "firm"
    assert "establish" in council.kinds
    assert [d.text for d in council.target_dates] == ["in the spring"]
    assert not any(c.sentence.startswith("There is an opportunity") for c in record.commitments)


def test_digital_dialogue_is_its_own_instrument(records: dict[str, Partnership]) -> None:
    record = records["Digital Dialogue"]
    assert record.instrument == "dialogue"
    assert [(c.modality, c.kinds) for c in record.commitments] == [
        ("firm", ("exchange information",))
    ]
    assert [(d.date.month, d.date.year) for d in record.dates] == [(2, None)]


def test_industrial_policy_dialogue(records: dict[str, Partnership]) -> None:
    record = records["Industrial Policy Dialogue"]
    assert (record.instrument, record.status) == ("dialogue", "launched")
    assert record.sources == (INDUSTRIAL,)
    assert record.themes[:3] == ("supply_chain_resilience", "clean_technology",
                                 "critical_minerals")  # fmt: skip
    # the text is repeated in the feed: each commitment sentence is counted once
    sentences = [c.sentence for c in record.commitments]
    assert len(sentences) == len(set(sentences)) == 2
    assert "drafting a joint work plan" in sentences[1]


def test_security_and_defence_partnership(records: dict[str, Partnership]) -> None:
    record = records["Security and Defence Partnership"]
    assert record.instrument == "partnership"
    assert {"defence_security", "cyber", "space"} <= set(record.themes)
    (commitment,) = record.commitments
    assert commitment.modality == "intended"
    assert {"cooperate", "procure"} <= set(commitment.kinds)
    future = records["EU–Canada Strategic Partnership of the Future"]
    assert record.related == (future.id,)
    assert future.related == (record.id,)


def test_commentary_creates_no_instrument(records: dict[str, Partnership]) -> None:
    # "the security/defence pact" is in the analytical commentary paragraph
    assert not any("pact" in name for name in records)


def test_the_industrial_text_loses_its_repeated_half() -> None:
    text = clean_text(INDUSTRIAL, read_text_file(EXAMPLES / INDUSTRIAL))
    assert len(text.paragraphs) == 4
    assert text.duplicates_removed == 4
    assert text.publishers == ("Government of Canada",)
