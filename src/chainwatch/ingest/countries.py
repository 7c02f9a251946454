"""Countries: the ISO 3166 table (datahub ``country-codes.csv``) and name/code resolution.

Publishers name countries their own way: USGS writes "Congo (Kinshasa)" and glues footnote
markers to names ("Japane", "Other countries6"); WGI uses a few pre-ISO codes (ZAR, ROM); BACI
has its own numeric codes with exceptions (490 = Taiwan, 58 = Belgium-Luxembourg). Every such
spelling resolves here, through the curated ``reference/country_aliases.csv``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW
from chainwatch.ingest.files import TextInput, csv_dicts

_DATAHUB_COLUMNS = [
    "ISO3166-1-Alpha-3",
    "ISO3166-1-Alpha-2",
    "M49",
    "CLDR display name",
    "official_name_en",
    "UNTERM English Short",
    "is_independent",
    "Region Name",
]

# Statistical aggregates that production tables use as rows.
AGGREGATES = {"WLD": "World", "OTH": "Other countries"}
# Codes outside ISO 3166-1 that real data sets use for economies.
EXTRA_ECONOMIES = {"XKX": "Kosovo"}


def parse_country_codes(path: Path) -> pa.Table:
    """Read the datahub country-codes CSV into the canonical ``country`` table."""
    _, records = csv_dicts(TextInput.file(path), _DATAHUB_COLUMNS)
    rows = []
    for line, record in records:
        iso3 = record["ISO3166-1-Alpha-3"].strip()
        if not iso3:
            continue
        if not re.fullmatch(r"[A-Z]{3}", iso3):
            raise InputError(path, f"not an ISO3 code: {iso3!r}", line, "ISO3166-1-Alpha-3")
        name = record["CLDR display name"] or record["UNTERM English Short"]
        if len(name) <= 3:  # CLDR abbreviates a few ("US", "UK")
            name = record["official_name_en"] or record["UNTERM English Short"]
        m49 = record["M49"].strip()
        independent = record["is_independent"].strip()
        rows.append(
            {
                "iso3": iso3,
                "name": name or record["official_name_en"],
                "iso2": record["ISO3166-1-Alpha-2"].strip() or None,
                "m49": int(m49) if re.fullmatch(r"[0-9]{1,9}", m49) else None,
                "kind": "country" if independent == "Yes" else "territory",
                "region": record["Region Name"] or None,
                SOURCE_ROW: line,
            }
        )
    if not rows:
        raise InputError(path, "no country rows")
    for code, name in {**AGGREGATES, **EXTRA_ECONOMIES}.items():
        kind = "aggregate" if code in AGGREGATES else "country"
        rows.append(
            {
                "iso3": code,
                "name": name,
                "iso2": None,
                "m49": None,
                "kind": kind,
                "region": None,
                SOURCE_ROW: 0,
            }
        )
    return pa.Table.from_pylist(rows)


def former_country_rows(baci_codes: list[tuple[int, str, str]], known: set[str]) -> pa.Table:
    """Rows for ISO 3166-3 former countries that a BACI code table names (CSK, SUN, SCG, ...).

    ``baci_codes`` are (code, name, iso3) triples as BACI publishes them.
    """
    aliases = alias_table()
    rows = []
    for _code, name, iso3 in baci_codes:
        if iso3 in known or normalise_name(iso3) in aliases or not re.fullmatch(r"[A-Z]{3}", iso3):
            continue
        rows.append(
            {
                "iso3": iso3,
                "name": name,
                "iso2": None,
                "m49": None,
                "kind": "former",
                "region": None,
                SOURCE_ROW: 0,
            }
        )
        known.add(iso3)
    return pa.Table.from_pylist(rows, schema=bundled_country_table().schema)


@cache
def alias_table() -> dict[str, str]:
    """Curated alias -> ISO3 (``reference/country_aliases.csv``), keys normalised."""
    text = (
        resources.files("chainwatch.reference")
        .joinpath("country_aliases.csv")
        .read_text(encoding="utf-8")
    )
    return {normalise_name(r["alias"]): r["iso3"] for r in csv.DictReader(text.splitlines())}


def normalise_name(name: str) -> str:
    """Lower-case, accent- and punctuation-folded form of a country name for matching."""
    text = unicodedata.normalize("NFKD", name.replace("\xa0", " ").replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()
    return re.sub(r"\s+", " ", text)


@dataclass
class CountryResolver:
    """Resolves names and codes as publishers write them to canonical ISO3 codes."""

    by_name: dict[str, str]
    codes: set[str]

    @classmethod
    def from_rows(cls, rows: list[dict[str, object]]) -> CountryResolver:
        by_name: dict[str, str] = {}
        codes: set[str] = set()
        for row in rows:
            iso3 = str(row["iso3"])
            codes.add(iso3)
            by_name[normalise_name(str(row["name"]))] = iso3
            by_name[normalise_name(iso3)] = iso3
        by_name.update(alias_table())
        return cls(by_name=by_name, codes=codes)

    def resolve_code(self, code: str) -> str | None:
        """An ISO3 or publisher code (ZAR, ROM, S19) -> canonical ISO3, or None."""
        code = code.strip().upper()
        if code in self.codes:
            return code
        found = alias_table().get(normalise_name(code))
        return found if found in self.codes else None

    def resolve_name(self, raw: str) -> str | None:
        """A country name as published -> ISO3, or None when it names no known economy.

        Tries the name as written, then without a qualifier ("Brazil (beneficiated)",
        "Russia, datolite ore"), then without glued footnote digits or a trailing footnote
        letter ("Japane" -> "Japan", "Other countries6").
        """
        name = normalise_name(raw)
        candidates: list[str] = []
        for form in (name, re.split(r" \(|, ", name, maxsplit=1)[0].strip()):
            undigit = re.sub(r"\d+$", "", form).strip()
            candidates += [form, undigit]
            if undigit.endswith("e"):
                candidates.append(undigit[:-1])
        for candidate in candidates:
            if candidate.startswith("world total"):
                return "WLD"
            if candidate.startswith("other countries"):
                return "OTH"
            if candidate in self.by_name:
                return self.by_name[candidate]
        return None


@cache
def bundled_country_table() -> pa.Table:
    """The canonical country table parsed from the datahub file shipped in the package."""
    with resources.as_file(
        resources.files("chainwatch.reference").joinpath("country-codes.csv")
    ) as path:
        return parse_country_codes(path)


def bundled_resolver() -> CountryResolver:
    """A resolver over the shipped country table (ISO 3166 plus WLD, OTH, XKX)."""
    return CountryResolver.from_rows(bundled_country_table().to_pylist())
