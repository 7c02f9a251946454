"""/alerts and /alerts/backtest on the bundled store: the monitor's alerts of a year, filters,
CSV, 304, problems, and the backtest scored as chainwatch.watch.backtest scores it."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree

import pytest

from chainwatch.watch.backtest import run_backtest
from chainwatch.watch.monitor import calc_alerts
from tests.api.conftest import API, ApiClient
from tests.api.support import bundled_store

IDN_NICKEL = "IDN|nickel|mine"


def test_alerts_of_2014_hold_the_indonesian_nickel_ore_ban(client: ApiClient) -> None:
    body = client.get(API + "/alerts", params={"year": 2014, "page_size": 5000}).json()
    assert body["year"] == 2014 and body["bloc"] == "ALLIED"
    assert body["perspectives"] == ["ALLIED", "CAN", "EU27", "GBR", "USA"]
    assert body["method"] == "docs/watch.md" and "trade_flow" in body["sources"]
    (nickel,) = [item for item in body["items"] if item["scope"] == IDN_NICKEL]
    assert nickel["rule_id"] == "supplier-export-drop"
    assert nickel["severity"] == "critical"
    assert (nickel["first_year"], nickel["continuing"]) == (2014, False)
    assert nickel["sentence"].startswith("Indonesia's exports of nickel (mine: 260400) fell")
    assert "IDN-2014-ORE" in nickel["related_events"]
    assert nickel["series"][-1]["period"] == "2014"
    assert nickel["series"][-1]["value"] == pytest.approx(7.674e6, rel=1e-3)
    assert nickel["baseline"].startswith("median 37.0 Mt over 2009-2013")
    assert "change_z<=-3" in nickel["threshold"]
    assert "CEPII BACI" in nickel["sources"]


def test_alerts_are_the_monitors(client: ApiClient) -> None:
    body = client.get(API + "/alerts", params={"year": 2014, "perspective": "CAN"}).json()
    expected = calc_alerts(bundled_store(), 2014, perspective="CAN")
    assert [item["alert_id"] for item in body["items"]] == [a.alert_id for a in expected]
    assert [item["sentence"] for item in body["items"]] == [a.sentence for a in expected]
    assert body["perspectives"] == ["CAN"]


def test_default_year_is_the_latest_trade_year(client: ApiClient) -> None:
    body = client.get(API + "/alerts").json()
    assert body["year"] == 2024
    assert {item["year"] for item in body["items"]} == {2024}


def test_alert_filters(client: ApiClient) -> None:
    everything = client.get(API + "/alerts?year=2014&page_size=5000").json()["items"]
    nickel = client.get(API + "/alerts?year=2014&material=nickel").json()["items"]
    assert nickel and all("nickel" in item["material"].split(";") for item in nickel)
    assert len(nickel) < len(everything)
    critical = client.get(API + "/alerts?year=2014&severity=critical").json()["items"]
    assert critical and {item["severity"] for item in critical} == {"critical"}
    assert IDN_NICKEL in {item["scope"] for item in critical}
    info = client.get(API + "/alerts?year=2014&material=nickel&severity=info").json()
    assert info["items"] == [] and info["total"] == 0


def test_alerts_as_csv(client: ApiClient) -> None:
    response = client.get(API + "/alerts?year=2014&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="chainwatch-alerts.csv"' in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    (nickel,) = [row for row in table if row["scope"] == IDN_NICKEL]
    assert nickel["severity"] == "critical" and "2014=7.67401e+06" in nickel["series"]
    assert "state" not in table[0]


def test_alerts_answer_304_to_a_current_etag(client: ApiClient) -> None:
    first = client.get(API + "/alerts?year=2014")
    again = client.get(API + "/alerts?year=2014", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("year=1990", 404, "no trade data for [1990]"),
        ("year=2014&perspective=XYZ", 404, "unknown perspective"),
        ("year=2014&material=unobtainium", 404, "unknown material"),
        ("year=2014&severity=urgent", 422, "severity"),
        ("year=abc", 422, "year"),
        ("perspective=!!", 422, "perspective"),
    ],
)
def test_alert_problems(client: ApiClient, query: str, status: int, detail: str) -> None:
    response = client.get(API + "/alerts?" + query)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_backtest_is_the_watch_backtest(client: ApiClient) -> None:
    body = client.get(API + "/alerts/backtest", params={"from_year": 2012, "to_year": 2016}).json()
    report = run_backtest(bundled_store(), 2012, 2016)
    assert body["summary"] == pytest.approx(report.summary)
    assert [row["event_id"] for row in body["items"]] == list(report.scores.events["event_id"])
    assert [row["year"] for row in body["per_year"]] == list(range(2012, 2017))
    assert [row["false_alarms"] for row in body["per_year"]] == list(
        report.per_year["false_alarms"]
    )


def test_backtest_2000_2024_catches_the_indonesian_ore_ban(client: ApiClient) -> None:
    body = client.get(API + "/alerts/backtest?page_size=5000").json()
    summary = body["summary"]
    assert summary["years"] == "2000-2024"
    assert summary["events_caught"] <= summary["events_scoreable"] <= summary["events_listed"]
    assert summary["recall"] == pytest.approx(
        summary["events_caught"] / summary["events_scoreable"]
    )
    assert len(body["per_year"]) == 25
    assert sum(row["false_alarms"] for row in body["per_year"]) == summary["false_alarms"]
    events = {row["event_id"]: row for row in body["items"]}
    assert events["IDN-2014-ORE"]["caught"] and events["IDN-2014-ORE"]["lead_lag"] == 0
    unscorable = [row for row in body["items"] if not row["scoreable"]]
    assert unscorable and all(row["reason"] for row in unscorable)
    assert body["method"] == "docs/backtest.md"


def test_backtest_as_csv_and_304(client: ApiClient) -> None:
    response = client.get(API + "/alerts/backtest?format=csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert {"event_id", "caught", "reason"} <= set(table[0])
    again = client.get(
        API + "/alerts/backtest?format=csv", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from_year=2016&to_year=2012", 404),
        ("from_year=1995", 422),
        ("from_year=2031", 422),
        ("to_year=x", 422),
        ("from_year=2025&to_year=2030", 404),
    ],
)
def test_backtest_problems(client: ApiClient, query: str, status: int) -> None:
    response = client.get(API + "/alerts/backtest?" + query)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_openapi_documents_the_alert_operations(client: ApiClient) -> None:
    paths = client.get(API + "/openapi.json").json()["paths"]
    for path in ("/alerts", "/alerts/backtest"):
        responses = paths[API + path]["get"]["responses"]
        assert set(responses) == {"200", "304", "404", "422", "503"}, path
        assert set(responses["200"]["content"]) == {"application/json", "text/csv"}, path
        for status in ("404", "422", "503"):
            assert set(responses[status]["content"]) == {"application/problem+json"}
    backtest = {
        p["name"]: p["schema"] for p in paths[API + "/alerts/backtest"]["get"]["parameters"]
    }
    assert (backtest["from_year"]["minimum"], backtest["to_year"]["maximum"]) == (1996, 2030)


ATOM = "{http://www.w3.org/2005/Atom}"


def test_alert_feed_is_atom_with_the_indonesian_nickel_alert(client: ApiClient) -> None:
    response = client.get(API + "/alerts/feed.atom", params={"year": 2014})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == ATOM + "feed"
    entries = feed.findall(ATOM + "entry")
    body = client.get(API + "/alerts", params={"year": 2014, "page_size": 5000}).json()
    (nickel,) = [item for item in body["items"] if item["scope"] == IDN_NICKEL]
    assert len(entries) == body["total"], "the alerts of /alerts, one entry each"
    by_id = {entry.findtext(ATOM + "id"): entry for entry in entries}
    entry = by_id[f"urn:chainwatch:alert:{nickel['alert_id']}"]
    assert entry.findtext(ATOM + "summary") == nickel["sentence"]
    assert entry.findtext(ATOM + "title") == f"[critical] supplier-export-drop: {IDN_NICKEL}"
    terms = {c.get("scheme"): c.get("term") for c in entry.findall(ATOM + "category")}
    assert terms["urn:chainwatch:severity"] == "critical"
    assert entry.findtext(ATOM + "updated") == "2014-12-31T23:59:59Z"


def test_alert_feed_filters_etag_and_problems(client: ApiClient) -> None:
    path = API + "/alerts/feed.atom?year=2014&material=nickel&severity=critical"
    first = client.get(path)
    entries = ElementTree.fromstring(first.content).findall(ATOM + "entry")
    assert entries and all(
        "[critical]" in (entry.findtext(ATOM + "title") or "") for entry in entries
    )
    tag = first.headers["etag"]
    assert tag.startswith('"') and first.headers["cache-control"] == "public, max-age=60"
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert client.get(path).content == first.content, "stable body"
    for bad, status in (("year=1900", 404), ("material=unobtainium", 404), ("severity=x", 422)):
        problem = client.get(API + "/alerts/feed.atom?" + bad)
        assert problem.status_code == status, bad
        assert problem.headers["content-type"] == "application/problem+json"
