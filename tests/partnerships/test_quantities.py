"""Amounts, dates and country-name variants as announcements write them (SYNTHETIC phrases)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainwatch.partnerships.nlp import find_matches, ids
from chainwatch.partnerships.quantities import find_amounts, find_dates


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("€150 billion", 150e9, "EUR"),
        ("EUR 150 bn", 150e9, "EUR"),
        ("EUR150bn", 150e9, "EUR"),
        ("C$2.5 billion", 2.5e9, "CAD"),
        ("CA$2.5 billion", 2.5e9, "CAD"),
        ("US$ 1.2 billion", 1.2e9, "USD"),
        ("$500 million", 500e6, "USD"),
        ("£30m", 30e6, "GBP"),
        ("CAD 40 million", 40e6, "CAD"),
        ("1,500 million euros", 1.5e9, "EUR"),
        ("2.5 billion Canadian dollars", 2.5e9, "CAD"),
        ("¥1 trillion", 1e12, "JPY"),
        ("A$500 million", 500e6, "AUD"),
        ("$1,250,000", 1.25e6, "USD"),
        ("a five-year, $500-million", 500e6, "USD"),
    ],
)
def test_currency_notations(text: str, value: float, currency: str) -> None:
    (amount,) = find_amounts(f"The programme is worth {text} over five years.")
    assert (amount.value, amount.currency) == (pytest.approx(value), currency)


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("150 milliards d'euros", 150e9, "EUR"),
        ("2,5 milliards de dollars canadiens", 2.5e9, "CAD"),
        ("40 millions de dollars", 40e6, "USD"),
        ("1 200 millions d’euros", 1.2e9, "EUR"),
    ],
)
def test_french_notations(text: str, value: float, currency: str) -> None:
    (amount,) = find_amounts(f"Le fonds de {text} soutiendra les projets.", "fr")
    assert (amount.value, amount.currency) == (pytest.approx(value), currency)


def test_a_bracketed_conversion_is_an_equivalent_not_a_second_amount() -> None:
    (amount,) = find_amounts("SAFE, the EU's €150 billion ($172 billion) programme")
    assert (amount.value, amount.currency) == (150e9, "EUR")
    assert [(e.value, e.currency) for e in amount.equivalents] == [(172e9, "USD")]
    (amount,) = find_amounts("a fund of C$2 billion (about US$1.5 billion)")
    assert [(e.value, e.currency) for e in amount.equivalents] == [(1.5e9, "USD")]


def test_years_and_counts_are_not_money() -> None:
    assert find_amounts("In 2024, 27 member states and 3 partners met for 2 days.") == ()


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["million", "billion"]))
def test_written_amounts_round_trip(number: int, scale: str) -> None:
    (amount,) = find_amounts(f"an investment of €{number} {scale} in mining")
    assert amount.value == number * (1e6 if scale == "million" else 1e9)
    assert amount.currency == "EUR"


@pytest.mark.parametrize(
    ("text", "year", "month", "day"),
    [
        ("signed on March 28, 2023", 2023, 3, 28),
        ("signed on 28 March 2023", 2023, 3, 28),
        ("met on 1 February", None, 2, 1),
        ("le 1er février 2024", 2024, 2, 1),
        ("at the 23-24 November summit", None, 11, 23),
        ("published 2024-05-14", 2024, 5, 14),
        ("by 2030", 2030, None, None),
        ("in February", None, 2, None),
        ("in Q3 2025", 2025, 7, None),
    ],
)
def test_dates_keep_unknown_parts_unknown(
    text: str, year: int | None, month: int | None, day: int | None
) -> None:
    (date,) = find_dates(text)
    assert (date.year, date.month, date.day) == (year, month, day)


def test_relative_dates_are_marked() -> None:
    (date,) = find_dates("to convene a Council in the spring")
    assert date.relative and date.year is None


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("the United States of America", "USA"),
        ("the U.S. Trade Representative", "USA"),
        ("the US and partners", "USA"),
        ("Britain", "GBR"),
        ("the United Kingdom", "GBR"),
        ("the U.K.", "GBR"),
        ("the Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("Türkiye", "TUR"),
        ("Viet Nam", "VNM"),
        ("the Russian Federation", "RUS"),
        ("the Government of Canada", "CAN"),
        ("the European Commission", "EU27"),
        ("l'Union européenne", "EU27"),
        ("les États-Unis", "USA"),
        ("the Democratic Republic of the Congo", "COD"),
    ],
)
def test_country_name_variants(text: str, party: str) -> None:
    assert ids(find_matches(f"Canada met {text} today."), "party") == ("CAN", party) or (
        party == "CAN" and ids(find_matches(f"Canada met {text} today."), "party") == ("CAN",)
    )


@pytest.mark.parametrize(
    "text",
    [
        "the North American market",
        "between Europe and Asia",
        "let us work together",
        "Nigeria",  # must not match Niger
    ],
)
def test_regions_and_words_are_not_parties(text: str) -> None:
    found = ids(find_matches(f"Canada and {text}."), "party")
    assert found in (("CAN",), ("CAN", "NGA"))


def test_country_names_in_lower_case_are_words() -> None:
    found = ids(
        find_matches("Elles tiendront une réunion ministérielle à la Réunion.", "fr"), "party"
    )
    assert found == ("REU",)  # the island, written as a proper noun, and only it


def test_a_bare_dollar_is_usd_but_marked_assumed() -> None:
    bare, canadian, american = find_amounts("$5 million, C$5 million and US$5 million")
    assert (bare.currency, bare.currency_assumed) == ("USD", True)
    assert (canadian.currency, canadian.currency_assumed) == ("CAD", False)
    assert (american.currency, american.currency_assumed) == ("USD", False)
