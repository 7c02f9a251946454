"""Response models of the partnership tracker's endpoints (``/api/v1/partnerships``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chainwatch.api.models import Page

Instrument = Literal["partnership", "dialogue", "working group", "agreement", "programme"]
Status = Literal["in force", "signed", "concluded", "launched", "agreed", "planned", "referenced"]


class AmountModel(BaseModel):
    text: str = Field(description="as written, e.g. '€150 billion'")
    value: float = Field(description="in units of the currency")
    currency: str = Field(description="ISO 4217")
    equivalents: list[AmountModel] = Field(description="bracketed conversions, e.g. ($172 bn)")
    currency_assumed: bool = Field(description="a bare '$' or 'dollars', read as USD")


class DateModel(BaseModel):
    text: str
    year: int | None = Field(description="null when the text gives no year (never guessed)")
    month: int | None
    day: int | None
    relative: bool = Field(description="'in the spring', 'later this year'")
    iso: str | None = Field(description="ISO 8601 of the parts known, null without a year")


class DatedEventModel(BaseModel):
    event: str = Field(description="what happened then: signed, launched, meeting, mentioned")
    date: DateModel
    source: str


class PlaceholderModel(BaseModel):
    text: str = Field(description="template text left in the published text, e.g. '[date]'")
    sentence: str
    source: str


class CommitmentModel(BaseModel):
    sentence: str
    actors: list[str] = Field(description="party ids: ISO3 or group id")
    kinds: list[str] = Field(description="establish, exchange information, explore, fund, ...")
    modality: Literal["firm", "intended", "done"]
    themes: list[str]
    materials: list[str]
    amounts: list[AmountModel]
    target_dates: list[DateModel]
    source: str


class PartnershipModel(BaseModel):
    id: str
    name: str
    instrument: Instrument
    parties: list[str] = Field(description="ISO3 for countries, group ids (EU27, G7) for blocs")
    party_names: dict[str, str]
    status: Status
    themes: list[str] = Field(description="theme ids, see /partnerships/themes")
    theme_labels: dict[str, str]
    materials: list[str] = Field(description="materials the texts name")
    linked_materials: dict[str, list[str]] = Field(
        description="material -> how the record reaches it: 'named' and/or theme ids"
    )
    commitments: list[CommitmentModel]
    amounts: list[AmountModel]
    dates: list[DatedEventModel]
    sources: list[str] = Field(description="names of the texts that say this")
    aliases: list[str]
    related: list[str] = Field(description="ids of instruments named in the same sentences")
    placeholders: list[PlaceholderModel]
    evidence: list[str] = Field(description="the sentences that name the instrument")
    languages: list[str]


class PartnershipPage(Page[PartnershipModel]):
    method: str = Field(description="where the extraction rules are documented")


class PartnershipDetail(Page[CommitmentModel]):
    """One record: items are its commitments; the record itself is in ``partnership``."""

    partnership: PartnershipModel
    method: str


class CoverageRow(BaseModel):
    rank: int
    material: str
    riskiest_stage: str | None
    eu_supply_risk: float | None
    import_reliance: float | None
    outside_bloc_share: float | None
    criteria: str | None
    coverage: Literal["named", "theme", "none"]
    partnership_ids: str = Field(description="'; '-separated ids of the covering records")
    partnership_names: str
    via_themes: str = Field(description="themes through which the material is reached")


class CoveragePage(Page[CoverageRow]):
    perspective: str
    year: int
    bloc: str
    method: str


class ThemeRow(BaseModel):
    theme: str
    label: str
    materials: str = Field(description="'; '-separated material ids the theme concerns")
    basis: str


class ThemePage(Page[ThemeRow]):
    pass


class TextRow(BaseModel):
    id: str = Field(description="first 12 hex digits of the SHA-256 of the text")
    name: str
    language: str
    title: str
    added_by: str
    added_at: str


class TextPage(Page[TextRow]):
    pass
