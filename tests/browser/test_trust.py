"""Pages an analyst can trust, in headless Chromium on the bundled (HS92) data: a missing
figure is never shown as good news, the year and bloc travel with every link, every page
takes the same default year, the first screen's bloc is informative, and the downloads carry
their method ids, versions and vintages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from chainwatch.services.defaults import choose_bloc, default_year
from chainwatch.store import Store
from tests.browser.support import CHROMIUM, NO_CHROMIUM, Visit

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

NOT_COMPUTABLE = "[data-state=not-computable]"


def download(visit: Visit, locator: Any) -> tuple[str, bytes]:
    with visit.page.expect_download() as pending:
        locator.click()
    item = pending.value
    return item.suggested_filename, Path(item.path()).read_bytes()


@pytest.mark.parametrize("material", ["gallium", "germanium"])
def test_missing_trade_is_never_a_green_chip(desktop: Visit, material: str) -> None:
    """The bundle is HS92: gallium's and germanium's HS6 codes carry no flows, so the
    dependency screen cannot be computed; the page says what is missing, never "no
    criterion met"."""
    desktop.open(f"/material/{material}?perspective=ALLIED")
    desktop.wait_for_charts()
    flags = desktop.page.locator("#flags")
    assert "No screen criterion met" not in flags.inner_text()
    assert flags.locator(".flags-none").count() == 0
    missing = flags.locator(NOT_COMPUTABLE).all_inner_texts()
    assert missing and all(text.startswith("Not computable: ") for text in missing)
    assert any("dependency screen" in text or "import HHI > 0.4" in text for text in missing)
    assert any("no trade data loaded for HS6" in t or "no imports recorded" in t for t in missing)
    headline = desktop.page.locator("#headline").inner_text()
    assert headline.startswith(f"No trade figures for {material} (refinery) in 2023") or (
        f"recorded no imports of {material} (refinery) in 2023" in headline
    )
    panel = desktop.page.locator(".stage-panel.current")
    assert panel.locator("[data-figure=reliance]").inner_text() == "not computable"
    desktop.screenshot(f"material-{material}-missing-desktop")


def test_overview_marks_what_cannot_be_computed(desktop: Visit, browser_store: Store) -> None:
    desktop.open("/?perspective=ALLIED&year=2023")
    desktop.wait_for_charts()
    for material in ("gallium", "germanium"):
        cell = desktop.page.locator(f"#risk-table tr[data-material={material}] td.criteria")
        assert cell.locator(NOT_COMPUTABLE).count() >= 1, material
        assert cell.locator("[data-state=not-met]").count() == 0, material
        assert "not computable: " in cell.inner_text()
    missing = int(
        desktop.page.locator("#highlight-dependent [data-count-missing]").get_attribute(
            "data-count-missing"
        )
    )
    assert missing >= 2  # gallium and germanium at least
    hollow = desktop.page.evaluate(
        "() => document.getElementById('chart-matrix').data"
        ".filter(t => t.name.includes('not computable')).map(t => t.customdata.map(c => c[4]))"
    )
    assert "gallium" in hollow[0], "a point without import reliance is drawn apart, not at 0"
    desktop.screenshot("overview-missing-desktop")


@pytest.mark.parametrize(
    "material",
    ["gallium", "germanium", "cobalt", "lithium"],
)
def test_stage_labels_agree_between_overview_and_material(desktop: Visit, material: str) -> None:
    """The stage an overview row names is a stage the material page shows, with the same
    label (one mapping, ui.formatting.format_stage)."""
    desktop.open("/?perspective=ALLIED&year=2023")
    row = desktop.page.locator(f"#risk-table tr[data-material={material}]")
    label = row.locator("td[data-field=stage]").inner_text().strip()
    desktop.open(f"/material/{material}?perspective=ALLIED")
    tabs = [text.strip() for text in desktop.page.locator(".stage-tabs .tab").all_inner_texts()]
    assert label in tabs, f"{material}: overview says {label!r}, the material page {tabs}"


