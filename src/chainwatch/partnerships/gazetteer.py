"""The gazetteer: names of parties, themes, materials and instruments, read from reference data.

Country names come from the bundled ISO table (``country-codes.csv``: English and French
official and short names) so every country is known; ``partnership_gazetteer.csv`` adds blocs,
organisations, common variants ("U.S.", "Britain"), theme and instrument words (English and
French) and material synonyms; ``materials.csv`` gives the material ids and names;
``partnership_themes.csv`` is the theme taxonomy with the materials each theme concerns.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Material ids that are everyday English words in announcements ("lead the work").
AMBIGUOUS_MATERIALS = frozenset({"lead"})
#: Party ids that are neither ISO3 codes nor country groups of the store: organisations.
ORGANISATIONS = {"IEA": "International Energy Agency", "WTO": "World Trade Organization"}
#: Country names that are also common words or regions in these texts.
AMBIGUOUS_COUNTRY_NAMES = frozenset({"Jersey", "Georgia", "Chad", "Guinea", "Niger", "Turkey"})


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    materials: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class Gazetteer:
    """(id, variant, language) triples per kind; themes and party names for display."""

    parties: tuple[tuple[str, str], ...]
    themes: tuple[tuple[str, str], ...]
    materials: tuple[tuple[str, str], ...]
    instruments: tuple[tuple[str, str, str], ...]  # (instrument type, head word, language)
    name_words: tuple[tuple[str, str], ...]  # (English form, French form)
    taxonomy: tuple[Theme, ...]
    party_names: dict[str, str]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("chainwatch.reference").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def _plain_name(name: str) -> str:
    """ "Republic of Korea (the)" -> "Republic of Korea"; "Iran (Islamic Republic of)" -> "Iran"."""
    name = re.sub(r"\s*\((the|la|le|les|l')\)\s*$", "", name.strip())
    return re.sub(r"\s*\([^)]*\)", "", name).strip()


def _country_variants() -> list[tuple[str, str]]:
    variants: list[tuple[str, str]] = []
    columns = (
        "official_name_en",
        "UNTERM English Short",
        "CLDR display name",
        "official_name_fr",
        "UNTERM French Short",
    )
    for row in _rows("country-codes.csv"):
        iso3 = row["ISO3166-1-Alpha-3"]
        if not iso3:
            continue
        for column in columns:
            name = _plain_name(row.get(column) or "")
            if len(name) < 4 or " - " in name or name in AMBIGUOUS_COUNTRY_NAMES:
                continue
            variants.append((iso3, name))
    return variants


def _critical_materials(rows: list[dict[str, str]]) -> tuple[str, ...]:
    return tuple(row["material"] for row in rows if row["crma_entries"] or row["usgs_2022_entries"])


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    parties = _country_variants()
    themes: list[tuple[str, str]] = []
    materials: list[tuple[str, str]] = []
    instruments: list[tuple[str, str, str]] = []
    name_words: list[tuple[str, str]] = []
    for row in _rows("partnership_gazetteer.csv"):
        kind, key, language, variant = row["kind"], row["id"], row["lang"], row["variant"]
        if kind == "party":
            parties.append((key, variant))
        elif kind == "theme":
            themes.append((key, variant))
        elif kind == "material":
            materials.append((key, variant))
        elif kind == "instrument":
            instruments.append((key, variant, language))
        elif kind == "name_word":
            name_words.append((key, variant))
        else:
            raise ValueError(f"partnership_gazetteer.csv: unknown kind {kind!r}")
    material_rows = _rows("materials.csv")
    for row in material_rows:
        material = row["material"]
        if material in AMBIGUOUS_MATERIALS:
            continue
        materials.append((material, material))
        display = _plain_name(row["display_name"])
        if display.casefold() != material:
            materials.append((material, display))
    critical = _critical_materials(material_rows)
    taxonomy = tuple(
        Theme(
            id=row["theme"],
            label=row["label"],
            materials=critical
            if row["materials"] == "@critical"
            else tuple(m for m in row["materials"].split(";") if m),
            basis=row["basis"],
        )
        for row in _rows("partnership_themes.csv")
    )
    names = {row["ISO3166-1-Alpha-3"]: _plain_name(row["CLDR display name"] or row[
        "official_name_en"]) for row in _rows("country-codes.csv")}  # fmt: skip
    names.update({"EU27": "European Union", "G7": "G7", "NATO": "NATO", "OECD": "OECD",
                  "FIVE_EYES": "Five Eyes", **ORGANISATIONS})  # fmt: skip
    return Gazetteer(
        parties=tuple(dict.fromkeys(parties)),
        themes=tuple(dict.fromkeys(themes)),
        materials=tuple(dict.fromkeys(materials)),
        instruments=tuple(dict.fromkeys(instruments)),
        name_words=tuple(name_words),
        taxonomy=taxonomy,
        party_names=names,
    )


def theme_materials() -> dict[str, tuple[str, ...]]:
    """Theme id -> the material ids it concerns (``partnership_themes.csv``)."""
    return {theme.id: theme.materials for theme in load_gazetteer().taxonomy}


def party_name(party: str) -> str:
    return load_gazetteer().party_names.get(party, party)
