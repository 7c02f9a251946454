"""Write the CLI's and the API's outputs on the bundled data to a directory, one file each.

Used to compare behaviour before and after a redesign:

    .venv/bin/python scripts/snapshot_outputs.py /tmp/before   # on the old commit
    .venv/bin/python scripts/snapshot_outputs.py /tmp/after    # on the new one
    diff -r /tmp/before /tmp/after

Every output is produced from a fresh store built from the bundled data set; volatile fields
(timestamps of generation, store paths) are masked so that only the data differ.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

CLI_COMMANDS = {
    "risk_allied_2023": ["risk", "--as", "ALLIED", "--year", "2023", "--format", "json"],
    "risk_eu27_2023": ["risk", "--as", "EU27", "--year", "2023", "--format", "json"],
    "risk_can_2019": ["risk", "--as", "CAN", "--year", "2019", "--format", "csv"],
    "risk_usa_2014": ["risk", "--as", "USA", "--year", "2014", "--format", "json"],
    "metrics_can_cobalt": ["metrics", "--as", "CAN", "--material", "cobalt", "--year", "2023",
                           "--format", "json"],  # fmt: skip
    "metrics_eu_lithium": ["metrics", "--as", "EU27", "--material", "lithium", "--year", "2019",
                           "--year", "2023", "--wide", "--format", "csv"],  # fmt: skip
    "metrics_usa_hs6": ["metrics", "--as", "USA", "--hs6", "260400", "--year", "2014",
                        "--format", "json"],  # fmt: skip
    "metrics_gbr_nato": ["metrics", "--as", "GBR", "--material", "graphite", "--year", "2022",
                         "--bloc", "NATO", "--format", "json"],  # fmt: skip
    "watch_run_2014_can": ["watch", "run", "--year", "2014", "--as", "CAN", "--format", "json"],
    "watch_run_2023": ["watch", "run", "--year", "2023", "--format", "json"],
    "watch_backtest": ["watch", "backtest", "--from", "2000", "--to", "2024", "--format", "json"],
    "sources": ["sources", "--format", "json"],
}

API_PATHS = [
    "/api/v1/risk?perspective=ALLIED&year=2023&page_size=500",
    "/api/v1/risk?perspective=GBR&year=2020&page_size=500",
    "/api/v1/metrics?perspective=CAN&material=nickel&year=2022&page_size=1000",
    "/api/v1/metrics?perspective=EU27&material=cobalt&year=2023&wide=true&page_size=1000",
    "/api/v1/series/imports?perspective=USA&material=graphite&page_size=2000",
    "/api/v1/series/production?material=cobalt&stage=mine&page_size=500",
    "/api/v1/series/concentration?perspective=EU27&material=lithium&page_size=500",
    "/api/v1/alerts?year=2014&perspective=CAN&page_size=500",
    "/api/v1/alerts/backtest?page_size=500",
    "/api/v1/materials?page_size=500",
    "/api/v1/perspectives?page_size=500",
    "/api/v1/groups?page_size=500",
    "/api/v1/sources?page_size=500",
    "/api/v1/products?material=nickel&page_size=500",
]

PAGES = ["/", "/materials", "/material/cobalt?perspective=EU27&year=2022", "/country/CHN",
         "/alerts?year=2014", "/sources", "/risk.csv?perspective=CAN&year=2021"]  # fmt: skip

VOLATILE = [
    (re.compile(r'"generated(_at)?": ?"[^"]*"'), '"generated": "-"'),
    (re.compile(r"/tmp/[^\s\"'<]*"), "/tmp/-"),
    (re.compile(r'"fetched_at": ?"[^"]*"'), '"fetched_at": "-"'),
]


def _mask(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def main(target: Path) -> None:
    import os

    target.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="chainwatch-snapshot-"))
    store_path = work / "store.duckdb"
    os.environ["CHAINWATCH_STORE"] = str(store_path)
    from chainwatch.api.app import create_app
    from chainwatch.cli.main import app as cli
    from chainwatch.python_api import build_store

    build_store(store_path)
    runner = CliRunner()
    for name, arguments in CLI_COMMANDS.items():
        result = runner.invoke(cli, [*arguments, "--store", str(store_path)])
        (target / f"cli_{name}.txt").write_text(
            f"exit {result.exit_code}\n" + _mask(result.output), encoding="utf-8"
        )
    client = TestClient(create_app(store_path))
    for path in API_PATHS + PAGES:
        response = client.get(path)
        body = _mask(response.text)
        (target / f"http_{_name(path)}.txt").write_text(
            f"status {response.status_code}\n{body}", encoding="utf-8"
        )
    print(f"wrote {len(CLI_COMMANDS) + len(API_PATHS) + len(PAGES)} outputs to {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
