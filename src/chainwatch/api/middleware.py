"""What every response carries and every request must show: security headers and a Host check.

Both are plain ASGI middleware (no per-request Python objects beyond a header list), so a
cached answer stays cheap.

* **Security headers** on every response (pages, API, static files, errors):
  ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  no-referrer``, ``Cross-Origin-Opener-Policy: same-origin`` and a Content-Security-Policy the
  pages work under: scripts from this server only (the pages have no inline script; their
  data block is ``type="application/json"``, which is not executed), plus the one inline script
  of the API docs page by its hash; inline styles allowed (plotly.js sets them); images from
  this server, ``data:`` and ``blob:`` (chart downloads); no plugins, no framing, forms and
  ``fetch`` to this server only.
* **Cached answers before routing** (:class:`CachedResponses`): a GET under ``/api/v1`` whose
  200 answer carried an ``ETag`` and ``Cache-Control: public`` is kept (per store version, by
  path and query string, bounded by bytes) and answered again, or 304 for a current
  ``If-None-Match``, without routing or validating the request again: a cached request costs
  tens of microseconds instead of the framework's few hundred. Answers that depend on more
  than the store (the partnership tracker's texts) are never kept.
* **Host check**: a request whose ``Host`` is not an allowed name is answered 400 before it
  reaches a route (DNS rebinding: a page on another site that resolves its name to 127.0.0.1
  must not read this server). Allowed by default: ``localhost``, ``127.0.0.1``, ``::1`` and
  the address the server binds (``CHAINWATCH_ALLOWED_HOSTS``, comma-separated, adds names).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainwatch.api.representation import etag_matches
from chainwatch.errors import StoreError
from chainwatch.services.cache import ResultCache

ALLOWED_HOSTS_ENV = "CHAINWATCH_ALLOWED_HOSTS"
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def content_security_policy(inline_scripts: Iterable[str] = ()) -> str:
    """The policy, allowing the given inline scripts by their SHA-256 hash."""
    hashes = " ".join(f"'sha256-{script_hash(script)}'" for script in inline_scripts)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {hashes}".strip(),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def script_hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def inline_scripts(html: str) -> list[str]:
    """The bodies of the executable inline scripts of a page (JSON data blocks left out)."""
    return [match.group(1) for match in INLINE_SCRIPT.finditer(html)
            if "application/json" not in match.group(0).split(">", 1)[0]]  # fmt: skip


def security_headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"content-security-policy", policy.encode("ascii")),
    ]


class SecurityHeaders:
    """Add the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers = security_headers(policy)

    @staticmethod
    def header_map(policy: str) -> dict[str, str]:
        """The headers as a mapping (for a response made outside the middleware)."""
        return {name.decode(): value.decode() for name, value in security_headers(policy)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                missing = [item for item in self.headers if item[0] not in present]
                message["headers"] = [*message.get("headers", []), *missing]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_hosts(bind: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """The default names, the bind address (unless it is every interface), names from
    ``CHAINWATCH_ALLOWED_HOSTS`` and ``extra``; lower case, IPv6 without brackets."""
    configured = os.environ.get(ALLOWED_HOSTS_ENV, "").split(",")
    names = [*DEFAULT_HOSTS, *configured, *extra]
    if bind is not None and bind not in ANY_ADDRESS:
        names.append(bind)
    return frozenset(name.strip().strip("[]").lower() for name in names if name.strip())


def host_name(header: str) -> str:
    """The name of a Host header without its port: ``[::1]:8000`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


CACHED_PREFIX = "/api/v1/"
NOT_CACHED = ("/api/v1/partnerships", "/api/v1/texts")
"""Answers that depend on the tracker's texts as well as the store."""


@dataclass(frozen=True)
class CachedResponse:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str


class CachedResponses:
    """Answer repeated GETs of cacheable API answers from ``cache`` (see the module)."""

    def __init__(self, app: ASGIApp, cache: ResultCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] != "GET"
                or not path.startswith(CACHED_PREFIX) or path.startswith(NOT_CACHED)):  # fmt: skip
            await self.app(scope, receive, send)
            return
        params = {"path": path, "query": scope.get("query_string", b"").decode("latin-1")}
        try:
            hit: CachedResponse | None = self.cache.peek("response", params)
        except StoreError:  # no store: the routes answer the problem
            hit = None
        if hit is not None:
            await self._replay(hit, scope, send)
            return
        await self.app(scope, receive, self._keeper(params, send))

    async def _replay(self, hit: CachedResponse, scope: Scope, send: Send) -> None:
        sent = next((value for name, value in scope["headers"] if name == b"if-none-match"), None)
        if sent is not None and etag_matches(sent.decode("latin-1"), hit.etag):
            headers = [(n, v) for n, v in hit.headers if n in (b"etag", b"cache-control")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": hit.headers})
        await send({"type": "http.response.body", "body": hit.body})

    def _keeper(self, params: dict[str, str], send: Send) -> Send:
        """``send``, keeping a cacheable 200 answer sent in one body message."""
        start: Message | None = None

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif start is not None and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    self._store(params, start, message.get("body", b""))
                start = None
            await send(message)

        return keep

    def _store(self, params: dict[str, str], start: Message, body: bytes) -> None:
        if start["status"] != 200:
            return
        headers = [(name.lower(), value) for name, value in start.get("headers", [])]
        found = dict(headers)
        if b"etag" not in found or not found.get(b"cache-control", b"").startswith(b"public"):
            return
        etag = found[b"etag"].decode("latin-1")
        with contextlib.suppress(StoreError):
            self.cache.put("response", params, CachedResponse(headers, body, etag))


class HostCheck:
    """Answer 400 (problem+json) to a request whose Host header names no allowed host."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str] | frozenset[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((value for name, value in scope["headers"] if name == b"host"), b"")
        name = host_name(header.decode("latin-1"))
        if name in self.hosts:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = name[:64] if name else "(none)"
        body = json.dumps({
            "type": "about:blank", "title": "Invalid host", "status": 400,
            "detail": f"this server does not answer for host {shown!r}: add it to "
                      f"{ALLOWED_HOSTS_ENV} (or chainwatch serve --allowed-host)",
            "instance": scope.get("path", ""),
        }).encode("utf-8")  # fmt: skip
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
