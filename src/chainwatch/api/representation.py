"""How tables go out: a page in the JSON envelope or the whole table as CSV, with a strong
ETag, Cache-Control and 304 for a current If-None-Match.

A CSV carries the provenance of its envelope (method ids and versions, data vintages, bloc,
chainwatch version) as extra columns where its rows carry none of their own.

Tables are computed once per (store version, query) and their rendered bodies once per page
and format; both live in result caches, so a repeated request costs a dictionary look-up.
"""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from chainwatch import __version__
from chainwatch.api.cache import ResultCache, entity_tag
from chainwatch.api.models import Page
from chainwatch.api.parameters import OutputFormat, TableOptions
from chainwatch.services.metrics import METHODS

CACHE_CONTROL = "public, max-age=60"
CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Table:
    """A computed list: validated rows, extra envelope fields, and the CSV rows if they are
    not simply the items flattened."""

    items: Sequence[BaseModel]
    extra: dict[str, Any] = field(default_factory=dict)
    csv: pd.DataFrame | None = None


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str
    filename: str | None = None


def rows(model: type[BaseModel], frame: pd.DataFrame) -> list[BaseModel]:
    """Validated rows from a service DataFrame, numbers at full precision (missing values,
    NaN and infinities become null)."""
    records = [{str(name): plain(value) for name, value in record.items()}
               for record in frame.to_dict(orient="records")]  # fmt: skip
    validated: list[BaseModel] = TypeAdapter(list[model]).validate_python(records)  # type: ignore[valid-type]
    return validated


def plain(value: Any) -> Any:
    """A DataFrame cell as a plain Python value for JSON."""
    if isinstance(value, np.ndarray | list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


async def send_table(
    request: Request,
    options: TableOptions,
    name: str,
    params: dict[str, Any],
    build: Callable[[], Table],
    page_model: type[Page[Any]],
) -> Response:
    """The response for a table endpoint; ``build`` runs in a worker thread on a cache miss."""
    bodies: ResultCache = request.app.state.bodies
    key = {**params, "page": options.page, "page_size": options.page_size,
           "format": options.output_format.value}  # fmt: skip
    rendered: Rendered | None = bodies.peek(name, key)
    if rendered is None:
        tables: ResultCache = request.app.state.cache

        def render() -> Rendered:
            table = tables.get(name, params, build)
            return render_table(table, page_model, options, name, params)

        rendered = await run_in_threadpool(bodies.get, name, key, render)
    return reply(request, rendered)


def render_table(
    table: Table,
    page_model: type[Page[Any]],
    options: TableOptions,
    name: str,
    params: dict[str, Any] | None = None,
) -> Rendered:
    """``params``: the query (its ``bloc`` goes into a CSV's provenance where the envelope
    names none)."""
    if options.output_format is OutputFormat.csv:
        frame = table.csv if table.csv is not None else flat_frame(table.items, page_model)
        asked = {"bloc": params["bloc"]} if params and params.get("bloc") else {}
        text = with_provenance(frame, {**asked, **table.extra}).to_csv(index=False)
        body = text.encode("utf-8")
        filename = "chainwatch-" + name.strip("/").replace("/", "-") + ".csv"
        return Rendered(body, CSV_MEDIA_TYPE, entity_tag(body), filename)
    start = (options.page - 1) * options.page_size
    envelope = page_model(
        items=list(table.items[start : start + options.page_size]),
        page=options.page,
        page_size=options.page_size,
        total=len(table.items),
        **table.extra,
    )
    body = envelope.model_dump_json().encode("utf-8")
    return Rendered(body, JSON_MEDIA_TYPE, entity_tag(body))


def flat_frame(items: Sequence[BaseModel], page_model: type[Page[Any]]) -> pd.DataFrame:
    """Items as CSV rows: lists joined with ';', nested objects as JSON text."""
    (row_model,) = typing.get_args(page_model.model_fields["items"].annotation)
    records = [{name: _flat(value) for name, value in item.model_dump(mode="json").items()}
               for item in items]  # fmt: skip
    return pd.DataFrame(records, columns=list(row_model.model_fields))


def provenance_fields(extra: dict[str, Any]) -> dict[str, str]:
    """The provenance a table carries in its envelope (``method_ids`` or ``method``,
    ``sources``, ``bloc``) as CSV fields: method ids and versions as aligned '; '-joined
    lists (versions from the method registry), the data vintages, the bloc, and the
    chainwatch version. Empty where the envelope names no method."""
    ids = [str(method) for method in extra.get("method_ids") or []]
    if ids:
        known = {(m.method_id, m.version) for m in METHODS.values() if m.method_id in ids}
        named = {method for method, _ in known}
        pairs = sorted(known | {(method, "") for method in ids if method not in named})
    elif extra.get("method"):
        pairs = [(str(extra["method"]), "")]
    else:
        return {}
    fields = {"chainwatch_version": __version__,
              "method_ids": "; ".join(method for method, _ in pairs),
              "method_versions": "; ".join(version for _, version in pairs)}  # fmt: skip
    sources = extra.get("sources")
    if isinstance(sources, dict):
        fields["sources"] = "; ".join(f"{table}: {vintage}" for table, vintage in sources.items())
    elif sources:
        fields["sources"] = "; ".join(str(source) for source in sources)
    if isinstance(extra.get("bloc"), str):
        fields["bloc"] = extra["bloc"]
    return fields


def with_provenance(frame: pd.DataFrame, extra: dict[str, Any]) -> pd.DataFrame:
    """CSV rows with the table's provenance as extra columns at the end, where the rows do not
    carry their own (``method_id`` per row: the rows are left as they are)."""
    if "method_id" in frame.columns:
        return frame
    fields = {name: value for name, value in provenance_fields(extra).items()
              if name not in frame.columns}  # fmt: skip
    return frame.assign(**fields) if fields else frame


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(json.dumps(v) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match against our tag (weak comparison, as RFC 9110 prescribes for it)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def reply(request: Request, rendered: Rendered) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    if rendered.filename:
        headers["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)
