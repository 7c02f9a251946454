"""Downloads of the pages' tables as CSV, Parquet or Excel, each carrying its provenance.

Provenance is what a number needs to be traced: the chainwatch version, the question asked
(perspective, bloc, year, material, stage), the methods (id and version) and the data
vintages the table rests on. It travels with the data in every format:

* CSV: extra columns at the end of every row, only those the table does not already carry
  (a table with ``method_id``/``method_version``/``sources`` per row keeps them as they are);
* Parquet: schema metadata, one ``chainwatch.<field>`` key per field;
* Excel: the table on the sheet ``data`` and the fields on the sheet ``provenance``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.responses import Response

from chainwatch import __version__
from chainwatch.services.metrics import METHODS


class DownloadFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


MEDIA_TYPES = {
    DownloadFormat.csv: "text/csv; charset=utf-8",
    DownloadFormat.parquet: "application/vnd.apache.parquet",
    DownloadFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
METADATA_PREFIX = "chainwatch."
DATA_SHEET, PROVENANCE_SHEET = "data", "provenance"


@dataclass(frozen=True)
class Provenance:
    """The methods and data vintages a table rests on, and the question it answers."""

    methods: list[tuple[str, str]] = field(default_factory=list)
    """(method id, version), sorted."""
    sources: list[str] = field(default_factory=list)
    """Data sets with their vintages ("CEPII BACI V202401b", "USGS MCS MCS2024"), sorted."""
    query: dict[str, Any] = field(default_factory=dict)
    """The question: perspective, bloc, year, ... (None values left out)."""

    def fields(self) -> dict[str, str]:
        """Every field, in a fixed order, as text (methods and sources where there are)."""
        asked = {key: str(value) for key, value in self.query.items() if value is not None}
        fields = {"chainwatch_version": __version__, **asked}
        if self.methods:
            fields["method_ids"] = "; ".join(method for method, _ in self.methods)
            fields["method_versions"] = "; ".join(version for _, version in self.methods)
        if self.sources:
            fields["sources"] = "; ".join(self.sources)
        return fields


def table_provenance(frame: pd.DataFrame, **query: Any) -> Provenance:
    """The provenance of a service table: per-row ``method_id``/``method_version``/``sources``
    columns, or the table-level ``attrs["provenance"]`` of the risk table (method ids, whose
    versions come from the method registry)."""
    methods: set[tuple[str, str]] = set()
    sources: set[str] = set()
    if {"method_id", "method_version"} <= set(frame.columns):
        pairs = frame[["method_id", "method_version"]].dropna().drop_duplicates()
        methods = {(str(m), str(v)) for m, v in pairs.itertuples(index=False)}
    attrs = frame.attrs.get("provenance") or {}
    if not methods and attrs.get("method_ids"):
        wanted = set(attrs["method_ids"])
        methods = {(m.method_id, m.version) for m in METHODS.values() if m.method_id in wanted}
    if "sources" in frame.columns:
        sources = {part.strip() for value in frame["sources"].dropna()
                   for part in str(value).split(";") if part.strip()}  # fmt: skip
    if not sources and attrs.get("sources"):
        sources = {str(source) for source in attrs["sources"]}
    return Provenance(sorted(methods), sorted(sources), dict(query))


def with_provenance_columns(frame: pd.DataFrame, provenance: Provenance) -> pd.DataFrame:
    """``frame`` with the provenance fields it lacks as columns at the end (per-row method
    columns make the table-level ones redundant)."""
    fields = provenance.fields()
    if "method_id" in frame.columns:
        fields.pop("method_ids", None)
        fields.pop("method_versions", None)
    result = frame.copy()
    result.attrs = {}
    for name, value in fields.items():
        if name not in result.columns:
            result[name] = value
    return result


def parquet_bytes(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata.update({(METADATA_PREFIX + name).encode(): value.encode()
                     for name, value in provenance.fields().items()})  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def excel_bytes(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    fields = provenance.fields()
    sheet = pd.DataFrame({"field": list(fields), "value": list(fields.values())})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=DATA_SHEET, index=False)
        sheet.to_excel(writer, sheet_name=PROVENANCE_SHEET, index=False)
    return buffer.getvalue()


def download_response(
    frame: pd.DataFrame, stem: str, output: DownloadFormat, provenance: Provenance
) -> Response:
    """The table as a download named ``stem``.``output``, exactly as computed (fractions 0–1,
    values in USD), with its provenance."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "table"
    if output is DownloadFormat.csv:
        body = with_provenance_columns(frame, provenance).to_csv(index=False).encode("utf-8")
    elif output is DownloadFormat.parquet:
        body = parquet_bytes(frame, provenance)
    else:
        body = excel_bytes(frame, provenance)
    return Response(
        body,
        media_type=MEDIA_TYPES[output],
        headers={"Content-Disposition": f'attachment; filename="{safe}.{output.value}"'},
    )


def download_url(url: str, output: str) -> str:
    """A ``….csv`` page address as the same download in another format."""
    path, mark, query = url.partition("?")
    stem = path[: -len(".csv")] if path.endswith(".csv") else path
    return f"{stem}.{output}{mark}{query}"
