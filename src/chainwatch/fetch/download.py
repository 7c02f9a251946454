"""Resumable HTTP downloads: streamed to disk, checked against a sha256, never half-finished.

A download writes ``NAME.part`` (with ``NAME.part.json`` holding the URL and the server's
validators) and renames it to ``NAME`` only once it is complete and its checksum is the one
expected; ``NAME.sha256`` then records the digest (``sha256sum`` format). A transfer that breaks
off keeps the ``.part`` file: the next run asks for the rest with an HTTP ``Range`` request
(``If-Range`` makes the server send the whole file again if it changed meanwhile). A checksum
mismatch deletes the download. Memory stays bounded: the body streams in 1 MiB chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chainwatch import __version__
from chainwatch.errors import FetchError

CHUNK_BYTES = 1 << 20
USER_AGENT = f"chainwatch/{__version__} (data fetch)"
Progress = Callable[[int, int | None], None]
"""(bytes on disk so far, total bytes or None when the server does not say)."""
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


@dataclass(frozen=True)
class DownloadResult:
    """A complete, checked file."""

    path: Path
    sha256: str
    size_bytes: int
    resumed_from: int
    """Bytes already on disk from an earlier, interrupted run (0: downloaded whole)."""
    reused: bool
    """True when the file was already complete on disk and nothing was downloaded."""


def download(
    url: str,
    target: Path,
    expected_sha256: str | None = None,
    timeout_s: float = 60.0,
    force: bool = False,
    progress: Progress | None = None,
) -> DownloadResult:
    """Download ``url`` to ``target`` (resuming ``target.part``), checked against a sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not force:
        return _reuse(target, expected_sha256, progress)
    part = target.with_name(target.name + ".part")
    with httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
    ) as client:
        resumed_from = _transfer(client, url, part, progress)
    digest = _sha256(part)
    if expected_sha256 and digest != expected_sha256.lower():
        _discard(part)
        raise FetchError(
            f"{url}: checksum mismatch (sha256 {digest}, expected {expected_sha256.lower()}); "
            "the download was deleted and nothing was ingested"
        )
    os.replace(part, target)
    _validators(part).unlink(missing_ok=True)
    _record_digest(target, digest)
    return DownloadResult(target, digest, target.stat().st_size, resumed_from, reused=False)


def _reuse(target: Path, expected: str | None, progress: Progress | None) -> DownloadResult:
    digest = _sha256(target)
    if expected and digest != expected.lower():
        raise FetchError(
            f"{target}: the file already downloaded has sha256 {digest}, not the expected "
            f"{expected.lower()}; nothing was ingested (fetch again with --force)"
        )
    _record_digest(target, digest)
    size = target.stat().st_size
    if progress:
        progress(size, size)
    return DownloadResult(target, digest, size, resumed_from=0, reused=True)


def _transfer(
    client: httpx.Client, url: str, part: Path, progress: Progress | None, retried: bool = False
) -> int:
    """Bring ``part`` to the complete file; returns the bytes that were already there."""
    offset = _resumable_offset(url, part)
    try:
        with client.stream("GET", url, headers=_range_headers(part, offset)) as response:
            status = response.status_code
            if status == 416 and offset and _total(response) == offset:
                return offset  # the part file already holds every byte
            restart = status in (206, 416) and offset and not _continues_at(response, offset)
            if not restart:
                if status >= 400:
                    raise FetchError(_status_message(url, response))
                if status != 206:
                    offset = 0  # the whole file came (no range support, or it changed)
                _write_validators(part, url, response)
                _write_body(response, part, offset, _total(response), progress)
                return offset
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise FetchError(f"{url}: cannot connect ({_reason(error)})") from None
    except httpx.TimeoutException:
        raise FetchError(_broken(url, part, "the server stopped answering")) from None
    except httpx.TransportError as error:
        raise FetchError(_broken(url, part, _reason(error))) from None
    if retried:
        raise FetchError(f"{url}: the server answers a range that was not asked for")
    _discard(part)  # the part cannot be continued: start again from the first byte
    return _transfer(client, url, part, progress, retried=True)


def _resumable_offset(url: str, part: Path) -> int:
    """Bytes of ``part`` that a new request can continue from (0 when it belongs elsewhere)."""
    if not part.exists():
        return 0
    recorded = _read_validators(part)
    if recorded.get("url") != url:
        _discard(part)
        return 0
    return part.stat().st_size


def _range_headers(part: Path, offset: int) -> dict[str, str]:
    if not offset:
        return {}
    headers = {"Range": f"bytes={offset}-"}
    recorded = _read_validators(part)
    validator = recorded.get("etag") or recorded.get("last_modified")
    if validator and not str(validator).startswith("W/"):
        headers["If-Range"] = str(validator)
    return headers


def _write_body(
    response: httpx.Response, part: Path, offset: int, total: int | None, progress: Progress | None
) -> None:
    mode = "ab" if offset else "wb"
    done = offset
    with part.open(mode) as sink:
        if progress:
            progress(done, total)
        for chunk in response.iter_raw():  # as the socket delivers (no re-buffering)
            sink.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        sink.flush()
        os.fsync(sink.fileno())
    if total is not None and done != total:
        raise httpx.ReadError(f"the body ended after {done:,} of {total:,} bytes")


def _total(response: httpx.Response) -> int | None:
    """The full size of the resource, from Content-Range (206, 416) or Content-Length (200)."""
    found = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if found and found.group(3) != "*":
        return int(found.group(3))
    length = response.headers.get("content-length", "")
    if response.status_code == 200 and length.isdigit():
        return int(length)
    return None


def _continues_at(response: httpx.Response, offset: int) -> bool:
    found = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    return bool(found and found.group(1) is not None and int(found.group(1)) == offset)


def _status_message(url: str, response: httpx.Response) -> str:
    status = response.status_code
    reason = response.reason_phrase or "error"
    if status == 404:
        return (f"{url}: HTTP 404 {reason}: no such file at the publisher (check --hs and "
                "--release, or give the current address with --url)")  # fmt: skip
    if status >= 500:
        return f"{url}: HTTP {status} {reason}: the server failed; try again later"
    return f"{url}: HTTP {status} {reason}"


def _broken(url: str, part: Path, reason: str) -> str:
    size = part.stat().st_size if part.exists() else 0
    return (f"{url}: the transfer broke off after {size:,} bytes ({reason}); run the same "
            "command again to resume")  # fmt: skip


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def _validators(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _write_validators(part: Path, url: str, response: httpx.Response) -> None:
    record = {
        "url": url,
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
    }
    _validators(part).write_text(json.dumps(record), encoding="utf-8")


def _read_validators(part: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        record = json.loads(_validators(part).read_text(encoding="utf-8"))
        if isinstance(record, dict):
            return record
    return {}


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _validators(part).unlink(missing_ok=True)


def _record_digest(target: Path, digest: str) -> None:
    target.with_name(target.name + ".sha256").write_text(
        f"{digest}  {target.name}\n", encoding="utf-8"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk
