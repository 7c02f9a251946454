"""Page routes: parse the query, build the page context (ui.views), render or download.

Overview ``/``, Materials ``/materials``, Material ``/material/{material}``, Countries
``/countries``, Country ``/country/{iso3}``, Alerts ``/alerts``, Partnerships ``/partnerships``,
Partnership ``/partnerships/{id}``, Sources ``/sources``; every table has a CSV download beside
its page (``/risk.csv``, ``/material/{material}/imports.csv``, ...) or in the JSON API
(``/api/v1/partnerships?format=csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chainwatch.errors import QueryError
from chainwatch.services.alerts import SEVERITIES
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import (
    DEFAULT_PERSPECTIVE,
    PerspectiveOption,
    find_perspective,
    perspective_options,
)
from chainwatch.ui.rendering import PAGE_ERRORS, csv_response, render, render_error
from chainwatch.ui.views import reference
from chainwatch.ui.views.alerts import AlertsRequest, alerts_context, alerts_table
from chainwatch.ui.views.country import country_context
from chainwatch.ui.views.material import MaterialRequest, material_context
from chainwatch.ui.views.overview import overview_context
from chainwatch.ui.views.partnerships import (
    PartnershipsRequest,
    check_filters,
    commitments_table,
    partnership_context,
    partnerships_context,
)

router = APIRouter(include_in_schema=False)


class PageSetup:
    """What every page needs: the data access, the perspective chosen and offered, the year."""

    def __init__(self, request: Request, perspective: str, year: int | None = None) -> None:
        self.data = PageData(request)
        self.options = perspective_options(self.data.groups(), self.data.countries())
        self.perspective: PerspectiveOption = find_perspective(self.options, perspective)
        self.years = self.data.trade_years()
        self.year = self.data.default_year() if year is None else year
        if self.year not in self.years:
            raise QueryError(
                f"no trade data for {self.year}: years {self.years[0]}–{self.years[-1]}"
            )

    def context(self, keep: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"perspective": self.perspective, "options": self.options, "year": self.year,
                "years": self.years, "keep": keep or {}}  # fmt: skip


def _page(request: Request, template: str, build: Callable[[], dict[str, Any]]) -> HTMLResponse:
    try:
        context = build()
    except PAGE_ERRORS as error:
        return render_error(request, error)
    return render(request, template, context)


@router.get("/")
def overview(
    request: Request, perspective: str = DEFAULT_PERSPECTIVE, year: int | None = None
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year)
        return {**setup.context({"year": setup.year}),
                **overview_context(setup.data, setup.perspective, setup.year)}  # fmt: skip

    return _page(request, "overview.html", build)


@router.get("/risk.csv")
def risk_csv(
    request: Request, perspective: str = DEFAULT_PERSPECTIVE, year: int | None = None
) -> Response:
    setup = PageSetup(request, perspective, year)
    table = setup.data.risk_table(setup.perspective.code, setup.year)
    return csv_response(table, f"risk-{setup.perspective.code}-{setup.year}.csv")


@router.get("/materials")
def materials(request: Request, perspective: str = DEFAULT_PERSPECTIVE) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective)
        return {**setup.context(), **reference.materials_context(setup.data)}

    return _page(request, "materials.html", build)


@router.get("/materials.csv")
def materials_csv(request: Request) -> Response:
    return csv_response(reference.materials_table(PageData(request)), "materials.csv")


@router.get("/material")
def material_jump(material: str, perspective: str = DEFAULT_PERSPECTIVE) -> RedirectResponse:
    """The overview's "go to a material" form lands here."""
    target = f"/material/{quote(material)}?{urlencode({'perspective': perspective})}"
    return RedirectResponse(target, status_code=303)


@router.get("/material/{material}")
def material(
    request: Request,
    material: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    stage: str | None = None,
    year: int | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year)
        wanted = MaterialRequest(material, setup.perspective, setup.year, stage or None)
        context = material_context(setup.data, wanted)
        keep = {"year": setup.year, "stage": context["stage"]}
        return {**setup.context(keep), **context}

    return _page(request, "material.html", build)


@router.get("/material/{material}/imports.csv")
def material_imports_csv(
    request: Request,
    material: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    stage: str | None = None,
    year: int | None = None,
) -> Response:
    """Imports by supplier (all years and stages unless narrowed), as calc_import_sources."""
    setup = PageSetup(request, perspective)
    frame = setup.data.import_sources(setup.perspective.code, material)
    if stage:
        frame = frame[frame["stage"] == stage]
    if year is not None:
        frame = frame[frame["year"] == year]
    parts = [material, stage, setup.perspective.code, str(year) if year else None]
    return csv_response(frame, "imports-" + "-".join(p for p in parts if p) + ".csv")


@router.get("/material/{material}/metrics.csv")
def material_metrics_csv(
    request: Request, material: str, perspective: str = DEFAULT_PERSPECTIVE
) -> Response:
    """Every metric of the material for every year, tidy, as calc_metrics."""
    setup = PageSetup(request, perspective)
    frame = setup.data.metrics(setup.perspective.code, material, setup.years)
    return csv_response(frame, f"metrics-{material}-{setup.perspective.code}.csv")


@router.get("/material/{material}/production.csv")
def material_production_csv(request: Request, material: str, stage: str) -> Response:
    """World production shares by country at one stage, as calc_production_map."""
    frame = PageData(request).production_map(material, stage)
    if frame is None:
        raise QueryError(f"no {stage} production figures for {material}")
    return csv_response(frame, f"production-{material}-{stage}.csv")


