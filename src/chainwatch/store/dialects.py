"""One SQL definition, every engine: translation through SQLGlot, reviewed overrides, binding.

Definitions are written in DuckDB's dialect using constructs SQLGlot translates (ADR 0004).
Where the translation is not good enough for an engine, the definition's module registers a
reviewed override for that dialect (:func:`register_override`), the way dbt dispatches
``spark__macro`` before ``default__macro``: the default text everywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from chainwatch.errors import EngineError

SOURCE_DIALECT = "duckdb"
_OVERRIDES: dict[tuple[str, str], str] = {}


def register_override(definition: str, dialect: str, text: str) -> None:
    """Use ``text`` for ``definition`` on ``dialect`` instead of the SQLGlot translation."""
    _OVERRIDES[(definition, dialect)] = text
    _translate.cache_clear()


def overridden(definition: str, dialect: str) -> bool:
    return (definition, dialect) in _OVERRIDES


def for_engine(definition: str, dialect: str, pretty: bool = False) -> str:
    """The definition in ``dialect``: the text itself on DuckDB, else the reviewed override or
    SQLGlot's translation."""
    if dialect == SOURCE_DIALECT and not pretty:
        return definition
    return _translate(definition, dialect, pretty)


@lru_cache(maxsize=512)
def _translate(definition: str, dialect: str, pretty: bool) -> str:
    override = _OVERRIDES.get((definition, dialect))
    if override is not None:
        return override
    return str(sqlglot.transpile(definition, read=SOURCE_DIALECT, write=dialect, pretty=pretty)[0])


def literal(value: Any) -> exp.Expression:
    """A Python value as an SQL literal (lists become a parenthesised tuple for ``IN``)."""
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        if not items:
            return exp.Tuple(expressions=[exp.Null()])
        return exp.Tuple(expressions=[literal(item) for item in items])
    if isinstance(value, dt.date | dt.datetime):
        return exp.Cast(
            this=exp.Literal.string(value.isoformat()[:10]), to=exp.DataType.build("date")
        )
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        converted: exp.Expression = exp.convert(value)  # type: ignore[assignment]
        return converted
    raise EngineError(f"cannot bind a {type(value).__name__} as an SQL value")


def bind(text: str, params: Mapping[str, Any] | None, dialect: str) -> str:
    """Replace ``:name`` placeholders by literals of ``params`` (quoted by SQLGlot)."""
    if not params:
        return text
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError as error:
        raise EngineError(f"a query chainwatch built does not parse: {error}") from error
    names = {str(node.name) for node in tree.find_all(exp.Placeholder)}
    missing = names - set(params)
    if missing:
        raise EngineError(f"no value for query parameter(s) {', '.join(sorted(missing))}")
    values = {name: literal(params[name]) for name in names}
    return str(exp.replace_placeholders(tree, **values).sql(dialect=dialect))
