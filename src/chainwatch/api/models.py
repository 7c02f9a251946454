"""Response models of the JSON API: typed rows and the page envelope every list comes in."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from chainwatch.metrics.methods import METHODS

Stage = Literal["mine", "refinery", "intermediate", "component", "end_product"]
Row = TypeVar("Row", bound=BaseModel)


class Page(BaseModel, Generic[Row]):
    """One page of a list: ``items`` on this page, ``total`` items in the whole list."""

    items: list[Row]
    page: int = Field(description="1-based page number")
    page_size: int = Field(description="items per page asked for")
    total: int = Field(description="items in the whole list")


class Health(BaseModel):
    status: Literal["ok"]
    version: str = Field(description="chainwatch version")
    store: str = Field(description="name of the store file in use (no directory)")


class Perspective(BaseModel):
    """Who can import: a country (ISO3) or a group of countries."""

    code: str = Field(description="ISO3 code or group id: the value of ?perspective= and ?bloc=")
    kind: Literal["country", "group"]
    name: str
    members: int = Field(description="member countries (1 for a country)")


class GroupMember(BaseModel):
    iso3: str
    name: str | None
    from_year: int | None = Field(description="first year of membership (null: founding)")
    to_year: int | None = Field(description="last year of membership (null: still a member)")


class Group(BaseModel):
    group_id: str
    name: str
    description: str | None
    user_defined: bool
    member_count: int
    members: list[GroupMember]


class Material(BaseModel):
    material: str = Field(description="identifier: the value of ?material=")
    display_name: str
    eu_crma_2024: Literal["strategic", "critical", "none"] = Field(
        description="status in the EU Critical Raw Materials Act (Regulation (EU) 2024/1252)"
    )
    usgs_critical_2022: bool = Field(description="on the USGS 2022 list of critical minerals")
    eol_rir: float | None = Field(description="end-of-life recycling input rate (fraction)")
    stages: list[Stage] = Field(description="value-chain stages with HS6 codes, upstream first")
    hs6: list[str] = Field(description="HS6 codes that carry the material")


class Product(BaseModel):
    """An HS6 product, with the material it carries (one row per material) if any."""

    hs6: str
    hs_revision: str
    description: str
    material: str | None
    stage: Stage | None
    role: Literal["primary", "additional", "basket", "shared"] | None


class Country(BaseModel):
    iso3: str
    name: str
    iso2: str | None
    m49: int | None
    kind: Literal["country", "territory", "former", "aggregate"]
    region: str | None


class CountryProfileRow(BaseModel):
    country_iso3: str
    year: int
    material: str
    stage: str
    exports_to_bloc_usd: float = Field(description="exports to bloc members (USD)")
    share_of_bloc_imports: float | None = Field(
        description="exports to the bloc / the bloc's imports from outside it"
    )
    exports_usd: float
    imports_usd: float
    bloc_external_imports_usd: float = Field(description="the bloc's imports from outside it")
    method_id: str = Field(description="method identifier (docs/methods.md)")
    method_version: str
    sources: str = Field(description="data sets and vintages the number rests on")


class CountryProfile(Page[CountryProfileRow]):
    """What a country supplies to the bloc and what it imports, by material and stage."""

    country: Country
    year: int
    bloc: str


class MetricRow(BaseModel):
    """One metric for one perspective, year and scope (material|stage or an HS6 code)."""

    perspective: str
    year: int
    material: str | None
    stage: str | None
    scope: str = Field(description="material|stage, or the HS6 code asked for")
    metric: str
    value: float | None
    unit: str
    detail: str | None
    method_id: str = Field(description="method identifier (docs/methods.md)")
    method_version: str
    sources: str = Field(description="data sets and vintages the number rests on")


_WIDE_FIELDS: dict[str, Any] = {name: (float | None, None) for name in METHODS}
MetricWideRow: type[BaseModel] = create_model(
    "MetricWideRow",
    __config__=ConfigDict(title="MetricWideRow"),
    perspective=(str, ...),
    year=(int, ...),
    material=(str | None, ...),
    stage=(str | None, ...),
    scope=(str, ...),
    **_WIDE_FIELDS,
)
MetricWideRow.__doc__ = "All metrics of one perspective, year and scope, one field per metric."


class RiskRow(BaseModel):
    rank: int
    perspective: str
    year: int
    material: str
    riskiest_stage: str = Field(description="stage the headline figures come from")
    eu_supply_risk: float | None
    import_reliance: float | None
    production_hhi: float | None
    import_partner_hhi: float | None
    outside_bloc_share: float | None
    imports_value_usd: float | None
    geopolrisk_score: float | None
    dependent: bool = Field(description="all three EU dependency-screen criteria met")
    criteria_met: int
    criteria: str = Field(description="the criteria that fire, '; '-separated")
    drivers: str = Field(description="the supply-risk term and supplier that dominate")
    fallbacks: str = Field(description="the JRC fallback the score rests on; empty: full method")
    missing: str = Field(description="what is missing where no stage is scored, and how to load it")
    unscored_stages: str = Field(description="stages left unscored and why")
    materiality: str = Field(description="import value against the materiality threshold")
    below_materiality: bool = Field(description="ranked after every material above it")
    quantity_screen: str = Field(description="quantities the unit-value screen re-estimated")
    production_series: str = Field(description="the production series the row rests on")


class RiskPage(Page[RiskRow]):
    method_ids: list[str] = Field(description="methods behind the table")
    sources: list[str] = Field(description="data sets and vintages behind the table")


class ImportSourceRow(BaseModel):
    year: int
    stage: str = Field(description="value-chain stage, or the HS6 code asked for")
    exporter_iso3: str
    exporter_name: str | None
    value_usd: float
    quantity_t: float | None
    share: float | None = Field(description="share of the year's imports at that stage")
    in_bloc: bool = Field(description="exporter is a bloc member that year")
    method_id: str = Field(description="method identifier (docs/methods.md)")
    method_version: str
    sources: str = Field(description="data sets and vintages the number rests on")


class ProductionRow(BaseModel):
    year: int
    country_iso3: str
    country_name: str | None
    quantity: float | None
    unit: str
    share: float | None = Field(description="share of world production")
    product_type: str = Field(description="what the publisher measures")
    method_id: str = Field(description="method identifier (docs/methods.md)")
    method_version: str
    sources: str = Field(description="data sets and vintages the number rests on")


class ConcentrationRow(BaseModel):
    """Headline concentration and risk metrics of one year and stage."""

    perspective: str
    year: int
    material: str | None
    stage: str | None
    import_partner_hhi: float | None
    outside_bloc_share: float | None
    production_hhi: float | None
    eu_supply_risk: float | None
    sources: str = Field(description="data sets and vintages the numbers rest on")


class Source(BaseModel):
    source_id: str
    title: str
    publisher: str
    version: str
    licence: str
    licence_class: Literal["A", "B", "C", "D"]
    rows: int
    bundled: bool
    citation: str
    obtained_from: str
    cut: str
    tables: str


class PerspectivePage(Page[Perspective]):
    pass


class GroupPage(Page[Group]):
    pass


class MaterialPage(Page[Material]):
    pass


class ProductPage(Page[Product]):
    pass


class CountryPage(Page[Country]):
    pass


class MetricPage(Page[MetricRow]):
    pass


class MetricWidePage(Page[MetricWideRow]):  # type: ignore[valid-type]
    pass


class ImportSourcePage(Page[ImportSourceRow]):
    pass


class ProductionPage(Page[ProductionRow]):
    pass


class ConcentrationPage(Page[ConcentrationRow]):
    pass


class SourcePage(Page[Source]):
    pass


Severity = Literal["info", "warning", "critical"]


class SeriesPoint(BaseModel):
    period: str = Field(description="year (or month) of the point")
    value: float | None


class AlertRow(BaseModel):
    """One rule firing for one scope in one year (chainwatch.watch), explained in a sentence."""

    alert_id: str = Field(description="stable id: rule, scope and first year of the run")
    year: int = Field(description="year evaluated, with only the data known by its end")
    severity: Severity
    rule_id: str = Field(description="rule that fired (reference/watch_rules.csv)")
    signal: str = Field(description="signal the rule tests (docs/watch.md)")
    first_year: int = Field(description="first year of the unbroken run: the alert since then")
    continuing: bool = Field(description="the alert already fired the year before")
    perspective: str | None = Field(description="importer the signal is about, if any")
    exporter_iso3: str | None = Field(description="supplier country the signal is about")
    material: str | None = Field(description="material(s), ';'-separated")
    stage: str | None
    hs6: str = Field(description="HS6 codes of the scope, ';'-separated")
    scope: str = Field(description="what the rule fired for")
    field: str = Field(description="signal field the headline value comes from")
    value: float | str | None = Field(description="the headline value of that field")
    threshold: str = Field(description="the rule's conditions")
    baseline: str = Field(description="what the value was compared with")
    sentence: str = Field(description="the alert in one plain sentence")
    related_events: list[str] = Field(description="export-restriction events it relates to")
    series: list[SeriesPoint] = Field(description="the points the signal was computed on")
    sources: str = Field(description="data sets and vintages the alert rests on")


class AlertPage(Page[AlertRow]):
    year: int
    perspectives: list[str] = Field(description="perspectives the import signals cover")
    bloc: str
    method: str = Field(description="where the monitor and its rules are described")
    sources: dict[str, str] = Field(description="table -> data set and vintage read")


class BacktestEventRow(BaseModel):
    """A dated export-restriction event, whether it can be scored and whether it was caught."""

    event_id: str
    country_iso3: str
    measure_type: str
    effective_year: int | None
    hs6_codes: str = Field(description="HS6 codes it restricts, ';'-separated")
    codes_with_data: str = Field(description="those with flows from the country in the data")
    materials: str | None
    scoreable: bool
    reason: str = Field(description="why it cannot be scored (empty when it can)")
    caught: bool = Field(description="a relevant alert fired from effective year -1 to +1")
    first_alert_year: int | None
    lead_lag: int | None = Field(description="first alert year - effective year")
    alerts: str = Field(description="ids of the relevant alerts, ';'-separated")


class BacktestSummary(BaseModel):
    years: str
    window: str = Field(description="years around the effective year in which an alert counts")
    events_listed: int
    events_scoreable: int
    events_caught: int
    recall: float | None = Field(description="caught / scoreable events")
    scored_alerts: int = Field(description="scored alert episodes (counted in their first year)")
    scored_alerts_matching_an_event: int
    precision: float | None = Field(description="episodes matching an event / scored episodes")
    mean_lead_lag_years: float | None = Field(description="mean first alert year - effective")
    false_alarms: int = Field(description="scored episodes matching no listed event")
    false_alarms_per_year: float
    alerts_per_year_mean: float
    new_alerts_per_year_mean: float
    new_alerts_per_year_max: int
    critical_new_alerts_per_year_mean: float


class BacktestYear(BaseModel):
    year: int
    alerts: int = Field(description="alerts of the year, new and continuing")
    new_alerts: int
    critical_new: int
    scored_new: int = Field(description="new alerts of the scored signals")
    scored_matching_event: int
    false_alarms: int


class BacktestPage(Page[BacktestEventRow]):
    """The backtest: events scored (the items), its summary and alert volumes per year."""

    summary: BacktestSummary
    per_year: list[BacktestYear]
    perspectives: list[str]
    bloc: str
    rules: list[str]
    scored_signals: list[str]
    method: str = Field(description="where the scoring is described")
    sources: dict[str, str] = Field(description="table -> data set and vintage read")
