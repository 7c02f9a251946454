"""Atom feed of the stored alerts (watch/feed.py): parsed back, RFC 4287 elements present."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chainwatch.errors import QueryError
from chainwatch.store.app_state import AppState
from chainwatch.watch.feed import ATOM, RULE_SCHEME, SEVERITY_SCHEME, render_app_feed, render_feed
from tests.watch.test_state import make_alert

NS = {"atom": ATOM}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AppState]:
    with AppState(f"sqlite:///{tmp_path / 'app.sqlite'}") as state:
        state.record_alerts([
            make_alert("g1", sentence="SYNTHETIC: graphite <fell> by 60 % & more."),
            make_alert("n1", material="nickel", exporter="IDN", severity="critical"),
        ])  # fmt: skip
        yield state


def _rfc3339(text: str | None) -> datetime:
    assert text is not None and text.endswith("Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _required(feed: ElementTree.Element) -> None:
    """Every RFC 4287 must of a feed and its entries (author on the feed covers entries)."""
    assert feed.tag == f"{{{ATOM}}}feed"
    for name in ("id", "title", "updated", "author/atom:name"):
        assert len(feed.findall(f"atom:{name}", NS)) == 1, name
    _rfc3339(feed.findtext("atom:updated", namespaces=NS))
    for entry in feed.findall("atom:entry", NS):
        for name in ("id", "title", "updated", "summary", "content"):
            assert len(entry.findall(f"atom:{name}", NS)) == 1, name
        _rfc3339(entry.findtext("atom:updated", namespaces=NS))


def test_the_feed_parses_back_with_every_alert(app: AppState) -> None:
    text = render_app_feed(app)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    feed = ElementTree.fromstring(text.encode("utf-8"))
    _required(feed)
    assert feed.findtext("atom:id", namespaces=NS) == "urn:chainwatch:feed:all"
    entries = {e.findtext("atom:id", namespaces=NS): e for e in feed.findall("atom:entry", NS)}
    assert set(entries) == {"urn:chainwatch:alert:g1", "urn:chainwatch:alert:n1"}
    graphite = entries["urn:chainwatch:alert:g1"]
    assert graphite.findtext("atom:summary", namespaces=NS) == (
        "SYNTHETIC: graphite <fell> by 60 % & more."
    )
    assert graphite.findtext("atom:title", namespaces=NS) == (
        "[warning] partner-export-drop: CAN|CHN|graphite|mine"
    )
    categories = {(c.get("scheme"), c.get("term")) for c in graphite.findall("atom:category", NS)}
    assert (SEVERITY_SCHEME, "warning") in categories
    assert (RULE_SCHEME, "partner-export-drop") in categories
    content = entries["urn:chainwatch:alert:n1"].find("atom:content", NS)
    assert content is not None and content.get("type") == "text"
    assert "material: nickel" in (content.text or "")


def test_the_feed_follows_states_and_updates(app: AppState) -> None:
    app.transition("n1", "confirmed", actor="ana")
    feed = ElementTree.fromstring(render_app_feed(app))
    first = feed.findall("atom:entry", NS)[0]
    assert first.findtext("atom:id", namespaces=NS) == "urn:chainwatch:alert:n1"
    assert feed.findtext("atom:updated", namespaces=NS) == first.findtext(
        "atom:updated", namespaces=NS
    )
    terms = {c.get("term") for c in first.findall("atom:category", NS)}
    assert "confirmed" in terms


def test_a_subscription_feed_holds_only_its_alerts(app: AppState) -> None:
    nickel = app.subscribe("material", "nickel", "feed")
    partner = app.subscribe("partner", "CHN", "feed")
    feed = ElementTree.fromstring(render_app_feed(app, nickel.subscription_id))
    _required(feed)
    ids = [e.findtext("atom:id", namespaces=NS) for e in feed.findall("atom:entry", NS)]
    assert ids == ["urn:chainwatch:alert:n1"]
    assert feed.findtext("atom:id", namespaces=NS) == (
        f"urn:chainwatch:feed:subscription:{nickel.subscription_id}"
    )
    china = ElementTree.fromstring(render_app_feed(app, partner.subscription_id))
    ids = [e.findtext("atom:id", namespaces=NS) for e in china.findall("atom:entry", NS)]
    assert ids == ["urn:chainwatch:alert:g1"]
    with pytest.raises(QueryError, match="unknown subscription 42"):
        render_app_feed(app, 42)


def test_an_empty_feed_is_still_valid() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    feed = ElementTree.fromstring(render_feed([], generated=moment))
    _required(feed)
    assert feed.findtext("atom:updated", namespaces=NS) == "2026-01-02T03:04:05Z"
    assert feed.findall("atom:entry", NS) == []
