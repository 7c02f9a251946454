"""Page routes: parse the query, build the page context (ui.views), render or download.

Overview ``/``, Materials ``/materials``, Material ``/material/{material}``, Countries
``/countries``, Country ``/country/{iso3}``, Alerts ``/alerts``, Partnerships ``/partnerships``,
Partnership ``/partnerships/{id}``, Sources ``/sources``; every table has a download beside
its page as CSV, Parquet or Excel (``/risk.csv``, ``/risk.parquet``, ``/risk.xlsx``,
``/material/{material}/imports.csv``, ...), carrying its provenance (:mod:`ui.downloads`).

Every page takes ``perspective``, ``bloc`` and ``year`` and every link keeps them
(``setup.links``): the year where it is not the default year, the bloc where it is not the
perspective's default bloc (services.defaults), so that an address names what it shows and
a default address stays short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chainwatch.errors import QueryError
from chainwatch.services.alerts import SEVERITIES
from chainwatch.ui.downloads import DownloadFormat, download_response, table_provenance
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import (
    DEFAULT_PERSPECTIVE,
    BlocSetting,
    PerspectiveOption,
    bloc_setting,
    find_perspective,
    perspective_options,
)
from chainwatch.ui.rendering import PAGE_ERRORS, render, render_error
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
    """What every page needs: the data access (on the bloc chosen), the perspective and bloc
    chosen and offered, the year, and what the page's links keep."""

    def __init__(
        self, request: Request, perspective: str, year: int | None = None, bloc: str | None = None
    ) -> None:
        reference_data = PageData(request)
        self.options = perspective_options(reference_data.groups(), reference_data.countries())
        self.perspective: PerspectiveOption = find_perspective(self.options, perspective)
        self.bloc: BlocSetting = bloc_setting(self.options, self.perspective, bloc)
        self.data = PageData(request, bloc=self.bloc.code)
        self.years = self.data.trade_years()
        self.default_year = self.data.default_year()
        self.year = self.default_year if year is None else year
        if self.year not in self.years:
            raise QueryError(
                f"no trade data for {self.year}: years {self.years[0]}–{self.years[-1]}"
            )

    @property
    def links(self) -> dict[str, Any]:
        """The parameters every link and form of the page carries (besides the perspective)."""
        year = self.year if self.year != self.default_year else None
        return {"year": year, "bloc": self.bloc.link_value}

    def query(self, **extra: Any) -> dict[str, Any]:
        """The question a download answers (None values are left out of its provenance)."""
        return {"perspective": self.perspective.code, "bloc": self.bloc.code, **extra}

    def context(self, keep: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"perspective": self.perspective, "options": self.options, "year": self.year,
                "years": self.years, "bloc": self.bloc, "links": self.links,
                "keep": {**self.links, **(keep or {})}}  # fmt: skip


def _page(request: Request, template: str, build: Callable[[], dict[str, Any]]) -> HTMLResponse:
    try:
        context = build()
    except PAGE_ERRORS as error:
        return render_error(request, error)
    return render(request, template, context)


def _download(frame: pd.DataFrame, stem: str, output: DownloadFormat, **query: Any) -> Response:
    return download_response(frame, stem, output, table_provenance(frame, **query))


