"""Where each publisher's release is downloaded from: ``sources.toml``, overridable.

The defaults ship in ``chainwatch/fetch/sources.toml``. A TOML file named by the environment
variable ``CHAINWATCH_FETCH_CONFIG`` replaces any key of any source;
``CHAINWATCH_FETCH_URL_<SOURCE>`` (``CHAINWATCH_FETCH_URL_PINK_SHEET``) replaces one URL
template; a request's own ``url`` and ``sha256`` win over both.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from chainwatch import schema
from chainwatch.errors import InputError

CONFIG_VARIABLE = "CHAINWATCH_FETCH_CONFIG"
URL_VARIABLE = "CHAINWATCH_FETCH_URL_{}"
PREPARE_STEPS = ("", "unzip", "workbook-to-csv")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class SourceSpec:
    """One publisher source as configured (templates not yet filled in)."""

    name: str
    title: str
    url: str
    file: str
    release: str
    ingest: str
    prepare: str
    checked: str
    members: str = ""
    note: str = ""
    columns: tuple[str, ...] = ()
    csv: str = ""
    items: Mapping[str, str] = field(default_factory=dict)
    sha256: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.prepare not in PREPARE_STEPS:
            raise InputError(f"[{self.name}]", f"unknown prepare step {self.prepare!r}", None,
                             "prepare")  # fmt: skip
        if self.prepare == "unzip" and not self.members:
            raise InputError(f"[{self.name}]", "an unzip step needs `members`", None, "members")
        if self.prepare == "workbook-to-csv" and not (self.columns and self.csv):
            raise InputError(f"[{self.name}]", "a workbook-to-csv step needs `columns` and "
                             "`csv`", None, "columns")  # fmt: skip
        for name, digest in self.sha256.items():
            if not _SHA256.fullmatch(digest.lower()):
                raise InputError(f"[{self.name}.sha256]", f"not a sha256 digest: {digest!r}",
                                 None, name)  # fmt: skip


@dataclass(frozen=True)
class FetchRequest:
    """What a user asks for: a source, and optionally HS revision, release, URL and checksum."""

    source: str
    hs: str | None = None
    release: str | None = None
    url: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        revisions = schema.table("product").column("hs_revision").allowed_values
        if self.hs is not None and self.hs.upper() not in revisions:
            raise InputError("--hs", f"{self.hs!r} is not one of {', '.join(revisions)}")
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256.lower()):
            raise InputError("--sha256", "expected 64 hexadecimal digits")
        if self.url is not None and not re.match(r"https?://", self.url):
            raise InputError("--url", f"not an http(s) URL: {self.url!r}")


@dataclass(frozen=True)
class ResolvedFetch:
    """A request with every template filled in: what to download, under which name, how to
    check it and where it goes next."""

    source: SourceSpec
    url: str
    file_name: str
    release: str
    expected_sha256: str | None
    csv_name: str = ""


def load_sources(environ: Mapping[str, str] | None = None) -> dict[str, SourceSpec]:
    """The configured sources: the shipped defaults, then the file ``CHAINWATCH_FETCH_CONFIG``
    names and the ``CHAINWATCH_FETCH_URL_*`` variables."""
    env = os.environ if environ is None else environ
    text = resources.files("chainwatch.fetch").joinpath("sources.toml").read_text("utf-8")
    tables: dict[str, dict[str, Any]] = tomllib.loads(text)
    override = env.get(CONFIG_VARIABLE, "").strip()
    if override:
        for name, table in _read_override(Path(override)).items():
            tables.setdefault(name, {}).update(table)
    sources = {}
    for name, table in tables.items():
        variable = URL_VARIABLE.format(name.upper().replace("-", "_"))
        if env.get(variable, "").strip():
            table = {**table, "url": env[variable].strip()}
        sources[name] = _spec(name, table)
    return sources


def _read_override(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        raise InputError(path, f"no such file (named by {CONFIG_VARIABLE})")
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, f"not a readable TOML file: {error}") from None
    if not all(isinstance(table, dict) for table in tables.values()):
        raise InputError(path, "expected one [table] per source")
    return tables


def _spec(name: str, table: Mapping[str, Any]) -> SourceSpec:
    required = ("title", "url", "file", "release", "ingest", "prepare", "checked")
    missing = [key for key in required if not isinstance(table.get(key), str)]
    if missing:
        raise InputError(f"[{name}]", f"missing or not text: {', '.join(missing)}")
    return SourceSpec(
        name=name,
        **{key: str(table[key]) for key in required},
        members=str(table.get("members", "")),
        note=str(table.get("note", "")),
        columns=tuple(str(column) for column in table.get("columns", ())),
        csv=str(table.get("csv", "")),
        items={str(k): str(v) for k, v in dict(table.get("items", {})).items()},
        sha256={str(k): str(v).lower() for k, v in dict(table.get("sha256", {})).items()},
    )


def resolve(request: FetchRequest, sources: Mapping[str, SourceSpec]) -> ResolvedFetch:
    """Fill in the templates of the requested source; a placeholder without a value is the
    user's to supply (``--hs``, ``--release``)."""
    if request.source not in sources:
        raise InputError(request.source, f"unknown source; one of {', '.join(sources)}")
    spec = sources[request.source]
    release = request.release or spec.release
    values = {"hs": (request.hs or "").upper(), "release": release}
    if _placeholders(spec.url) & {"item"} and request.url is None:
        if release not in spec.items:
            raise InputError("--release", f"no {spec.name} release {release!r} is configured "
                             f"(known: {', '.join(sorted(spec.items))}); give --url")  # fmt: skip
        values["item"] = spec.items[release]
    url = request.url or _fill(spec.url, values)
    file_name = _fill(spec.file, values)
    if Path(file_name).name != file_name or file_name.startswith("."):
        raise InputError(f"[{spec.name}]", f"`file` must be a plain file name: {file_name!r}")
    expected = request.sha256.lower() if request.sha256 else spec.sha256.get(file_name)
    csv_name = _fill(spec.csv, values) if spec.csv else ""
    return ResolvedFetch(spec, url, file_name, release, expected, csv_name)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _fill(template: str, values: Mapping[str, str]) -> str:
    for name in _placeholders(template):
        if not values.get(name):
            option = {"hs": "--hs", "release": "--release"}.get(name, name)
            raise InputError(option, f"this source needs {option} (template {template!r})")
    return template.format(**values)
