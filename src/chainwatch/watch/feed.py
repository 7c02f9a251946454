"""Atom feed (RFC 4287) of the stored alerts, optionally those of one subscription."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from datetime import UTC, datetime

from chainwatch.store.app_state import AlertRecord, AppState
from chainwatch.watch.subscriptions import describe, matching_alerts

ATOM = "http://www.w3.org/2005/Atom"
SEVERITY_SCHEME = "urn:chainwatch:severity"
RULE_SCHEME = "urn:chainwatch:rule"
STATE_SCHEME = "urn:chainwatch:state"

ElementTree.register_namespace("", ATOM)


def alert_urn(alert_id: str) -> str:
    return f"urn:chainwatch:alert:{alert_id}"


def timestamp(value: datetime) -> str:
    """RFC 3339 date-time in UTC, as Atom wants it (``2026-11-23T12:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_feed(
    alerts: Sequence[AlertRecord],
    title: str = "chainwatch alerts",
    feed_id: str = "urn:chainwatch:feed:all",
    generated: datetime | None = None,
) -> str:
    """The Atom document (UTF-8 text with an XML declaration), newest alert first.

    The feed's ``updated`` is the latest alert update (``generated``, default now, when empty).
    """
    ordered = sorted(alerts, key=lambda alert: (alert.updated_at, alert.alert_id), reverse=True)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    latest = ordered[0].updated_at if ordered else (generated or datetime.now(UTC))
    _text(feed, "updated", timestamp(latest))
    author = ElementTree.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "chainwatch")
    _text(feed, "generator", "chainwatch")
    for alert in ordered:
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", alert_urn(alert.alert_id))
        scope = str(alert.scope.get("scope") or "")
        _text(entry, "title", f"[{alert.severity}] {alert.rule_id}: {scope}")
        _text(entry, "updated", timestamp(alert.updated_at))
        _text(entry, "summary", alert.sentence)
        content = _text(entry, "content", _details(alert))
        content.set("type", "text")
        for scheme, term in (
            (SEVERITY_SCHEME, alert.severity),
            (RULE_SCHEME, alert.rule_id),
            (STATE_SCHEME, str(alert.state)),
        ):
            category = ElementTree.SubElement(entry, f"{{{ATOM}}}category")
            category.set("scheme", scheme)
            category.set("term", term)
    ElementTree.indent(feed)
    body = ElementTree.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def render_app_feed(app: AppState, subscription_id: int | None = None) -> str:
    """The feed of every stored alert, or of those matching one subscription."""
    alerts = app.alerts()
    if subscription_id is None:
        return render_feed(alerts)
    subscription = app.subscription(subscription_id)
    return render_feed(
        matching_alerts(subscription, alerts),
        title=f"chainwatch alerts: {describe(subscription)}",
        feed_id=f"urn:chainwatch:feed:subscription:{subscription_id}",
    )


def _details(alert: AlertRecord) -> str:
    years = (
        str(alert.first_year)
        if alert.first_year == alert.last_year
        else f"{alert.first_year}-{alert.last_year}"
    )
    fields = [("state", str(alert.state)), ("years", years)]
    fields += [(key, str(value)) for key, value in alert.scope.items() if value]
    return "\n".join([alert.sentence, ""] + [f"{key}: {value}" for key, value in fields])


def _text(parent: ElementTree.Element, name: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    return element
