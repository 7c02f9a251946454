"""USGS MCS reader: real world files in the publisher's layout, the T5 salient table, bad input."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource
from chainwatch.ingest.countries import CountryResolver, bundled_resolver
from chainwatch.ingest.usgs_mcs import (
    SOURCE,
    commodity_rule,
    commodity_rules,
    parse_usgs_mcs_world,
    parse_usgs_salient_critical,
    parse_value,
)
from tests.conftest import FIXTURES, SHARED_DATA

MCS = FIXTURES / "usgs_mcs"
SYNTHETIC = MCS / "synthetic"
T5 = "MCS2024_T5_Critical_Minerals_Salient.csv"
MATERIALS_CSV = Path(schema.__file__).parents[1] / "reference" / "materials.csv"
# Codes in usgs_commodities.csv that have no *_world.csv file (they serve the T5 table only).
NO_WORLD_FILE = {"scand", "yttri"}


@pytest.fixture(scope="module")
def countries() -> CountryResolver:
    return bundled_resolver()


def _parse(countries: CountryResolver, *names: str) -> ParsedSource:
    return parse_usgs_mcs_world([MCS / name for name in names], countries)


def _rows(parsed: ParsedSource, **where: Any) -> list[dict[str, Any]]:
    table = parsed.tables["production"]
    assert isinstance(table, pa.Table)
    return [
        row for row in table.to_pylist() if all(row[name] == value for name, value in where.items())
    ]


def _one(parsed: ParsedSource, **where: Any) -> dict[str, Any]:
    rows = _rows(parsed, **where)
    assert len(rows) == 1, rows
    return rows[0]


def _key_duplicates(parsed: ParsedSource) -> list[tuple[Any, ...]]:
    key = schema.table("production").key
    seen: set[tuple[Any, ...]] = set()
    duplicates = []
    for row in _rows(parsed):
        values = tuple(row[name] for name in key)
        if values in seen:
            duplicates.append(values)
        seen.add(values)
    return duplicates


# --- real files -------------------------------------------------------------------------------


def test_lithium_australia_2023_is_86000_tonnes_estimated(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-lithi_world.csv")
    row = _one(parsed, country_iso3="AUS", year=2023)
    assert row["quantity"] == 86000.0
    assert row["unit"] == "t"
    assert row["estimated"] is True
    assert row["value_flag"] is None
    assert (row["material"], row["stage"], row["measure"]) == ("lithium", "mine", "production")
    assert row["product_type"] == "Mine production, lithium content"
    assert (row["source"], row["vintage"], row[SOURCE_ROW]) == (SOURCE, "MCS2024", 4)
    # 2022 is not an estimate for Australia (no _est in Prod_t_2022, no note)
    assert _one(parsed, country_iso3="AUS", year=2022)["estimated"] is False


def test_world_total_and_other_countries_rows(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-lithi_world.csv")
    world = _one(parsed, country_iso3="WLD", year=2023)
    assert world["quantity"] == 180000.0 and world[SOURCE_ROW] == 12
    other = _one(parsed, country_iso3="OTH", year=2022)  # "Other countries6"
    assert other["quantity"] == 0.0 and other[SOURCE_ROW] == 11


def test_withheld_marker_gives_null_quantity_and_flag(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-lithi_world.csv")
    for year in (2022, 2023):
        row = _one(parsed, country_iso3="USA", year=year)
        assert row["quantity"] is None
        assert row["value_flag"] == "W"


def test_note_marks_the_earlier_year_estimated(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-lithi_world.csv")
    assert _one(parsed, country_iso3="BRA", year=2022)["estimated"] is True  # "Also estimated"
    assert _one(parsed, country_iso3="ARG", year=2022)["estimated"] is False


def test_thousand_metric_tons_converted_to_tonnes(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2023-coppe_world.csv")
    mine = _one(parsed, country_iso3="USA", year=2021, stage="mine")
    assert mine["quantity"] == 1230 * 1000.0 and mine["unit"] == "t"
    refinery = _one(parsed, country_iso3="USA", year=2021, stage="refinery")
    assert refinery["quantity"] == 971 * 1000.0
    assert refinery["product_type"] == "Refinery production, copper"
    assert {row["vintage"] for row in _rows(parsed)} == {"MCS2023"}


def test_thousands_separators(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-graph_world.csv")
    assert _one(parsed, country_iso3="BRA", year=2022)["quantity"] == 72000.0  # "72,000"
    assert _one(parsed, country_iso3="MDG", year=2022)["quantity"] == 130000.0  # "130,000"


def test_footnote_letters_digits_and_no_break_spaces(countries: CountryResolver) -> None:
    gallium = _parse(countries, "mcs2024-galli_world.csv")
    assert _one(gallium, country_iso3="JPN", year=2023)["quantity"] == 3000.0  # "Japane"
    assert _one(gallium, country_iso3="KOR", year=2023)[SOURCE_ROW] == 5  # "Republic ofe"
    assert _one(gallium, country_iso3="OTH", year=2023)[SOURCE_ROW] == 7  # "Other countries4"
    assert _one(gallium, country_iso3="CHN", year=2022)["stage"] == "refinery"
    cobalt = _parse(countries, "mcs2024-cobal_world.csv")
    assert _one(cobalt, country_iso3="NCL", year=2023)["quantity"] == 3000.0  # "New Caledonia11"
    platinum = _parse(countries, "mcs2024-plati_world.csv")
    assert len(_rows(platinum, country_iso3="USA", year=2023)) == 2  # "United\xa0States"
    assert len(_rows(platinum, country_iso3="RUS", year=2023)) == 2  # "Russiae"


def test_platinum_group_file_splits_materials_by_type(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-plati_world.csv")
    palladium = _one(parsed, country_iso3="ZAF", year=2022, material="palladium")
    platinum = _one(parsed, country_iso3="ZAF", year=2022, material="platinum")
    assert (palladium["quantity"], palladium["unit"]) == (73100.0, "kg")
    assert (platinum["quantity"], platinum["unit"]) == (124000.0, "kg")
    assert platinum["product_type"] == "Mine production: Platinum"  # leading space stripped
    assert _one(parsed, country_iso3="WLD", year=2023, material="palladium")["quantity"] == 210000


def test_million_cubic_metres_and_qualified_duplicate_rows(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2023-heliu_world.csv")
    united_states = {row["product_type"]: row for row in _rows(parsed, country_iso3="USA")}
    assert set(united_states) == {
        "Mine production, helium (extracted from natural gas)",
        "Mine production, helium (from Cliffside Field)",
    }
    qatar = _one(parsed, country_iso3="QAT", year=2021)
    assert (qatar["quantity"], qatar["unit"]) == (61e6, "m3")
    assert qatar["product_type"] == "Mine production, helium"  # unique rows keep the Type
    assert _key_duplicates(parsed) == []


def test_bound_keeps_the_number_with_its_sign_as_flag(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2023-zirco-hafni_world.csv")
    row = _one(parsed, country_iso3="USA", year=2022)
    assert (row["quantity"], row["value_flag"], row["material"]) == (100000.0, "<", "zirconium")


def test_type_text_in_header_cell_and_upper_case_file_name(countries: CountryResolver) -> None:
    fluorspar = _parse(countries, "mcs2024-fluor_world.csv")
    china = _one(fluorspar, country_iso3="CHN", year=2023)
    assert china["product_type"] == "Mine production, fluorspar"
    assert (china["quantity"], china["estimated"]) == (5700000.0, True)  # Prod_kt_Est_2023
    assert _one(fluorspar, country_iso3="USA", year=2022)["value_flag"] == "NA"
    bismuth = _parse(countries, "MCS2024-bismu_world.csv")
    laos = _one(bismuth, country_iso3="LAO", year=2023)
    assert (laos["material"], laos["stage"], laos["vintage"]) == ("bismuth", "refinery", "MCS2024")


def test_untracked_commodity_skipped_and_counted(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-abras_world.csv")
    assert _rows(parsed) == []
    assert "skipped 30 rows of commodities chainwatch does not track (abras)" in parsed.source.cut


def test_row_naming_several_countries_skipped_and_counted(countries: CountryResolver) -> None:
    parsed = parse_usgs_mcs_world(
        [SYNTHETIC / "several-countries_mcs2024-lithi_world.csv"], countries
    )
    assert _rows(parsed, country_iso3="CAN") == []
    assert 6 not in {row[SOURCE_ROW] for row in _rows(parsed)}
    assert "skipped 1 rows naming several countries (United States and Canada)" in (
        parsed.source.cut
    )


def test_single_file_result_and_provenance(countries: CountryResolver) -> None:
    parsed = _parse(countries, "mcs2024-lithi_world.csv")
    table = parsed.tables["production"]
    assert isinstance(table, pa.Table)
    expected = schema.arrow_schema("production").append(
        pa.field(SOURCE_ROW, pa.int64(), nullable=False)
    )
    assert table.schema == expected
    assert table.num_rows == 22  # 11 countries and aggregates x 2 years; reserves not loaded
    record = parsed.source
    assert (record.source_id, record.version, record.licence_class) == (
        "usgs-mcs-2024",
        "MCS2024",
        "A",
    )
    assert record.publisher == "U.S. Geological Survey"
    assert record.licence == "US Government work, public domain"
    assert "10.5066/P144BA54" in record.citation
    assert parsed.file == MCS / "mcs2024-lithi_world.csv"
    assert parsed.replacements[0].table == "production"
    assert parsed.replacements[0].where == {"source": [SOURCE], "vintage": ["MCS2024"]}
    assert parsed.column_labels["country_iso3"] == "Country"
    assert parsed.column_labels["product_type"] == "Type"
    assert parsed.column_labels["quantity"].startswith("Prod_")


def test_several_files_carry_source_file(countries: CountryResolver) -> None:
    paths = sorted(MCS.glob("*_world.csv"))
    parsed = parse_usgs_mcs_world(paths, countries)
    table = parsed.tables["production"]
    assert isinstance(table, pa.Table)
    assert table.schema.names[-2:] == [SOURCE_ROW, SOURCE_FILE]
    assert set(table.column(SOURCE_FILE).to_pylist()) == {
        path.name for path in paths if "abras" not in path.name
    }
    assert parsed.file == MCS
    assert parsed.source.source_id == "usgs-mcs-2023-2024"
    assert parsed.replacements[0].where["vintage"] == ["MCS2023", "MCS2024"]
    assert "10.5066/P9WCYUI6" in parsed.source.citation
    assert _key_duplicates(parsed) == []


def test_same_file_twice_is_a_duplicate_key(countries: CountryResolver, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(MCS / "mcs2024-lithi_world.csv", tmp_path / folder)
    paths = [tmp_path / folder / "mcs2024-lithi_world.csv" for folder in ("a", "b")]
    with pytest.raises(InputError) as caught:
        parse_usgs_mcs_world(paths, countries)
    text = str(caught.value)
    assert "b/mcs2024-lithi_world.csv" in text and "row 2" in text and "'Country'" in text
    assert "duplicate key" in text and "first seen on row a/mcs2024-lithi_world.csv:2" in text


# --- bad input (synthetic edits of real files, see tests/fixtures/usgs_mcs/README.md) ---------


@pytest.mark.parametrize(
    ("name", "row", "column"),
    [
        ("empty_mcs2024-lithi_world.csv", 1, None),
        ("missing-country_mcs2024-lithi_world.csv", 1, "'Country'"),
        ("no-prod_mcs2024-lithi_world.csv", 1, "column 'Prod_<unit>_<year>'"),
        ("bad-unit_mcs2024-lithi_world.csv", 1, "column 'Prod_lb_2022'"),
        ("bad-number_mcs2024-lithi_world.csv", 4, "column 'Prod_t_est_2023'"),
        ("negative_mcs2024-lithi_world.csv", 6, "column 'Prod_t_2022'"),
        ("unknown-country_mcs2024-lithi_world.csv", 10, "column 'Country'"),
        ("wrong-edition_mcs2024-lithi_world.csv", 3, "column 'Source'"),
        ("mcs2024-unobt_world.csv", 1, "'unobt'"),
    ],
)
def test_bad_world_input_names_file_row_and_column(
    countries: CountryResolver, name: str, row: int, column: str | None
) -> None:
    with pytest.raises(InputError) as caught:
        parse_usgs_mcs_world([SYNTHETIC / name], countries)
    text = str(caught.value)
    assert name in text
    assert f"row {row}" in text
    if column is not None:
        assert column in text
    assert "\n" not in text


def test_bad_input_messages_say_what_is_wrong(countries: CountryResolver) -> None:
    messages = {}
    for name in ("bad-number", "negative", "unknown-country", "empty"):
        with pytest.raises(InputError) as caught:
            parse_usgs_mcs_world([SYNTHETIC / f"{name}_mcs2024-lithi_world.csv"], countries)
        messages[name] = caught.value.message
    assert messages["bad-number"] == "not a number or a known marker: 'about 86000'"
    assert messages["negative"] == "negative quantity '-520'"
    assert messages["unknown-country"] == "unknown country 'Atlantis'"
    assert "empty" in messages["empty"]


def test_no_files_is_an_input_error(countries: CountryResolver) -> None:
    with pytest.raises(InputError):
        parse_usgs_mcs_world([], countries)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("86000", (86000.0, None, False)),
        ("1,330,000", (1330000.0, None, False)),
        (" e24,000", (24000.0, None, True)),
        ("<100", (100.0, "<", False)),
        ("W", (None, "W", False)),
        ("   NA", (None, "NA", False)),
        ("XX", (None, "XX", False)),
        ("Large", (None, "Large", False)),
        ("--", (None, "--", False)),
        ("Less than ½ unit.", (None, "Less than ½ unit.", False)),
        ("Included with ilmenite", (None, "Included with ilmenite", False)),
    ],
)
def test_parse_value(text: str, expected: tuple[float | None, str | None, bool]) -> None:
    value = parse_value(text)
    assert value is not None
    assert (value.quantity, value.flag, value.estimated) == expected


def test_parse_value_blank_and_unreadable() -> None:
    assert parse_value("           ") is None
    for text in ("-5", "12a", "1,00", "n/d"):
        with pytest.raises(ValueError):
            parse_value(text)


# --- T5 critical-minerals salient table -------------------------------------------------------


def test_salient_critical_table(countries: CountryResolver) -> None:
    table = parse_usgs_salient_critical(MCS / T5, countries)
    assert table.column_names == [
        "edition",
        "year",
        "critical_mineral",
        "material",
        "leading_country_iso3",
        "leading_country_production",
        "world_production",
        "leading_share_percent",
        SOURCE_ROW,
    ]
    rows = {row["critical_mineral"]: row for row in table.to_pylist()}
    assert len(rows) == table.num_rows == 31
    lithium = rows["Lithium"]
    assert (lithium["edition"], lithium["year"], lithium["leading_country_iso3"]) == (
        "MCS2024",
        2023,
        "AUS",
    )
    assert (lithium["leading_country_production"], lithium["world_production"]) == (86000, 180000)
    assert lithium["leading_share_percent"] == 48.0
    assert rows["Cobalt"]["leading_country_iso3"] == "COD"  # Congo (Kinshasa)
    zinc = rows["Zinc"]  # NA everywhere
    assert zinc["leading_country_iso3"] is None and zinc["leading_share_percent"] is None
    assert rows["Germanium"]["world_production"] is None
    assert {name: rows[name]["material"] for name in rows if "(" in name} == {
        "Aluminum (bauxite)": "bauxite",
        "Graphite (natural)": "graphite",
        "Rare earths (compounds and metals)": "rare earths",
        "Titanium (metal)": "titanium",
        "Zirconium (ores and concentrates)": "zirconium",
    }
    assert all(row["material"] for row in rows.values())


@pytest.mark.parametrize(
    ("name", "row", "column"),
    [
        ("unknown-mineral_" + T5, 3, "Critical_mineral"),
        ("unknown-country_" + T5, 4, "Leading_source_country"),
    ],
)
def test_bad_salient_input(countries: CountryResolver, name: str, row: int, column: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_usgs_salient_critical(SYNTHETIC / name, countries)
    text = str(caught.value)
    assert name in text and f"row {row}" in text and f"column '{column}'" in text


# --- the curated mapping ----------------------------------------------------------------------


def _materials() -> dict[str, set[str]]:
    with MATERIALS_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            row["material"]: set(filter(None, row["usgs_mcs_codes"].split(";")))
            for row in csv.DictReader(handle)
        }


def test_commodity_mapping_agrees_with_materials_csv() -> None:
    materials = _materials()
    stages = set(schema.table("production").column("stage").allowed_values)
    for rule in commodity_rules():
        assert not rule.stage or rule.stage in stages, rule
        if not rule.material:
            continue
        assert rule.material in materials, rule
        assert rule.code in materials[rule.material] or rule.code in NO_WORLD_FILE, rule


# --- every real file in shared/data -----------------------------------------------------------


def _real_world_files() -> dict[str, list[Path]]:
    usgs = SHARED_DATA / "usgs_mcs"
    if not usgs.is_dir():
        pytest.skip("shared/data is not present")
    return {
        "MCS2024": sorted(usgs.glob("mcs2024/world/*_world.csv")),
        "MCS2023": sorted(usgs.glob("mcs2023/world/*_world.csv")),
        "MCS2022": sorted(usgs.glob("mcs2022_subset/*_world.csv")),
    }


def test_every_real_world_file_parses_without_duplicates(countries: CountryResolver) -> None:
    editions = _real_world_files()
    untracked = {rule.code for rule in commodity_rules() if not rule.material}
    for vintage, paths in editions.items():
        assert paths, vintage
        parsed = parse_usgs_mcs_world(paths, countries)
        table = parsed.tables["production"]
        assert isinstance(table, pa.Table) and table.num_rows > 0
        assert set(table.column("vintage").to_pylist()) == {vintage}
        assert _key_duplicates(parsed) == []
        cut = parsed.source.cut
        assert "skipped 0 rows naming several countries" in cut
        skipped = cut.split("does not track")[1].split(";")[0].strip(" ()")
        assert set(filter(None, skipped.split(", "))) <= untracked
    everything = parse_usgs_mcs_world([p for paths in editions.values() for p in paths], countries)
    assert _key_duplicates(everything) == []
    rows = _rows(everything)
    assert {row["material"] for row in rows} <= set(_materials())
    assert {row["country_iso3"] for row in rows} <= countries.codes
    assert all(row["quantity"] is None or row["quantity"] >= 0 for row in rows)
    assert all(
        (row["quantity"] is None) == (row["value_flag"] not in (None, "<", ">")) for row in rows
    )


def test_real_salient_critical_file(countries: CountryResolver) -> None:
    path = SHARED_DATA / "usgs_mcs" / "mcs2024" / "industry_trends" / T5
    if not path.exists():
        pytest.skip("shared/data is not present")
    assert parse_usgs_salient_critical(path, countries).num_rows == 31


# --- refinery, smelter, plant and primary-production tables (issue 11) -----------------------

# Every refinery-stage table of the MCS 2022-2024 world files: commodity code -> (material,
# the words that mark the table in the Type column). Gallium's only table is "Primary
# production" (low-purity gallium recovered from alumina and zinc processing).
REFINERY_TABLES = {
    "alumi": ("aluminium", "smelter production"),
    "arsen": ("arsenic", "plant production"),
    "bauxi": ("bauxite", "refinery production"),
    "bismu": ("bismuth", "refinery production"),
    "boron": ("boron", "compounds|refined"),
    "cadmi": ("cadmium", "refinery production"),
    "coppe": ("copper", "refinery production"),
    "galli": ("gallium", "primary production"),
    "germa": ("germanium", "refinery production"),
    "indiu": ("indium", "refinery production"),
    "mgmet": ("magnesium", "smelter production"),
    "selen": ("selenium", "refinery production"),
    "simet": ("silicon", "plant production"),
    "sulfu": ("sulfur", "all forms"),
    "tellu": ("tellurium", "refinery production"),
    "titan": ("titanium", "sponge metal production"),
}
# Materials whose MCS world files hold mine production only: a refinery-stage figure for them
# cannot come from these files (the metrics must say so, not show the mine figure as one).
MINE_ONLY = ["cobalt", "lithium", "nickel", "rare earths", "graphite", "manganese", "platinum",
             "palladium", "tungsten", "tin", "zinc", "lead", "antimony", "vanadium"]  # fmt: skip


@pytest.fixture(scope="module")
def real_production(countries: CountryResolver) -> list[dict[str, Any]]:
    paths = [path for paths in _real_world_files().values() for path in paths]
    return _rows(parse_usgs_mcs_world(paths, countries))


def _code(path: Path) -> str:
    return path.name.lower().split("-", 1)[1].removesuffix("_world.csv")


def _refinery_cells(code: str) -> dict[str, int]:
    """Non-blank Prod_ cells of the refinery-table records, read with the csv module."""
    words = REFINERY_TABLES[code][1]
    counts: dict[str, int] = {}
    for vintage, paths in _real_world_files().items():
        for path in (p for p in paths if _code(p) == code):
            with path.open(encoding="utf-8-sig", newline="") as handle:
                records = list(csv.reader(handle))
            header = [" ".join(name.split()) for name in records[0]]
            type_column = header.index("Type") if "Type" in header else 2
            prod = [i for i, name in enumerate(header)
                    if name.lower().startswith("prod_") and "note" not in name.lower()]  # fmt: skip
            for record in records[1:]:
                text = " ".join(record[type_column].split()).lower() if record else ""
                if any(word in text for word in words.split("|")):
                    filled = sum(1 for i in prod if i < len(record) and record[i].strip())
                    counts[vintage] = counts.get(vintage, 0) + filled
    return counts


@pytest.mark.parametrize("code", sorted(REFINERY_TABLES))
def test_refinery_table_loads_whole_at_the_refinery_stage(
    code: str, real_production: list[dict[str, Any]]
) -> None:
    material, words = REFINERY_TABLES[code]
    rows = [row for row in real_production if row["material"] == material
            and row["stage"] == "refinery"]  # fmt: skip
    assert rows, material
    # every cell of the table is a row (none dropped), and nothing else is refinery output
    loaded = {vintage: sum(1 for row in rows if row["vintage"] == vintage)
              for vintage in {row["vintage"] for row in rows}}  # fmt: skip
    assert loaded == _refinery_cells(code)
    # provenance: each number names the file, the table and the edition that fed it
    for row in rows:
        assert row["source"] == SOURCE
        assert _code(Path(row[SOURCE_FILE])) == code
        assert row["source_file"].split("/")[0].removeprefix("mcs")[:4] in row["vintage"]
        assert any(word in row["product_type"].lower() for word in words.split("|"))


def test_every_refinery_figure_comes_from_a_declared_rule(countries: CountryResolver) -> None:
    for paths in _real_world_files().values():
        for path in paths:
            for row in _rows(parse_usgs_mcs_world([path], countries), stage="refinery"):
                rule = commodity_rule(_code(path), row["product_type"].split(" (")[0])
                assert rule is not None and rule.stage == "refinery", (path.name, row)
                assert rule.stage_basis, rule


@pytest.mark.parametrize("material", MINE_ONLY)
def test_no_refinery_table_for_mine_only_materials(
    material: str, real_production: list[dict[str, Any]]
) -> None:
    stages = {row["stage"] for row in real_production if row["material"] == material}
    assert stages == {"mine"}


def test_refinery_rules_are_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "production_stages.md").read_text(
        encoding="utf-8"
    )
    missing = [
        f"{rule.code} ({rule.material})"
        for rule in commodity_rules()
        if rule.stage == "refinery" and f"| {rule.code} | {rule.material} |" not in page
    ]
    assert not missing, f"refinery rules missing from docs/production_stages.md: {missing}"
    assert set(REFINERY_TABLES) == {r.code for r in commodity_rules() if r.stage == "refinery"}