@router.get("/")
def overview(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        context = overview_context(setup.data, setup.perspective, setup.year, setup.bloc,
                                   setup.links)  # fmt: skip
        return {**setup.context(), **context}

    return _page(request, "overview.html", build)


@router.get("/risk.{output}")
def risk_download(
    request: Request,
    output: DownloadFormat,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> Response:
    """The overview's risk table, as calc_risk_table."""
    setup = PageSetup(request, perspective, year, bloc)
    table = setup.data.risk_table(setup.perspective.code, setup.year)
    return _download(table, f"risk-{setup.perspective.code}-{setup.year}", output,
                     **setup.query(year=setup.year))  # fmt: skip


@router.get("/materials")
def materials(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        return {**setup.context(), **reference.materials_context(setup.data)}

    return _page(request, "materials.html", build)


@router.get("/materials.{output}")
def materials_download(request: Request, output: DownloadFormat) -> Response:
    return _download(reference.materials_table(PageData(request)), "materials", output)


@router.get("/material")
def material_jump(
    material: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> RedirectResponse:
    """The overview's "go to a material" form lands here (with the overview's year and bloc)."""
    params = {"perspective": perspective, "year": year, "bloc": bloc or None}
    kept = urlencode({key: value for key, value in params.items() if value is not None})
    return RedirectResponse(f"/material/{quote(material)}?{kept}", status_code=303)


@router.get("/material/{material}")
def material(
    request: Request,
    material: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    stage: str | None = None,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        wanted = MaterialRequest(material, setup.perspective, setup.year, stage or None,
                                 setup.bloc.option)  # fmt: skip
        context = material_context(setup.data, wanted)
        keep = {"year": setup.year, "stage": context["stage"]}
        return {**setup.context(keep), **context}

    return _page(request, "material.html", build)


@router.get("/material/{material}/imports.{output}")
def material_imports_download(
    request: Request,
    material: str,
    output: DownloadFormat,
    perspective: str = DEFAULT_PERSPECTIVE,
    stage: str | None = None,
    year: int | None = None,
    bloc: str | None = None,
) -> Response:
    """Imports by supplier (all years and stages unless narrowed), as calc_import_sources."""
    setup = PageSetup(request, perspective, bloc=bloc)
    frame = setup.data.import_sources(setup.perspective.code, material)
    if stage:
        frame = frame[frame["stage"] == stage]
    if year is not None:
        frame = frame[frame["year"] == year]
    parts = [material, stage, setup.perspective.code, str(year) if year else None]
    return _download(frame, "imports-" + "-".join(p for p in parts if p), output,
                     **setup.query(material=material, stage=stage, year=year))  # fmt: skip


@router.get("/material/{material}/metrics.{output}")
def material_metrics_download(
    request: Request,
    material: str,
    output: DownloadFormat,
    perspective: str = DEFAULT_PERSPECTIVE,
    bloc: str | None = None,
) -> Response:
    """Every metric of the material for every year, tidy, as calc_metrics."""
    setup = PageSetup(request, perspective, bloc=bloc)
    frame = setup.data.metrics(setup.perspective.code, material, setup.years)
    return _download(frame, f"metrics-{material}-{setup.perspective.code}", output,
                     **setup.query(material=material))  # fmt: skip


@router.get("/material/{material}/production.{output}")
def material_production_download(
    request: Request, material: str, stage: str, output: DownloadFormat
) -> Response:
    """World production shares by country at one stage, as calc_production_map."""
    frame = PageData(request).production_map(material, stage)
    if frame is None:
        raise QueryError(f"no {stage} production figures for {material}")
    return _download(frame, f"production-{material}-{stage}", output, material=material,
                     stage=stage)  # fmt: skip


@router.get("/countries")
def countries(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        return {**setup.context(), **reference.countries_context(setup.data)}

    return _page(request, "countries.html", build)


@router.get("/countries.{output}")
def countries_download(request: Request, output: DownloadFormat) -> Response:
    return _download(reference.countries_table(PageData(request)), "countries", output)


@router.get("/country/{iso3}")
def country(
    request: Request,
    iso3: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        data = PageData(request, bloc=setup.perspective.code)
        return {**setup.context(),
                **country_context(data, iso3, setup.perspective, setup.year)}  # fmt: skip

    return _page(request, "country.html", build)


@router.get("/country/{iso3}/profile.{output}")
def country_profile_download(
    request: Request,
    iso3: str,
    output: DownloadFormat,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
) -> Response:
    """Deliveries to the perspective and the country's own imports, as calc_country_profile
    (the perspective is the bloc here: what the country delivers to it)."""
    setup = PageSetup(request, perspective, year)
    data = PageData(request, bloc=setup.perspective.code)
    frame = data.country_profile(iso3.upper(), setup.year)
    code = setup.perspective.code
    return _download(frame, f"country-{iso3.upper()}-{code}-{setup.year}", output,
                     perspective=code, bloc=code, year=setup.year)  # fmt: skip


def _alerts_request(
    request: Request,
    perspective: str,
    year: int | None,
    bloc: str | None,
    severity: str,
    material: str,
) -> tuple[PageSetup, AlertsRequest]:
    """The page's setup and filters; the default year is the pages' one default year."""
    setup = PageSetup(request, perspective, year, bloc)
    if severity and severity not in SEVERITIES:
        raise QueryError(f"unknown severity {severity!r}: {', '.join(SEVERITIES)}")
    return setup, AlertsRequest(setup.perspective, setup.year, severity or None, material or None)


@router.get("/alerts")
def alerts(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
    severity: str = "",
    material: str = "",
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup, wanted = _alerts_request(request, perspective, year, bloc, severity, material)
        keep = {"year": setup.year, "severity": wanted.severity, "material": wanted.material}
        return {**setup.context(keep), **alerts_context(setup.data, wanted)}

    return _page(request, "alerts.html", build)


@router.get("/alerts.{output}")
def alerts_download(
    request: Request,
    output: DownloadFormat,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
    severity: str = "",
    material: str = "",
) -> Response:
    """The alerts of the year shown (filters applied), as /api/v1/alerts?format=csv."""
    setup, wanted = _alerts_request(request, perspective, year, bloc, severity, material)
    parts = [setup.perspective.code, str(setup.year), wanted.severity, wanted.material]
    frame = alerts_table(setup.data, wanted)
    return _download(frame, "alerts-" + "-".join(p for p in parts if p), output,
                     **setup.query(year=setup.year, severity=wanted.severity,
                                   material=wanted.material))  # fmt: skip


@router.get("/alerts/backtest.{output}")
def backtest_events_download(request: Request, output: DownloadFormat) -> Response:
    """The backtest's events: scoreable or why not, caught or missed, lead/lag."""
    report = PageData(request).backtest()
    return _download(report.scores.events, f"backtest-events-{report.year_from}-"
                     f"{report.year_to}", output, year_from=report.year_from,
                     year_to=report.year_to)  # fmt: skip


@router.get("/alerts/backtest-years.{output}")
def backtest_years_download(request: Request, output: DownloadFormat) -> Response:
    """The backtest's alert volumes per year: new, critical, scored, false alarms, by signal."""
    report = PageData(request).backtest()
    return _download(report.per_year, f"backtest-years-{report.year_from}-{report.year_to}",
                     output, year_from=report.year_from, year_to=report.year_to)  # fmt: skip


@router.get("/partnerships")
def partnerships(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
    theme: str = "",
    party: str = "",
) -> HTMLResponse:
    """Every partnership read from the texts added (filters: theme, party) and the coverage of
    the perspective's most exposed materials in the year (default: the default year)."""

    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        chosen_theme, chosen_party = check_filters(theme, party)
        wanted = PartnershipsRequest(setup.perspective, setup.year, chosen_theme, chosen_party)
        keep = {"theme": chosen_theme, "party": chosen_party}
        return {**setup.context(keep), **partnerships_context(setup.data, wanted)}

    return _page(request, "partnerships.html", build)


@router.get("/partnerships/{partnership_id}")
def partnership(
    request: Request,
    partnership_id: str,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        return {**setup.context(), **partnership_context(setup.data, partnership_id)}

    return _page(request, "partnership.html", build)


@router.get("/partnerships/{partnership_id}/commitments.{output}")
def partnership_commitments_download(
    request: Request, partnership_id: str, output: DownloadFormat
) -> Response:
    """A record's commitments: modality, kinds, actors, themes, materials, sentence, source."""
    frame = commitments_table(PageData(request), partnership_id)
    return _download(frame, f"commitments-{partnership_id}", output, partnership=partnership_id)


@router.get("/sources")
def sources(
    request: Request,
    perspective: str = DEFAULT_PERSPECTIVE,
    year: int | None = None,
    bloc: str | None = None,
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        setup = PageSetup(request, perspective, year, bloc)
        return {**setup.context(), **reference.sources_context(setup.data)}

    return _page(request, "sources.html", build)


@router.get("/sources.{output}")
def sources_download(request: Request, output: DownloadFormat) -> Response:
    return _download(PageData(request).sources(), "sources", output)


@router.get("/methods.{output}")
def methods_download(output: DownloadFormat) -> Response:
    return _download(reference.methods_table(), "methods", output)
