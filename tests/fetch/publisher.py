"""A SYNTHETIC publisher for the fetch tests: an HTTP server on 127.0.0.1 serving files in the
publishers' formats, with HTTP Range support, and able to break off mid-transfer, ignore
ranges, change a file's ETag or answer with an error. Nothing here touches the internet.

The files it serves are built by the functions below from the repository's fixtures: the
SYNTHETIC BACI HS22 release, and real rows (WGI, Pink Sheet, USGS samples) put into the
publisher's container (workbook, zip) by the test - the containers are SYNTHETIC.
"""

from __future__ import annotations

import csv
import hashlib
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl

FIXTURES = Path(__file__).parents[1] / "fixtures"
BACI_HS22 = FIXTURES / "baci_hs22_synthetic"
WGI_SAMPLE = FIXTURES / "wgi" / "wgidataset_2024update_sample.csv"
PINK_SAMPLE = FIXTURES / "pink_sheet" / "pink_sheet_monthly_prices_sample.csv"
PINK_METADATA = FIXTURES / "pink_sheet" / "pink_sheet_series_metadata.csv"
USGS = FIXTURES / "usgs_mcs"


@dataclass
class Route:
    """One file the server offers, and how it misbehaves."""

    body: bytes
    status: int | None = None
    """Answer every request with this status and no file (e.g. 500)."""
    break_after: int | None = None
    """Close the connection after this many body bytes, once (then serve normally)."""
    ignore_range: bool = False
    etag: str = ""

    def __post_init__(self) -> None:
        self.etag = self.etag or '"' + hashlib.sha1(self.body).hexdigest() + '"'


@dataclass
class PublisherServer:
    """The server, its routes and the requests it saw (path, Range, If-Range)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, **behaviour: object) -> str:
        self.routes[path] = Route(body, **behaviour)  # type: ignore[arg-type]
        return self.url(path)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (the CLI after a 404, on a loaded machine) is not a
        server error; the default prints a traceback into the stderr the tests read."""


def start(server: PublisherServer) -> tuple[ThreadingHTTPServer, threading.Thread]:
    handler = type("Handler", (_Handler,), {"publisher": server})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return httpd, thread


class _Handler(BaseHTTPRequestHandler):
    publisher: PublisherServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        wanted, condition = self.headers.get("Range"), self.headers.get("If-Range")
        self.publisher.requests.append((self.path, wanted, condition))
        route = self.publisher.routes.get(self.path)
        if route is None or route.status:
            self._plain(route.status if route and route.status else 404)
            return
        body, start = route.body, 0
        if wanted and not route.ignore_range and condition in (None, route.etag):
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", route.etag)
        self.end_headers()
        payload = body[start:]
        if route.break_after is not None:
            payload, route.break_after = payload[: route.break_after], None
            self.close_connection = True
        self.wfile.write(payload)
        self.wfile.flush()

    def _plain(self, status: int) -> None:
        text = f"SYNTHETIC publisher: status {status}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


# --- publisher-format files ---------------------------------------------------------------------


def baci_zip(target: Path) -> bytes:
    """The SYNTHETIC BACI HS22 release as CEPII ships it: one zip, files at its root."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(BACI_HS22.glob("*.csv")):
            archive.write(path, path.name)
        archive.writestr("Readme.txt", "SYNTHETIC release for the chainwatch tests\n")
    return target.read_bytes()


def usgs_zip(target: Path, names: list[str]) -> bytes:
    """Real USGS MCS world tables in a SYNTHETIC data-release zip (under world/, beside a
    metadata file the fetch must leave out)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(USGS / name, f"world/{name}")
        archive.writestr("world/Readme_meta.xml", "<metadata>SYNTHETIC</metadata>\n")
    return target.read_bytes()


def wgi_workbook(target: Path) -> bytes:
    """The real WGI sample rows in a SYNTHETIC workbook of the World Bank's long layout (one
    sheet after a notes sheet; numbers stored as numbers, ``..`` kept as text)."""
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["SYNTHETIC workbook holding real WGI rows (2024 update sample)"])
    sheet = book.create_sheet("wgidataset")
    with WGI_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle)):
            sheet.append(row if number == 0 else [_cell(value) for value in row])
    book.save(target)
    return target.read_bytes()


def _cell(value: str) -> object:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def pink_workbook(target: Path) -> bytes:
    """The real Pink Sheet sample in a SYNTHETIC copy of the workbook's "Monthly Prices" sheet:
    title rows, series names, units and codes, then months as 1960M01 with "…" for no price."""
    with PINK_METADATA.open(encoding="utf-8", newline="") as handle:
        metadata = {row["code"]: row for row in csv.DictReader(handle)}
    with PINK_SAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Monthly Prices"
    for line in ("World Bank Commodity Price Data (The Pink Sheet)",
                 "Monthly prices in nominal US dollars, 1960 to present",
                 "(monthly series are available only in nominal US dollar terms)",
                 "Updated on December 02, 2025"):  # fmt: skip
        sheet.append([line])
    sheet.append([])
    sheet.append([None, *(metadata[code]["name"] for code in header[1:])])
    sheet.append([None, *(metadata[code]["unit"] for code in header[1:])])
    sheet.append([None, *header[1:]])
    for row in rows:
        sheet.append([row[0].replace("-", "M"), *(float(c) if c else "…" for c in row[1:])])
    book.save(target)
    return target.read_bytes()


def small_workbook(target: Path) -> bytes:
    """A SYNTHETIC one-cell workbook (for a download-only source)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SYNTHETIC World Mining Data stand-in"])
    book.save(target)
    return target.read_bytes()
