"""Alerts: the early-warning monitor's alerts of a year and how the monitor does in the
backtest (recall, precision, lead/lag, false alarms per year, events caught or missed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from chainwatch.services.alerts import SEVERITIES, alert_record, alerts_frame
from chainwatch.ui.formatting import country_names
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import PerspectiveOption
from chainwatch.ui.rendering import records
from chainwatch.ui.views.overview import material_names

RULE_LABELS = {
    "supplier_export_drop": "Supplier's exports fall",
    "partner_export_drop": "Imports from a supplier fall",
    "import_concentration": "Imports concentrate",
    "new_dominant_supplier": "New dominant supplier",
    "outside_bloc_share": "More imports from outside the bloc",
    "production_share_shift": "Production share shifts",
    "price_spike": "Price spike",
    "price_volatility": "Price volatility",
    "restriction_event": "Export restriction",
}


@dataclass(frozen=True)
class AlertsRequest:
    perspective: PerspectiveOption
    year: int
    severity: str | None
    material: str | None


def alerts_context(data: PageData, wanted: AlertsRequest) -> dict[str, Any]:
    code = wanted.perspective.code
    alerts, watch = data.alerts(wanted.year, code, wanted.material, wanted.severity)
    everything, _ = data.alerts(wanted.year, code)
    materials = material_names(data.materials())
    rows = []
    for alert in alerts:
        row = alert_record(alert)
        row["rule_label"] = RULE_LABELS.get(alert.signal, alert.signal)
        rows.append(row)
    counts = {level: sum(1 for a in everything if a.severity == level) for level in SEVERITIES}
    report = data.backtest()
    return {
        "title": f"Alerts — {wanted.perspective.label}, {wanted.year}",
        "alerts": rows,
        "severity": wanted.severity,
        "material": wanted.material,
        "severities": list(reversed(SEVERITIES)),
        "counts": counts,
        "total": len(everything),
        "material_choices": sorted(
            ((m, materials.get(m, m)) for m in _alert_materials(everything, wanted.material)),
            key=lambda item: item[1],
        ),
        "watch_sources": [f"{table}: {vintage}" for table, vintage in watch.inputs.sources.items()],
        "backtest": backtest_context(data, report),
        "charts": {"alarms": alarms_chart(report.per_year, report.year_from, report.year_to)},
    }


def _alert_materials(alerts: list[Any], chosen: str | None) -> list[str]:
    """Materials the year's alerts mention (and the one chosen, even if none does)."""
    found = {part for a in alerts for part in (a.material or "").split(";") if part}
    return sorted(found | ({chosen} if chosen else set()))


def backtest_context(data: PageData, report: Any) -> dict[str, Any]:
    countries = country_names(data.countries())
    events = records(report.scores.events)
    for event in events:
        event["country_name"] = countries.get(event["country_iso3"], event["country_iso3"])
        event["outcome"] = (
            "caught" if event["caught"] else "missed" if event["scoreable"] else "unscorable"
        )
    settings = report.settings
    return {
        "summary": report.summary,
        "events": events,
        "per_year": records(report.per_year),
        "perspectives": settings["perspectives"],
        "bloc": settings["bloc"],
        "sources": [f"{table}: {vintage}" for table, vintage in settings["sources"].items()],
        "year_from": report.year_from,
        "year_to": report.year_to,
    }


def alarms_chart(per_year: pd.DataFrame, year_from: int, year_to: int) -> dict[str, Any]:
    """New alerts per year of the backtest: scored ones that match a listed event, scored ones
    that match none (false alarms) and the other alerts (prices, import structure, events)."""
    years = [int(year) for year in per_year["year"]]
    matched = [int(v) for v in per_year["scored_matching_event"]]
    false = [int(v) for v in per_year["false_alarms"]]
    scored = zip(per_year["new_alerts"], per_year["scored_new"], strict=True)
    other = [int(new) - int(count) for new, count in scored]
    return {
        "kind": "alarms",
        "years": years,
        "series": [
            {"name": "scored, matches a listed event", "values": matched, "color": "#1b7837"},
            {"name": "false alarm (scored, no event)", "values": false, "color": "#e08214"},
            {"name": "other new alerts (not scored)", "values": other, "color": "#b8b8b8"},
        ],
        "filename": f"backtest-alerts-{year_from}-{year_to}",
    }


def alerts_table(data: PageData, wanted: AlertsRequest) -> pd.DataFrame:
    """The alerts shown, for the CSV download (series as 'period=value' text)."""
    alerts, _ = data.alerts(wanted.year, wanted.perspective.code, wanted.material,
                            wanted.severity)  # fmt: skip
    return alerts_frame(alerts).drop(columns=["state"])
