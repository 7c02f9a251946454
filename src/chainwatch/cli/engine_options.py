"""The options that choose the engine: ``--engine``, ``--spark-master``, ``--lake``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chainwatch.store.engine import ENGINES, EngineSpec

EngineOption = Annotated[
    str,
    typer.Option("--engine", help=f"query engine: {' or '.join(ENGINES)} (spark needs "
                 "chainwatch[spark] and Java 17)"),
]  # fmt: skip
SparkMasterOption = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master URL (default local[2]; e.g. "
                 "spark://host:7077, k8s://https://host:443)"),
]  # fmt: skip
LakeOption = Annotated[
    Path | None,
    typer.Option("--lake", help="read the canonical tables from this Parquet lake "
                 "(chainwatch export lake DIR) instead of the store"),
]  # fmt: skip


def engine_spec(engine: str, spark_master: str | None, lake: Path | None) -> EngineSpec:
    """The spec the options name (EngineError for an unknown engine)."""
    return EngineSpec(kind=engine, spark_master=spark_master, lake=lake)
