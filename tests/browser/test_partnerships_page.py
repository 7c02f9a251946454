"""The Partnerships pages in headless Chromium: the instruments read from the two example press
texts, the theme and party filters, the coverage of Canada's most exposed materials with its
gaps, the EU-Canada Digital Partnership's own page, downloads, the empty state and a phone."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from chainwatch.partnerships.service import calc_partnership_coverage, read_partnerships
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.queries import default_risk_year
from chainwatch.ui.formatting import format_number
from tests.browser.support import CHROMIUM, NO_CHROMIUM, Visit

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

DIGITAL = "can-eu27-partnership-digital"
DIALOGUE = "can-eu27-dialogue-industrial-policy"
NAMES = ("EU-Canada Digital Partnership", "Industrial Policy Dialogue")


def csv_rows(visit: Visit, href: str) -> list[dict[str, str]]:
    """GET a download link through the page's own session: 200, text/csv, its rows."""
    response = visit.page.request.get(visit.base_url + href)
    assert response.status == 200, href
    assert response.headers["content-type"].startswith("text/csv"), href
    return list(csv.DictReader(io.StringIO(response.text())))


def sideways_overflow(visit: Visit) -> int:
    overflow: int = visit.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


def test_partnerships_page_lists_records_and_canadas_coverage(
    desktop: Visit, partnership_texts: Path, browser_store: Store
) -> None:
    desktop.open("/partnerships?perspective=CAN")
    page = desktop.page
    assert page.locator("h1").inner_text() == "Partnerships"
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Partnerships"
    assert page.locator("#no-texts").count() == 0

    names = [
        name.strip() for name in page.locator("#partnerships-table tbody th a").all_inner_texts()
    ]
    assert set(NAMES) <= set(names)
    digital = page.locator(f"#partnerships-table tr[data-partnership='{DIGITAL}']")
    assert digital.locator("[data-field=status]").inner_text() == "concluded"
    assert digital.locator("[data-field=commitments]").inner_text() == "13"
    assert "Canada" in digital.locator("[data-field=parties]").inner_text()
    assert "Semiconductors" in digital.locator("[data-field=themes]").inner_text()

    with AppState(None, partnership_texts) as state:
        records = read_partnerships(state)
    year = default_risk_year(browser_store)
    expected = calc_partnership_coverage(browser_store, records, "CAN", year, 15)
    rows = page.locator("#coverage-table tbody tr")
    assert rows.count() == len(expected) == 15
    materials = rows.evaluate_all("rows => rows.map(r => r.dataset.material)")
    assert materials == list(expected["material"])
    first = rows.nth(0).locator("[data-field=eu_supply_risk]").inner_text()
    assert first == format_number(expected.iloc[0]["eu_supply_risk"])
    coverage = rows.evaluate_all("rows => rows.map(r => r.dataset.coverage)")
    assert coverage == list(expected["coverage"])
    gaps = page.locator("#coverage-table tbody tr[data-coverage=none]")
    assert gaps.count() >= 1
    assert "gap" in (gaps.first.get_attribute("class") or "")
    assert gaps.first.locator("[data-field=coverage]").inner_text() == "none — gap"
    covered = page.locator("#coverage-table tbody tr:not([data-coverage=none])")
    assert covered.count() >= 1
    links = covered.first.locator("[data-field=covering] a")
    assert links.count() >= 1
    assert (links.first.get_attribute("href") or "").startswith("/partnerships/can-eu27-")
    assert "named" in page.locator("#coverage-method").inner_text()

    list_csv = page.locator("#partnerships a[data-csv]").get_attribute("href") or ""
    assert list_csv.startswith("/api/v1/partnerships?") and "format=csv" in list_csv
    assert set(NAMES) <= {row["name"] for row in csv_rows(desktop, list_csv)}
    coverage_csv = page.locator("#coverage a[data-csv]").get_attribute("href") or ""
    assert coverage_csv.startswith("/api/v1/partnerships/coverage?perspective=CAN")
    assert [row["material"] for row in csv_rows(desktop, coverage_csv)] == materials
    desktop.screenshot("partnerships-CAN-desktop")


