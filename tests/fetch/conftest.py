"""Fixtures of the fetch tests: a SYNTHETIC publisher on 127.0.0.1, stores to fetch into."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainwatch.cli.main import main
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from tests.fetch.publisher import PublisherServer, start


@pytest.fixture
def publisher() -> Iterator[PublisherServer]:
    server = PublisherServer()
    httpd, thread = start(server)
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def bundled_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled data set in a store file, built once; tests work on copies."""
    store = Store(tmp_path_factory.mktemp("fetch-template") / "chainwatch.duckdb")
    load_bundle(store)
    return store.path


@pytest.fixture
def bundled_store(bundled_template: Path, tmp_path: Path) -> Store:
    target = tmp_path / "store" / "chainwatch.duckdb"
    target.parent.mkdir()
    shutil.copyfile(bundled_template, target)
    return Store(target)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``chainwatch ARGS`` in this process through ``main()`` (the error edge included)."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["chainwatch", *args])
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
