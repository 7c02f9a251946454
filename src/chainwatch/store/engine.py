"""The engine seam: register a relation, run a query, get Arrow back, know the dialect.

Everything above ``store/`` computes through an :class:`Engine`; none of it holds a database
connection. Two implementations:

* :class:`DuckDBEngine` (default) over the store file, or over a Parquet lake
  (``chainwatch export lake``), one private connection per engine, so relations registered for
  one request are never seen by another;
* :class:`SparkEngine` over Apache Spark (PySpark; ``local[N]`` here, a cluster URL in
  production), reading the canonical tables from a lake, each engine in its own Spark session
  (``SparkSession.newSession``: temporary views are private to it).

Queries are written once in DuckDB's dialect (ADR 0004, ADR 0007). :meth:`Engine.run` binds
named parameters (``:name``) as SQL literals through SQLGlot and, on Spark, translates the text
with :func:`chainwatch.store.dialects.for_engine` (a reviewed override where one exists).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from chainwatch.errors import EngineError, StoreError
from chainwatch.store.dialects import bind, for_engine
from chainwatch.store.duckdb_store import Store
from chainwatch.store.lake import lake_tables, read_lake_manifest, sql_path, write_lake

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
DRIVER_MEMORY_VARIABLE = "CHAINWATCH_SPARK_DRIVER_MEMORY"
DEFAULT_DRIVER_MEMORY = "4g"
"""Driver memory of a local-mode session (a cluster's comes from spark-submit)."""
Relation = pa.Table | pd.DataFrame


@dataclass(frozen=True)
class EngineSpec:
    """Which engine a computation runs on, and what it reads (the CLI's ``--engine``,
    ``--spark-master`` and ``--lake``). The default is DuckDB over the store file."""

    kind: str = "duckdb"
    spark_master: str | None = None
    lake: Path | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise EngineError(f"unknown engine {self.kind!r}: use {' or '.join(ENGINES)}")
        if self.spark_master is not None and self.kind != "spark":
            raise EngineError("--spark-master needs --engine spark")

    @property
    def key(self) -> str:
        """A cache-key part: results are cached per engine and what it reads."""
        return f"{self.kind}:{self.spark_master or ''}:{self.lake or ''}"


DUCKDB = EngineSpec()


class Engine(ABC):
    """A query engine with the canonical tables (under their schema names) in reach."""

    dialect: str
    """SQLGlot dialect of the engine's SQL ("duckdb", "spark")."""

    @abstractmethod
    def register(self, name: str, relation: Relation) -> None:
        """Make ``relation`` readable as ``name`` for later queries of this engine only."""

    @abstractmethod
    def _execute(self, text: str) -> pa.Table:
        """Run SQL already in this engine's dialect."""

    def run(self, query: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run a query written in DuckDB's dialect; ``:name`` placeholders take ``params``."""
        text = for_engine(query, self.dialect)
        if params:
            text = bind(text, params, self.dialect)
        return self._execute(text)

    @abstractmethod
    def _statement(self, text: str) -> None:
        """Run a statement (DDL) already in this engine's dialect."""

    def view(self, name: str, query: str, params: Mapping[str, Any] | None = None) -> None:
        """Define ``name`` as a (lazy) view of ``query`` for later queries of this engine."""
        text = for_engine(query, self.dialect)
        if params:
            text = bind(text, params, self.dialect)
        self._statement(f"CREATE OR REPLACE TEMP VIEW {name} AS {text}")

    def frame(self, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """:meth:`run` as a pandas DataFrame (dates as datetime64)."""
        return arrow_to_frame(self.run(query, params))

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """:meth:`run` as a list of row tuples (for small answers)."""
        table = self.run(query, params)
        columns = [column.to_pylist() for column in table.columns]
        return list(zip(*columns, strict=True)) if columns else []

    def close(self) -> None:  # noqa: B027 - engines without resources need not override
        """Release what the engine holds."""


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas(date_as_object=False)
    return frame


class DuckDBEngine(Engine):
    """DuckDB over the store file (read-only) or over a Parquet lake directory."""

    dialect = "duckdb"

    def __init__(self, store: Store | None = None, lake: Path | None = None) -> None:
        import duckdb

        if (store is None) == (lake is None):
            raise EngineError("a DuckDB engine reads a store or a lake, one of them")
        if store is not None:
            self.connection = store.connect()
        else:
            assert lake is not None
            self.connection = duckdb.connect()
            for name, (pattern, partitions) in lake_tables(lake).items():
                types = ", ".join(f"'{key}': '{value}'" for key, value in partitions.items())
                hive = f", hive_partitioning = true, hive_types = {{{types}}}" if types else ""
                self.connection.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet({sql_path(pattern)}{hive})"
                )
        self._registered: set[str] = set()

    def register(self, name: str, relation: Relation) -> None:
        frame_name = f"{name}__relation"
        self.connection.register(frame_name, relation)
        try:
            self.connection.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {frame_name}"
            )
        finally:
            self.connection.unregister(frame_name)
        self._registered.add(name)

    def _statement(self, text: str) -> None:
        self.connection.execute(text)

    def _execute(self, text: str) -> pa.Table:
        table: pa.Table = self.connection.sql(text).to_arrow_table()
        return table

    def frame(self, query: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        text = bind(query, params, self.dialect) if params else query
        frame: pd.DataFrame = self.connection.execute(text).df()
        return frame

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        text = bind(query, params, self.dialect) if params else query
        return list(self.connection.execute(text).fetchall())

    def close(self) -> None:
        self.connection.close()


_SPARK_LOCK = threading.Lock()
_SPARK_ROOTS: dict[str, Any] = {}


def spark_session(master: str) -> Any:
    """The process's Spark session for ``master`` (started once; Java from the system)."""
    with _SPARK_LOCK:
        if master in _SPARK_ROOTS:
            return _SPARK_ROOTS[master]
        try:
            from pyspark.sql import SparkSession
        except ImportError as error:
            raise EngineError(
                "the Spark engine needs PySpark: pip install 'chainwatch[spark]'"
            ) from error
        if shutil.which("java") is None and not _java_home():
            raise EngineError("the Spark engine needs Java 17 or newer: none found on PATH")
        builder = (
            SparkSession.builder.master(master)
            .appName("chainwatch")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.enabled", "false")
        )
        if master.startswith("local"):
            memory = os.environ.get(DRIVER_MEMORY_VARIABLE, DEFAULT_DRIVER_MEMORY)
            builder = builder.config("spark.driver.memory", memory)
        try:
            session = builder.getOrCreate()
        except Exception as error:  # Java gateway failures come as bare Exceptions
            raise EngineError(f"Spark did not start ({master}): {error}") from error
        session.sparkContext.setLogLevel("ERROR")
        _SPARK_ROOTS[master] = session
        return session


def _java_home() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home) and Path(str(home), "bin", "java").exists()


class SparkEngine(Engine):
    """Spark SQL over a lake; each engine has its own session (private temporary views)."""

    dialect = "spark"

    def __init__(self, lake: Path, master: str | None = None) -> None:
        self.session = spark_session(master or DEFAULT_SPARK_MASTER).newSession()
        manifest = read_lake_manifest(lake)
        for name, (_pattern, _partitions) in lake_tables(lake).items():
            reader = self.session.read
            ddl = manifest.get("spark_schema", {}).get(name)
            if ddl:
                reader = reader.schema(ddl)
            reader.parquet(str(lake / name)).createOrReplaceTempView(name)

    def register(self, name: str, relation: Relation) -> None:
        table = (
            relation
            if isinstance(relation, pa.Table)
            else pa.Table.from_pandas(relation, preserve_index=False)
        )
        if table.num_rows == 0:
            self.session.createDataFrame([], _spark_schema(table.schema)).createOrReplaceTempView(
                name
            )
            return
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def _execute(self, text: str) -> pa.Table:
        table: pa.Table = self.session.sql(text).toArrow()
        return table

    def _statement(self, text: str) -> None:
        self.session.sql(text)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


@contextlib.contextmanager
def open_engine(store: Store, spec: EngineSpec = DUCKDB) -> Iterator[Engine]:
    """An engine for one computation, closed afterwards.

    DuckDB reads the store file (or ``spec.lake``); Spark reads ``spec.lake``, or a lake
    written from the store into a temporary directory for this engine.
    """
    if spec.kind == "duckdb":
        engine: Engine = DuckDBEngine(store=None if spec.lake else store, lake=spec.lake)
        try:
            yield engine
        finally:
            engine.close()
        return
    with contextlib.ExitStack() as stack:
        lake = spec.lake
        if lake is None:
            if not store.exists():
                raise StoreError(
                    f"no store at {store.path}: run `chainwatch init` to build it from the "
                    "bundled data"
                )
            lake = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chainwatch-")))
            write_lake(store, lake)
        engine = SparkEngine(lake, spec.spark_master)
        try:
            yield engine
        finally:
            engine.close()