def test_partnership_filters_by_theme_and_party(desktop: Visit, partnership_texts: Path) -> None:
    desktop.open("/partnerships?perspective=CAN")
    page = desktop.page
    total = page.locator("#partnerships-table tbody tr").count()
    with page.expect_navigation():
        page.select_option("select[name=theme]", "critical_minerals")
    assert "theme=critical_minerals" in page.url and "perspective=CAN" in page.url
    shown = page.locator("#partnerships-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.partnership)"
    )
    assert shown == [DIALOGUE]
    list_csv = page.locator("#partnerships a[data-csv]").get_attribute("href") or ""
    assert "theme=critical_minerals" in list_csv
    assert [row["id"] for row in csv_rows(desktop, list_csv)] == [DIALOGUE]
    assert page.locator("#coverage-table tbody tr").count() == 15  # coverage ignores filters

    with page.expect_navigation():
        page.select_option("select[name=party]", "EU27")
    assert "party=EU27" in page.url and "theme=critical_minerals" in page.url
    assert page.locator("#partnerships-table tbody tr").count() == 1
    with page.expect_navigation():
        page.locator("#clear-filters").click()
    assert page.locator("#partnerships-table tbody tr").count() == total


def test_digital_partnership_page(desktop: Visit, partnership_texts: Path) -> None:
    desktop.open("/partnerships?perspective=CAN")
    page = desktop.page
    with page.expect_navigation():
        page.locator("#partnerships-table a", has_text=NAMES[0]).click()
    assert page.url.endswith(f"/partnerships/{DIGITAL}?perspective=CAN")
    assert page.locator("h1").inner_text().startswith("EU-Canada Digital Partnership")
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Partnerships"
    assert page.locator("#status").inner_text() == "concluded"
    assert "Digital Partnership" in page.locator("#aliases").inner_text()
    parties = page.locator("[data-figure=parties]").inner_text()
    assert "Canada" in parties and "European Union" in parties

    concluded = page.locator("#dates-table tr[data-event=concluded]")
    assert concluded.count() == 1
    when = concluded.locator("td.date").inner_text()
    assert "23-24 November" in when and "year not stated" in when
    assert not any(str(year) in when for year in range(1990, 2040))
    assert (
        page.locator("#dates-table .year-missing").count()
        == page.locator("#dates-table tbody tr").count()
    )  # no date of this text carries a year

    assert page.locator("#commitment-list > li").count() == 13
    assert page.locator("#commitment-count").inner_text() == "13"
    first = page.locator("#commitment-list > li").first
    assert first.locator("[data-field=modality]").inner_text() in ("firm", "intended", "done")
    assert first.locator("blockquote").inner_text().strip()
    assert "eu_canada_digital_partnership.txt" in first.inner_text()

    named = page.locator("#materials-named a")
    assert named.count() == 1
    assert named.get_attribute("href") == "/material/semiconductors?perspective=CAN"
    gallium = page.locator("#materials-by-theme a", has_text="Gallium")
    assert gallium.count() >= 1
    assert page.locator("#evidence blockquote").count() == 3
    assert page.locator("#placeholders").count() == 0

    commitments = csv_rows(desktop, f"/partnerships/{DIGITAL}/commitments.csv")
    assert len(commitments) == 13
    desktop.screenshot("partnership-digital-desktop")

    with page.expect_navigation():
        named.click()
    assert page.url.endswith("/material/semiconductors?perspective=CAN")


def test_unknown_partnership_gets_a_readable_page(desktop: Visit, partnership_texts: Path) -> None:
    response = desktop.open("/partnerships/no-such-partnership?perspective=CAN")
    assert response.status == 404
    assert (
        "no partnership with id 'no-such-partnership'"
        in desktop.page.locator("#error-message").inner_text()
    )
    desktop.errors.clear()  # the browser logs the 404 status itself


def test_partnerships_page_without_texts(desktop: Visit, no_partnership_texts: None) -> None:
    desktop.open("/partnerships")
    page = desktop.page
    assert (
        page.locator("#no-texts")
        .inner_text()
        .count("No texts yet: add press releases with chainwatch texts add FILE…")
        == 1
    )
    assert page.locator("#partnerships-table").count() == 0
    assert page.locator("#coverage-table").count() == 0
    desktop.screenshot("partnerships-empty-desktop")


@pytest.mark.parametrize(
    ("name", "path"),
    [("partnerships-CAN", "/partnerships?perspective=CAN"),
     ("partnership-digital", f"/partnerships/{DIGITAL}?perspective=CAN")],
)  # fmt: skip
def test_partnership_pages_fit_a_phone(
    phone: Visit, partnership_texts: Path, name: str, path: str
) -> None:
    phone.open(path)
    phone.screenshot(f"{name}-phone")
    overflow = sideways_overflow(phone)
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a phone"
