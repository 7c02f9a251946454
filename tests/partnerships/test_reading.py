"""Reading texts: furniture, repeated paragraphs, placeholders, HTML, bad files.

Texts written here are SYNTHETIC, short sentences in the style of announcements.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.errors import InputError
from chainwatch.partnerships import clean_text, extract_partnerships, read_text_file
from chainwatch.partnerships.text import detect_language, split_sentences

EXAMPLES = Path(__file__).parents[2] / "examples" / "partnership_texts"

BODY = [
    "Canada and Japan today launched the Canada-Japan Battery Supply Chain Partnership.",
    "The partners will exchange information on lithium and nickel projects.",
    "Under the Partnership, Japan will invest $300 million in processing in Canada by 2030.",
]


def test_repeated_paragraphs_are_dropped_once_each() -> None:
    text = clean_text("t.txt", "\n\n".join(BODY + BODY + [BODY[1]]))
    assert text.paragraphs == tuple(BODY)
    assert text.duplicates_removed == 4


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2), min_size=0, max_size=6))
def test_repeating_paragraphs_never_changes_the_records(repeats: list[int]) -> None:
    raw = "\n".join(BODY + [BODY[i] for i in repeats])
    (record,) = extract_partnerships([("t.txt", "\n".join(BODY))])
    (again,) = extract_partnerships([("t.txt", raw)])
    assert again == record


def test_placeholders_are_flagged_not_guessed() -> None:
    raw = (
        "The United Kingdom and Japan will launch the UK-Japan Semiconductor Forum on [date].\n"
        "The UK will fund it with [amount] and £30m for research on {{topic}}."
    )
    text = clean_text("draft.txt", raw)
    assert [p.text for p in text.placeholders] == ["[date]", "[amount]", "{{topic}}"]
    assert all(p.source == "draft.txt" for p in text.placeholders)
    (record,) = extract_partnerships([("draft.txt", raw)])
    assert [(a.value, a.currency) for a in record.amounts] == [(30e6, "GBP")]
    assert [p.text for p in record.placeholders] == ["[date]", "[amount]", "{{topic}}"]
    assert all(event.date.text != "[date]" for event in record.dates)


def test_footnote_numbers_are_not_placeholders() -> None:
    assert clean_text("t.txt", "Canada signed the Accord [1] in 2024.").placeholders == ()


def test_html_furniture_is_removed() -> None:
    html = """<html><head><title>News</title><script>var x = "Partnership";</script></head>
    <body><nav><a>Home</a><a>Canada-EU Trade Agreement</a></nav>
    <header>Government of Canada</header>
    <div class="cookie">We use cookies to improve this site.</div>
    <main><h1>Canada and Germany launch Hydrogen Alliance</h1>
    <p>Canada and Germany today launched the Canada&ndash;Germany Hydrogen&nbsp;Alliance.</p>
    <p>Share this page</p><p>Date modified: 2025-03-11</p></main>
    <footer>Terms and conditions</footer></body></html>"""
    text = clean_text("page.html", html)
    assert text.paragraphs == (
        "Canada and Germany launch Hydrogen Alliance",
        "Canada and Germany today launched the Canada–Germany Hydrogen Alliance.",
    )
    records = extract_partnerships([("page.html", html)])
    assert [(r.name, r.parties, r.status) for r in records] == [
        ("Canada–Germany Hydrogen Alliance", ("CAN", "DEU"), "launched")
    ]


def test_contacts_and_links_blocks_are_furniture() -> None:
    raw = "\n".join([
        BODY[0], "", "Related links", "", "- Canada-Korea Free Trade Agreement",
        "Media contacts", "Press Office", "613-555-0100", "press@example.ca",
    ])  # fmt: skip
    text = clean_text("t.txt", raw)
    assert text.paragraphs == (BODY[0],)
    assert [r.name for r in extract_partnerships([("t.txt", raw)])] == [
        "Canada-Japan Battery Supply Chain Partnership"
    ]


def test_sentences_keep_abbreviations_together() -> None:
    assert split_sentences("The U.S. and the U.K. agreed. Japan did too.") == [
        "The U.S. and the U.K. agreed.",
        "Japan did too.",
    ]


def test_language_is_detected() -> None:
    assert detect_language("Le Canada et l'Union européenne ont lancé un partenariat.") == "fr"
    assert detect_language((EXAMPLES / "eu_canada_digital_partnership.txt").read_text()) == "en"


def test_a_text_without_instruments_gives_no_record() -> None:
    raw = "Canada's exports of nickel rose 12 % in 2024, Statistics Canada said on Tuesday."
    assert extract_partnerships([("news.txt", raw)]) == []


def test_undecodable_bytes_are_reported_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Canada and the EU\nlaunched a Partenariat \xe9conomique".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_text_file(path)
    assert str(caught.value) == (
        f"{path}, row 2: byte 0xe9 at column 24 is not UTF-8 (save the file as UTF-8)"
    )


def test_empty_and_missing_files_are_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="the file is empty"):
        read_text_file(empty)
    with pytest.raises(InputError, match="cannot read the file"):
        read_text_file(tmp_path / "missing.txt")
