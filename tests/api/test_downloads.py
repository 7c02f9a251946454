"""Downloads carry their provenance: the JSON API's CSV (method ids and versions, vintages,
bloc) and the pages' CSV, Parquet and Excel downloads (columns, schema metadata, a
"provenance" sheet), with the same numbers as the service tables."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from chainwatch import __version__
from chainwatch.metrics.methods import METHODS
from chainwatch.services import metrics
from tests.api.conftest import API, ApiClient
from tests.api.support import bundled_store

IMPORTS = "/material/cobalt/imports.{}?perspective=CAN&stage=refinery&year=2019"


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_api_risk_csv_carries_methods_versions_and_vintages(client: ApiClient) -> None:
    params = {"perspective": "ALLIED", "page_size": 5000}  # as test_metric_endpoints: cached
    body = client.get(API + "/risk", params=params).json()
    rows = csv_rows(client.get(API + "/risk", params={**params, "format": "csv"}).text)
    assert len(rows) == body["total"]
    assert [row["material"] for row in rows] == [item["material"] for item in body["items"]]
    first = rows[0]
    ids, versions = first["method_ids"].split("; "), first["method_versions"].split("; ")
    assert len(ids) == len(versions) and set(ids) == set(body["method_ids"])
    registry = {(m.method_id, m.version) for m in METHODS.values()}
    assert set(zip(ids, versions, strict=True)) <= registry
    assert first["sources"].split("; ") == body["sources"]
    assert any(source.startswith("CEPII BACI") for source in body["sources"])
    assert first["bloc"] == "ALLIED" and first["chainwatch_version"] == __version__
    assert len({(r["method_ids"], r["sources"]) for r in rows}) == 1, "one table, one provenance"


def test_api_alerts_csv_names_its_method_and_bloc(client: ApiClient) -> None:
    rows = csv_rows(client.get(API + "/alerts?year=2014&format=csv").text)
    assert rows and {row["method_ids"] for row in rows} == {"docs/watch.md"}
    assert {row["bloc"] for row in rows} == {"ALLIED"}
    assert all(row["sources"] for row in rows), "the rows keep their own sources"


def test_api_csv_rows_with_their_own_methods_are_unchanged(client: ApiClient) -> None:
    path = "/metrics?perspective=CAN&material=cobalt&year=2023"
    header = client.get(API + path + "&format=csv").text.splitlines()[0].split(",")
    assert header[-3:] == ["method_id", "method_version", "sources"]
    assert "method_ids" not in header and "chainwatch_version" not in header


def expected_imports() -> pd.DataFrame:
    frame = metrics.import_sources(bundled_store(), "CAN", "cobalt")
    chosen = frame[(frame["stage"] == "refinery") & (frame["year"] == 2019)]
    return chosen.reset_index(drop=True)


def test_page_csv_adds_the_provenance_it_lacks(client: ApiClient) -> None:
    response = client.get(IMPORTS.format("csv"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="imports-cobalt-refinery-CAN-2019.csv"'
        in (response.headers["content-disposition"])
    )
    rows = csv_rows(response.text)
    expected = expected_imports()
    assert [row["exporter_iso3"] for row in rows] == list(expected["exporter_iso3"])
    assert [float(row["share"]) for row in rows] == pytest.approx(list(expected["share"]))
    first = rows[0]
    assert first["method_id"] == "trade.imports" and first["method_version"] == "1"
    assert first["sources"] == "CEPII BACI V202401b"
    assert "method_ids" not in first, "per-row methods make the table-level ones redundant"
    assert (first["bloc"], first["material"], first["chainwatch_version"]) == (
        "ALLIED", "cobalt", __version__,
    )  # fmt: skip


def test_page_parquet_carries_provenance_in_its_schema(client: ApiClient) -> None:
    response = client.get(IMPORTS.format("parquet"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    metadata = {key.decode(): value.decode() for key, value in table.schema.metadata.items()}
    assert metadata["chainwatch.perspective"] == "CAN"
    assert metadata["chainwatch.bloc"] == "ALLIED"
    assert metadata["chainwatch.year"] == "2019"
    assert metadata["chainwatch.method_ids"] == "trade.imports"
    assert metadata["chainwatch.method_versions"] == "1"
    assert metadata["chainwatch.sources"] == "CEPII BACI V202401b"
    frame = table.to_pandas()
    pd.testing.assert_frame_equal(frame, expected_imports(), check_dtype=False)


def test_page_excel_has_a_provenance_sheet(client: ApiClient) -> None:
    response = client.get(IMPORTS.format("xlsx"))
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('-2019.xlsx"')
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["data", "provenance"]
    fields = dict(book["provenance"].iter_rows(min_row=2, values_only=True))
    assert fields["method_ids"] == "trade.imports" and fields["bloc"] == "ALLIED"
    assert fields["sources"] == "CEPII BACI V202401b" and fields["stage"] == "refinery"
    data = list(book["data"].iter_rows(values_only=True))
    expected = expected_imports()
    assert len(data) == len(expected) + 1
    assert [row[data[0].index("exporter_iso3")] for row in data[1:]] == list(
        expected["exporter_iso3"]
    )


def test_the_first_screen_bloc_travels_into_the_download(client: ApiClient) -> None:
    """ALLIED's default bloc on the pages is OECD (a group is not its own bloc): the metrics
    download says so and holds the shares against OECD."""
    response = client.get("/material/cobalt/metrics.csv?perspective=ALLIED")
    rows = csv_rows(response.text)
    assert {row["bloc"] for row in rows} == {"OECD"}
    details = {r["detail"] for r in rows if r["metric"] == "outside_bloc_share" and r["value"]}
    assert details == {"bloc OECD"}


@pytest.mark.parametrize("path", ["/risk.txt", "/material/cobalt/imports.json"])
def test_an_unknown_download_format_is_refused(client: ApiClient, path: str) -> None:
    assert client.get(path).status_code in (404, 422)
