"""The tracker's reference data hold together: themes, materials, party ids, instrument types."""

from __future__ import annotations

import csv
from importlib import resources

from chainwatch.partnerships.gazetteer import ORGANISATIONS, load_gazetteer
from chainwatch.partnerships.model import INSTRUMENT_TYPES

REFERENCE = resources.files("chainwatch.reference")


def _rows(name: str) -> list[dict[str, str]]:
    text = REFERENCE.joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_gazetteer_row_has_four_fields() -> None:
    text = REFERENCE.joinpath("partnership_gazetteer.csv").read_text(encoding="utf-8")
    bad = [(n, r) for n, r in enumerate(csv.reader(text.splitlines()), start=1) if len(r) != 4]
    assert not bad, f"rows without exactly kind,id,lang,variant: {bad}"


def test_themes_materials_and_instruments_are_known() -> None:
    gazetteer = load_gazetteer()
    materials = {row["material"] for row in _rows("materials.csv")}
    theme_ids = {theme.id for theme in gazetteer.taxonomy}
    assert {key for key, _ in gazetteer.themes} <= theme_ids
    for theme in gazetteer.taxonomy:
        assert set(theme.materials) <= materials, theme.id
    assert {key for key, _ in gazetteer.materials} <= materials
    assert {kind for kind, _, _ in gazetteer.instruments} == set(INSTRUMENT_TYPES)


def test_party_ids_are_iso3_or_store_groups() -> None:
    iso3 = {row["ISO3166-1-Alpha-3"] for row in _rows("country-codes.csv")}
    groups = {"EU27", "G7", "NATO", "OECD", "FIVE_EYES"}  # group ids of the store
    unknown = {key for key, _ in load_gazetteer().parties} - iso3 - groups - set(ORGANISATIONS)
    assert not unknown


def test_critical_minerals_theme_follows_the_lists() -> None:
    (theme,) = [t for t in load_gazetteer().taxonomy if t.id == "critical_minerals"]
    assert {"lithium", "cobalt", "gallium", "rare earths"} <= set(theme.materials)
    assert "gold" not in theme.materials
