"""The Alerts page in headless Chromium: the alerts of 2014 with the Indonesian nickel ore
ban, the filters, the backtest figures, chart and events, downloads, and a phone."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from chainwatch.store import Store
from chainwatch.ui.formatting import format_number, format_percent
from chainwatch.watch.backtest import run_backtest
from tests.browser.support import CHROMIUM, NO_CHROMIUM, Visit

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

IDN_NICKEL = "tr[data-scope='IDN|nickel|mine']"
PAGE_TIMEOUT_MS = 90_000
"""The first Alerts page replays the backtest (about 15 s on a laptop)."""


@pytest.fixture(scope="module")
def backtest_summary(browser_store: Store) -> dict[str, Any]:
    return run_backtest(browser_store, 2000, 2024).summary


def download(visit: Visit, locator: Any) -> tuple[str, bytes]:
    with visit.page.expect_download() as pending:
        locator.click()
    item = pending.value
    return item.suggested_filename, Path(item.path()).read_bytes()


def open_alerts(visit: Visit, path: str) -> None:
    visit.page.set_default_timeout(PAGE_TIMEOUT_MS)
    visit.page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    visit.open(path)
    visit.wait_for_charts()


def test_alerts_of_2014_show_the_indonesian_nickel_ban(
    desktop: Visit, backtest_summary: dict[str, Any]
) -> None:
    open_alerts(desktop, "/alerts?year=2014")
    page = desktop.page
    assert page.locator("h1").inner_text() == "Early warning, 2014"
    assert page.locator(".site-nav a[aria-current=page]").inner_text() == "Alerts"

    row = page.locator(IDN_NICKEL)
    assert row.count() == 1
    assert row.locator(".chip").inner_text() == "critical"
    assert "supplier-export-drop" in row.locator("td.rule").inner_text()
    sentence = row.locator("td.sentence").inner_text()
    assert sentence.startswith("Indonesia's exports of nickel (mine: 260400) fell 79 %")
    assert "IDN-2014-ORE" in sentence
    assert row.locator("[data-field=since]").inner_text().startswith("2014")

    summary = backtest_summary
    assert page.locator("#bt-recall .big").inner_text() == format_percent(summary["recall"], 0)
    assert page.locator("#bt-recall [data-value]").inner_text() == str(summary["events_caught"])
    assert page.locator("#bt-precision .big").inner_text() == format_percent(
        summary["precision"], 1
    )
    false_alarms = page.locator("#bt-false .big").inner_text()
    assert false_alarms.startswith(format_number(summary["false_alarms_per_year"], 1))
    event = page.locator("#events-table tr[data-event='IDN-2014-ORE']")
    assert event.get_attribute("data-outcome") == "caught"
    unscorable = page.locator("#events-table tr[data-outcome=unscorable] td.reason")
    assert unscorable.count() == summary["events_listed"] - summary["events_scoreable"]
    assert all(text.strip() not in ("", "—") for text in unscorable.all_inner_texts())

    bars = page.evaluate("() => document.getElementById('chart-alarms').data.map(t => t.y)")
    assert len(bars) == 3 and all(len(values) == 25 for values in bars)
    assert sum(bars[1]) == summary["false_alarms"]
    desktop.screenshot("alerts-2014-desktop")


def test_alert_filters_and_downloads(desktop: Visit) -> None:
    open_alerts(desktop, "/alerts?year=2014&perspective=ALLIED")
    page = desktop.page
    with page.expect_navigation():
        page.select_option("select[name=severity]", "critical")
    assert "severity=critical" in page.url
    assert set(page.locator("#alerts-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.severity)")) == {"critical"}  # fmt: skip
    with page.expect_navigation():
        page.select_option("select[name=material]", "nickel")
    assert "material=nickel" in page.url and "severity=critical" in page.url
    assert page.locator(IDN_NICKEL).count() == 1

    name, content = download(desktop, page.locator("#alerts-heading ~ p a[data-csv]"))
    assert name == "alerts-ALLIED-2014-critical-nickel.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert "IDN|nickel|mine" in {row["scope"] for row in rows}
    assert {row["severity"] for row in rows} == {"critical"}

    name, content = download(desktop, page.locator("a[href='/alerts/backtest.csv']"))
    assert name == "backtest-events-2000-2024.csv"
    assert b"IDN-2014-ORE" in content
    name, content = download(
        desktop, page.locator("button[data-download=svg][data-target=chart-alarms]")
    )
    assert name.endswith(".svg") and content.lstrip().startswith(b"<svg")
    name, content = download(
        desktop, page.locator("button[data-download=png][data-target=chart-alarms]")
    )
    assert name == "backtest-alerts-2000-2024.png" and content.startswith(b"\x89PNG")


def test_alerts_page_fits_a_phone(phone: Visit) -> None:
    open_alerts(phone, "/alerts?year=2014")
    assert phone.page.locator(IDN_NICKEL).count() == 1
    phone.screenshot("alerts-2014-phone")
    overflow = phone.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the Alerts page scrolls sideways by {overflow}px on a phone"
    box = phone.page.locator("#chart-alarms").bounding_box()
    assert box is not None and box["width"] <= 390
