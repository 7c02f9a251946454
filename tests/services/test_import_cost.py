"""Importing the pure maths is cheap: no Python API, web framework, database or NLP stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("chainwatch.python_api", "chainwatch.api", "chainwatch.services", "fastapi", "duckdb",
         "sqlalchemy", "spacy", "pyspark")  # fmt: skip
MAX_CHAINWATCH_MODULES = 10


def imported(statement: str) -> list[str]:
    """The modules a fresh interpreter imports for ``statement`` (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return [line.split("|")[-1].strip() for line in lines[1:]]  # first line: the header


def test_formulas_import_no_heavy_stack() -> None:
    modules = imported("import chainwatch.metrics.formulas")
    assert "chainwatch.metrics.formulas" in modules
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert not heavy, f"importing the formulas loads {heavy}"
    ours = [m for m in modules if m == "chainwatch" or m.startswith("chainwatch.")]
    assert len(ours) < MAX_CHAINWATCH_MODULES, ours


def loaded_after(statement: str, module: str) -> bool:
    """Whether a fresh interpreter holds ``module`` after running ``statement``."""
    check = f"import sys\n{statement}\nprint({module!r} in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return done.stdout.strip() == "True"


def test_the_package_loads_its_python_api_on_first_use() -> None:
    assert not loaded_after("import chainwatch; chainwatch.__version__", "chainwatch.python_api")
    assert loaded_after("import chainwatch; chainwatch.risk_table", "chainwatch.python_api")


def test_public_names_resolve() -> None:
    import chainwatch
    from chainwatch import python_api

    assert set(chainwatch.__all__) <= set(dir(chainwatch))
    for name in chainwatch.__all__:
        assert getattr(chainwatch, name) is getattr(python_api, name)