@router.get("/countries")
def countries(request: Request, perspective: str = DEFAULT_PERSPECTIVE) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective)
        return {**setup.context(), **reference.countries_context(setup.data)}

    return _page(request, "countries.html", build)


@router.get("/countries.csv")
def countries_csv(request: Request) -> Response:
    return csv_response(reference.countries_table(PageData(request)), "countries.csv")


@router.get("/country/{iso3}")
def country(
    request: Request, iso3: str, perspective: str = DEFAULT_PERSPECTIVE, year: int | None = None
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year)
        data = PageData(request, bloc=setup.perspective.code)
        return {**setup.context({"year": setup.year}),
                **country_context(data, iso3, setup.perspective, setup.year)}  # fmt: skip

    return _page(request, "country.html", build)


@router.get("/country/{iso3}/profile.csv")
def country_profile_csv(
    request: Request, iso3: str, perspective: str = DEFAULT_PERSPECTIVE, year: int | None = None
) -> Response:
    """Deliveries to the perspective and the country's own imports, as calc_country_profile."""
    setup = PageSetup(request, perspective, year)
    data = PageData(request, bloc=setup.perspective.code)
    frame = data.country_profile(iso3.upper(), setup.year)
    return csv_response(frame, f"country-{iso3.upper()}-{setup.perspective.code}-{setup.year}.csv")


def _alerts_request(
    request: Request, perspective: str, year: int | None, severity: str, material: str
) -> tuple[PageSetup, AlertsRequest]:
    """The page's setup and filters; the default year is the latest with trade data."""
    latest = PageData(request).trade_years()
    setup = PageSetup(request, perspective, year if year is not None or not latest else latest[-1])
    if severity and severity not in SEVERITIES:
        raise QueryError(f"unknown severity {severity!r}: {', '.join(SEVERITIES)}")
    return setup, AlertsRequest(setup.perspective, setup.year, severity or None, material or None)


@router.get("/alerts")
def alerts(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    severity: str = "",
    material: str = "",
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup, wanted = _alerts_request(request, perspective, year, severity, material)
        keep = {"year": setup.year, "severity": wanted.severity, "material": wanted.material}
        return {**setup.context(keep), **alerts_context(setup.data, wanted)}

    return _page(request, "alerts.html", build)


@router.get("/alerts.csv")
def alerts_csv(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    severity: str = "",
    material: str = "",
) -> Response:
    """The alerts of the year shown (filters applied), as /api/v1/alerts?format=csv."""
    setup, wanted = _alerts_request(request, perspective, year, severity, material)
    parts = [setup.perspective.code, str(setup.year), wanted.severity, wanted.material]
    frame = alerts_table(setup.data, wanted)
    return csv_response(frame, "alerts-" + "-".join(p for p in parts if p) + ".csv")


@router.get("/alerts/backtest.csv")
def backtest_events_csv(request: Request) -> Response:
    """The backtest's events: scoreable or why not, caught or missed, lead/lag."""
    report = PageData(request).backtest()
    name = f"backtest-events-{report.year_from}-{report.year_to}.csv"
    return csv_response(report.scores.events, name)


@router.get("/alerts/backtest-years.csv")
def backtest_years_csv(request: Request) -> Response:
    """The backtest's alert volumes per year: new, critical, scored, false alarms, by signal."""
    report = PageData(request).backtest()
    return csv_response(report.per_year, f"backtest-years-{report.year_from}-{report.year_to}.csv")


@router.get("/partnerships")
def partnerships(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    theme: str = "",
    party: str = "",
) -> HTMLResponse:
    """Every partnership read from the texts added (filters: theme, party) and the coverage of
    the perspective's most exposed materials in the year (default: the default risk year)."""

    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year)
        chosen_theme, chosen_party = check_filters(theme, party)
        wanted = PartnershipsRequest(setup.perspective, setup.year, chosen_theme, chosen_party)
        keep = {"year": year, "theme": chosen_theme, "party": chosen_party}
        return {**setup.context(keep), **partnerships_context(setup.data, wanted)}

    return _page(request, "partnerships.html", build)


@router.get("/partnerships/{partnership_id}")
def partnership(
    request: Request, partnership_id: str, perspective: str = DEFAULT_PERSPECTIVE
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective)
        return {**setup.context(), **partnership_context(setup.data, partnership_id)}

    return _page(request, "partnership.html", build)


@router.get("/partnerships/{partnership_id}/commitments.csv")
def partnership_commitments_csv(request: Request, partnership_id: str) -> Response:
    """A record's commitments: modality, kinds, actors, themes, materials, sentence, source."""
    frame = commitments_table(PageData(request), partnership_id)
    return csv_response(frame, f"commitments-{partnership_id}.csv")


@router.get("/sources")
def sources(request: Request, perspective: str = DEFAULT_PERSPECTIVE) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective)
        return {**setup.context(), **reference.sources_context(setup.data)}

    return _page(request, "sources.html", build)


@router.get("/sources.csv")
def sources_csv(request: Request) -> Response:
    return csv_response(PageData(request).sources(), "sources.csv")


@router.get("/methods.csv")
def methods_csv() -> Response:
    return csv_response(reference.methods_table(), "methods.csv")