def test_year_and_bloc_travel_with_every_link(desktop: Visit) -> None:
    page = desktop.page
    desktop.open("/materials?perspective=CAN&year=2019&bloc=NATO")
    assert page.locator("#bloc-select").input_value() == "NATO"
    for name in ("Overview", "Countries", "Alerts", "Partnerships", "Sources"):
        href = page.locator(".site-nav a", has_text=name).get_attribute("href") or ""
        assert "year=2019" in href and "bloc=NATO" in href, (name, href)
    page.locator("#materials-table tr[data-material=cobalt] th a").click()
    page.wait_for_url("**/material/cobalt?**")
    desktop.wait_for_charts()
    assert "year=2019" in page.url and "bloc=NATO" in page.url
    assert page.locator("select[name=year]").input_value() == "2019"
    headline = page.locator("#headline").inner_text()
    assert " in 2019; " in headline and "from outside NATO" in headline
    supplier = page.locator("#suppliers-table tbody tr th a").first
    with page.expect_navigation():
        supplier.click()
    assert "year=2019" in page.url and "bloc=NATO" in page.url
    assert page.locator("select[name=year]").input_value() == "2019"
    with page.expect_navigation():
        page.select_option("select[name=year]", "2020")
    assert "year=2020" in page.url and "bloc=NATO" in page.url
    with page.expect_navigation():
        page.select_option("#perspective-select", "EU27")
    assert "perspective=EU27" in page.url and "year=2020" in page.url and "bloc=NATO" in page.url


def test_overview_links_keep_the_year(desktop: Visit) -> None:
    """A 2019 overview opens 2019 material pages, from the table, the highlights, the
    "go to" form and the matrix."""
    page = desktop.page
    desktop.open("/?perspective=ALLIED&year=2019")
    desktop.wait_for_charts()
    assert (
        page.locator("#risk-table tbody tr th a").first.get_attribute("href").endswith("year=2019")
    )
    assert "year=2019" in (page.locator("#highlight-exposed a").first.get_attribute("href") or "")
    links = page.evaluate("() => JSON.parse(document.getElementById('page-data').textContent)"
                          ".charts.matrix.links")  # fmt: skip
    assert links == {"year": 2019}
    with page.expect_navigation():
        page.select_option("#material-jump", "cobalt")
    assert "/material/cobalt?" in page.url and "year=2019" in page.url
    assert page.locator("select[name=year]").input_value() == "2019"


def test_every_page_takes_the_one_default_year(desktop: Visit, browser_store: Store) -> None:
    year = default_year(browser_store)
    desktop.open("/material/cobalt?perspective=CAN")
    assert desktop.page.locator("select[name=year]").input_value() == str(year)
    desktop.open("/country/CHN?perspective=CAN")
    assert desktop.page.locator("select[name=year]").input_value() == str(year)
    desktop.open("/alerts?perspective=ALLIED")
    assert desktop.page.locator("h1").inner_text() == f"Early warning, {year}"
    assert desktop.page.locator("select[name=year]").input_value() == str(year)


def test_first_screen_measures_allied_against_a_wider_bloc(desktop: Visit) -> None:
    desktop.open("/")
    chosen = choose_bloc("ALLIED")
    assert chosen.code == "OECD"
    assert desktop.page.locator("#bloc-note").inner_text() == chosen.note
    assert desktop.page.locator("#bloc-name").inner_text() == "the OECD"
    shares = desktop.page.locator("#risk-table td[data-field=outside_bloc_share]").all_inner_texts()
    shown = [text for text in shares if text.strip() != "—"]
    assert len(shown) > 20 and len(set(shown)) > 20, "outside-bloc share varies by material"


def test_downloads_carry_method_version_and_vintages(desktop: Visit) -> None:
    desktop.open("/?perspective=ALLIED&year=2023")
    footer = desktop.page.locator("section p.provenance").last
    name, content = download(desktop, footer.locator("a[data-csv]"))
    assert name == "risk-ALLIED-2023.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert len(rows) == desktop.page.locator("#risk-table tbody tr").count()
    first = rows[0]
    assert "eu_crm.supply_risk" in first["method_ids"].split("; ")
    assert len(first["method_ids"].split("; ")) == len(first["method_versions"].split("; "))
    assert "CEPII BACI V202401b" in first["sources"] and first["bloc"] == "OECD"

    name, content = download(desktop, footer.locator("a[data-format=parquet]"))
    assert name == "risk-ALLIED-2023.parquet"
    metadata = pq.read_schema(io.BytesIO(content)).metadata
    assert metadata[b"chainwatch.bloc"] == b"OECD"
    assert metadata[b"chainwatch.method_ids"].decode() == first["method_ids"]
    assert metadata[b"chainwatch.sources"].decode() == first["sources"]

    name, content = download(desktop, footer.locator("a[data-format=xlsx]"))
    assert name == "risk-ALLIED-2023.xlsx"
    book = load_workbook(io.BytesIO(content), read_only=True)
    fields = dict(book["provenance"].iter_rows(min_row=2, values_only=True))
    assert fields["method_versions"] == first["method_versions"]
    assert fields["year"] == "2023" and fields["perspective"] == "ALLIED"


def test_bloc_picker_fits_a_phone(phone: Visit) -> None:
    phone.open("/materials?perspective=ALLIED")
    phone.screenshot("materials-bloc-picker-phone")
    overflow = phone.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    box = phone.page.locator("#bloc-select").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
