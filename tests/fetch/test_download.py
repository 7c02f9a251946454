"""Resumable, checked downloads against the SYNTHETIC publisher on 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from chainwatch.errors import FetchError
from chainwatch.fetch.download import download
from tests.fetch.publisher import PublisherServer

BODY = bytes(range(256)) * 4096  # SYNTHETIC 1 MiB payload
DIGEST = hashlib.sha256(BODY).hexdigest()


def test_whole_file_streams_to_disk_with_its_digest_recorded(
    publisher: PublisherServer, tmp_path: Path
) -> None:
    url = publisher.serve("/file.bin", BODY)
    seen: list[tuple[int, int | None]] = []
    result = download(url, tmp_path / "file.bin", DIGEST, progress=lambda d, t: seen.append((d, t)))
    assert result.path.read_bytes() == BODY and result.sha256 == DIGEST
    assert (result.resumed_from, result.reused) == (0, False)
    assert (tmp_path / "file.bin.sha256").read_text() == f"{DIGEST}  file.bin\n"
    assert not list(tmp_path.glob("*.part*"))
    assert seen[0] == (0, len(BODY)) and seen[-1] == (len(BODY), len(BODY))


def test_broken_transfer_keeps_the_part_and_resumes_with_a_range(
    publisher: PublisherServer, tmp_path: Path
) -> None:
    url = publisher.serve("/file.bin", BODY, break_after=300_000)
    target = tmp_path / "file.bin"
    with pytest.raises(FetchError, match=r"broke off after 300,000 bytes.*run the same command"):
        download(url, target, DIGEST)
    assert (tmp_path / "file.bin.part").stat().st_size == 300_000 and not target.exists()
    result = download(url, target, DIGEST)
    assert result.resumed_from == 300_000 and target.read_bytes() == BODY
    etag = publisher.routes["/file.bin"].etag
    assert publisher.requests[-1] == ("/file.bin", "bytes=300000-", etag)


def test_server_ignoring_the_range_restarts_from_the_first_byte(
    publisher: PublisherServer, tmp_path: Path
) -> None:
    url = publisher.serve("/file.bin", BODY, break_after=100_000, ignore_range=True)
    with pytest.raises(FetchError):
        download(url, tmp_path / "file.bin", DIGEST)
    result = download(url, tmp_path / "file.bin", DIGEST)
    assert result.resumed_from == 0 and result.path.read_bytes() == BODY


def test_file_changed_at_the_publisher_is_downloaded_again_whole(
    publisher: PublisherServer, tmp_path: Path
) -> None:
    url = publisher.serve("/file.bin", BODY, break_after=100_000)
    with pytest.raises(FetchError):
        download(url, tmp_path / "file.bin")
    changed = BODY[::-1]  # SYNTHETIC new version: If-Range no longer matches its ETag
    publisher.serve("/file.bin", changed)
    result = download(url, tmp_path / "file.bin")
    assert result.resumed_from == 0 and result.path.read_bytes() == changed


def test_checksum_mismatch_deletes_the_download(publisher: PublisherServer, tmp_path: Path) -> None:
    url = publisher.serve("/file.bin", BODY)
    wrong = "0" * 64
    with pytest.raises(FetchError, match=r"checksum mismatch.*deleted and nothing was ingested"):
        download(url, tmp_path / "file.bin", wrong)
    assert list(tmp_path.iterdir()) == []


def test_complete_file_is_reused_and_checked_again(
    publisher: PublisherServer, tmp_path: Path
) -> None:
    url = publisher.serve("/file.bin", BODY)
    download(url, tmp_path / "file.bin")
    again = download(url, tmp_path / "file.bin", DIGEST)
    assert again.reused and len(publisher.requests) == 1
    with pytest.raises(FetchError, match="already downloaded has sha256"):
        download(url, tmp_path / "file.bin", "f" * 64)
    forced = download(url, tmp_path / "file.bin", DIGEST, force=True)
    assert not forced.reused and len(publisher.requests) == 2


@pytest.mark.parametrize(
    ("status", "says"),
    [(500, "HTTP 500 Internal Server Error: the server failed"),
     (404, "HTTP 404 Not Found: no such file at the publisher"),
     (403, "HTTP 403 Forbidden")],
)  # fmt: skip
def test_error_status_is_one_line_and_leaves_nothing(
    publisher: PublisherServer, tmp_path: Path, status: int, says: str
) -> None:
    url = publisher.serve("/file.bin", BODY, status=status)
    with pytest.raises(FetchError) as raised:
        download(url, tmp_path / "file.bin")
    assert says in str(raised.value) and "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=r"cannot connect") as raised:
        download(f"http://127.0.0.1:{port}/file.bin", tmp_path / "file.bin", timeout_s=2)
    assert "\n" not in str(raised.value)


def test_part_of_another_url_is_not_resumed(publisher: PublisherServer, tmp_path: Path) -> None:
    first = publisher.serve("/old.bin", BODY, break_after=50_000)
    with pytest.raises(FetchError):
        download(first, tmp_path / "file.bin")
    other = publisher.serve("/new.bin", BODY[::-1])
    result = download(other, tmp_path / "file.bin")
    assert result.resumed_from == 0 and result.path.read_bytes() == BODY[::-1]
