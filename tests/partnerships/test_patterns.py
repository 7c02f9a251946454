"""Common ways announcements name instruments (SYNTHETIC one-sentence texts)."""

from __future__ import annotations

import pytest

from chainwatch.partnerships import extract_partnerships

CASES = [
    ("G7 leaders today launched the Critical Minerals Action Plan to diversify supply chains.",
     "Critical Minerals Action Plan", "programme", "launched", ("G7",)),
    ("The EU-US Trade and Technology Council (TTC) met in Lulea on 31 May 2023.",
     "EU-US Trade and Technology Council", "dialogue", "referenced", ("EU27", "USA")),
    ("Japan and the European Union signed a Memorandum of Cooperation on semiconductors.",
     "Memorandum of Cooperation on semiconductors", "agreement", "signed", ("EU27", "JPN")),
    ("Canada and Australia agreed to establish a Critical Minerals Working Group.",
     "Critical Minerals Working Group", "working group", "agreed", ("AUS", "CAN")),
    ("The two countries released the Canada-U.S. Joint Action Plan on Critical Minerals "
     "Collaboration in January 2020.",
     "Canada-U.S. Joint Action Plan on Critical Minerals Collaboration", "programme",
     "referenced", ("CAN", "USA")),
    ("India and the United Kingdom concluded a Free Trade Agreement on 6 May 2025.",
     "Free Trade Agreement", "agreement", "concluded", ("GBR", "IND")),
    ("France and Italy will set up a joint task force on critical raw materials.",
     "task force on critical raw materials", "working group", "planned", ("FRA", "ITA")),
    ("Germany and Canada signed a Joint Declaration of Intent on hydrogen in August 2022.",
     "Declaration of Intent on hydrogen", "agreement", "signed", ("CAN", "DEU")),
    ("The EU and Chile concluded negotiations on an Advanced Framework Agreement.",
     "Advanced Framework Agreement", "agreement", "concluded", ("CHL", "EU27")),
    ("Japan and the EU marked five years of the EU-Japan Economic Partnership Agreement (EPA), "
     "which entered into force on 1 February 2019.",
     "EU-Japan Economic Partnership Agreement", "agreement", "in force", ("EU27", "JPN")),
    ("The Government of Canada announced the Critical Minerals Infrastructure Fund.",
     "Critical Minerals Infrastructure Fund", "programme", "launched", ("CAN",)),
    ("The UK and US today agreed to begin negotiations on a Critical Minerals Agreement.",
     "Critical Minerals Agreement", "agreement", "planned", ("GBR", "USA")),
    ("Canada and Australia today signed a Statement of Intent on Critical Minerals.",
     "Statement of Intent on Critical Minerals", "agreement", "signed", ("AUS", "CAN")),
    ("United States and Japan Sign Critical Minerals Agreement",
     "Critical Minerals Agreement", "agreement", "referenced", ("JPN", "USA")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "name", "instrument", "status", "parties"), CASES)
def test_instrument_names(
    text: str, name: str, instrument: str, status: str, parties: tuple[str, ...]
) -> None:
    (record,) = extract_partnerships([("t.txt", text)])
    assert (record.name, record.instrument, record.status, record.parties) == (
        name, instrument, status, parties)  # fmt: skip


def test_an_acronym_given_once_is_recognised_later() -> None:
    text = (
        "The Minerals Security Partnership (MSP) was launched in June 2022. "
        "The MSP will fund 15 projects in lithium and cobalt."
    )
    (record,) = extract_partnerships([("t.txt", text)])
    assert record.aliases == ("MSP",)
    assert record.materials == ("lithium", "cobalt")
    assert [c.kinds for c in record.commitments][-1] == ("fund",)


def test_summits_and_bodies_are_not_instruments_of_their_own() -> None:
    text = (
        "At the EU-Canada Summit, leaders welcomed the EU-Canada Digital Partnership. "
        "The Digital Partnership Council will meet in the spring."
    )
    (record,) = extract_partnerships([("t.txt", text)])
    assert record.name == "EU-Canada Digital Partnership"


def test_list_items_take_the_cue_of_the_sentence_that_introduces_them() -> None:
    text = (
        "Canada and Germany launched the Canada-Germany Hydrogen Alliance.\n"
        "Under the Alliance, the two countries will:\n"
        "- share information on hydrogen certification;\n"
        "\u2022 launch a joint funding window of \u20ac300 million.\n"
        "The weather was fine."
    )
    (record,) = extract_partnerships([("t.txt", text)])
    listed = [c for c in record.commitments if "will:" in c.sentence]
    assert [(c.modality, c.kinds, c.actors) for c in listed] == [
        ("firm", ("exchange information",), ("CAN", "DEU")),
        ("firm", ("establish", "fund"), ("CAN", "DEU")),
    ]
    assert listed[1].sentence == (
        "Under the Alliance, the two countries will: launch a joint funding window of "
        "\u20ac300 million."
    )
    assert [(a.value, a.currency) for a in listed[1].amounts] == [(300e6, "EUR")]
