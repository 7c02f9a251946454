"""Webhook targets: which hosts a webhook may reach, and the one POST that reaches them.

A webhook URL is the user's, but the POST comes from the machine running ``watch deliver``, so
an unchecked URL lets anyone who may subscribe probe that machine's network (SSRF). Rules:

* ``http`` or ``https`` only, a host, no user name or password in the URL;
* **always refused**: link-local addresses (169.254.0.0/16, fe80::/10, where the cloud metadata
  services answer), the metadata addresses fd00:ec2::254 and 100.100.100.200, unspecified,
  multicast and broadcast addresses;
* **refused unless allowed** (``--allow-host`` or ``$CHAINWATCH_WEBHOOK_ALLOW``: host names,
  addresses or networks such as ``127.0.0.1``, ``10.0.0.0/8``, ``hooks.internal``): every
  address that is not globally routable (loopback, private, shared, reserved) and the names
  ``localhost`` / ``*.localhost``;
* at send time the host is resolved, **every** address it resolves to is checked, and the
  connection goes to a checked address (no second lookup that a DNS rebinding could answer
  differently). TLS still verifies the certificate against the host name.

The POST (:func:`post`) follows no redirect, bounds the whole exchange by one deadline (a
receiver trickling bytes cannot hold a worker longer than the timeout) and reads only the
status line and headers.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from chainwatch.errors import QueryError

ALLOW_VARIABLE = "CHAINWATCH_WEBHOOK_ALLOW"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
REFUSED_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32",
                    "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32")
)  # fmt: skip
"""Never reachable by a webhook, allow-list or not (metadata services, link-local, ...)."""


class WebhookError(Exception):
    """A POST that did not get a 2xx answer: refused target, network failure or timeout."""


@dataclass(frozen=True)
class TargetPolicy:
    """The non-public hosts and networks webhooks may reach besides public addresses."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TargetPolicy:
        """From ``--allow-host`` values (comma-separated lists accepted): names, addresses,
        networks. A malformed network is a one-line ``QueryError``."""
        hosts, networks = set(), []
        for entry in (part.strip() for value in entries for part in value.split(",")):
            if not entry:
                continue
            if "/" in entry or _is_address(entry):
                try:
                    networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                except ValueError as error:
                    raise QueryError(
                        f"--allow-host {entry!r} is not an address or a network"
                    ) from error
            else:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_environment(cls, extra: Iterable[str] = ()) -> TargetPolicy:
        """``$CHAINWATCH_WEBHOOK_ALLOW`` plus ``extra`` (the command's ``--allow-host``)."""
        return cls.parse([os.environ.get(ALLOW_VARIABLE, ""), *extra])

    def refusal(self, host: str, address: Address) -> str | None:
        """Why ``host`` at ``address`` may not be reached, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in REFUSED_NETWORKS):
            return f"{address} is a link-local, metadata or non-unicast address"
        if address.is_global:
            return None
        if host.lower().rstrip(".") in self.hosts or any(address in n for n in self.networks):
            return None
        return (
            f"{address} is a loopback or private address (allow it with --allow-host "
            f"{host if host == str(address) else f'{host} or {address}'})"
        )


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: scheme, host, port, request path and the checked addresses."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Answer:
    """A receiver's answer: status, ``Retry-After`` in seconds (if any), ``Location``."""

    status: int
    reason: str
    retry_after_s: float | None = None
    location: str | None = None


PUBLIC_ONLY = TargetPolicy()
"""The default: public addresses only."""


def check_webhook_url(url: str | None, policy: TargetPolicy = PUBLIC_ONLY) -> str:
    """``url`` if it may be a webhook (syntax, and the host when it is an address or
    ``localhost``); else a one-line ``QueryError``. Names are resolved at send time."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QueryError(f"webhook URL {url!r} is not an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise QueryError("a webhook URL must not hold a user name or password (use --secret)")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as error:
        raise QueryError(f"webhook URL {url!r} has a bad port") from error
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        if host not in policy.hosts and not any(
            ipaddress.ip_address("127.0.0.1") in n for n in policy.networks
        ):
            raise QueryError(f"webhook host {host} is loopback (allow it with --allow-host {host})")
    elif _is_address(host):
        reason = policy.refusal(host, ipaddress.ip_address(host))
        if reason:
            raise QueryError(f"webhook URL {url!r} refused: {reason}")
    return str(url)


def resolve_target(url: str, policy: TargetPolicy) -> Target:
    """Resolve the URL's host and check every address (``WebhookError`` if one is refused)."""
    try:
        check_webhook_url(url, policy)
    except QueryError as error:
        raise WebhookError(str(error)) from error
    parts = urlsplit(url)
    host = str(parts.hostname)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise WebhookError(f"cannot resolve {host}: {error}") from error
    addresses = list(dict.fromkeys(str(entry[4][0]) for entry in found))
    for address in addresses:
        reason = policy.refusal(host, ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise WebhookError(f"webhook host {host} refused: {reason}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, tuple(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address, with the URL's host in the Host header."""

    address: str = ""

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    address: str = ""

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout_s: float, policy: TargetPolicy
) -> Answer:
    """POST ``body`` to ``url`` within ``timeout_s`` seconds in all (lookup, connect, send,
    answer); the answer whatever its status (redirects are not followed), else WebhookError."""
    started = time.monotonic()
    target = resolve_target(url, policy)
    last: Exception | None = None
    for address in target.addresses:
        remaining = timeout_s - (time.monotonic() - started)
        if remaining <= 0:
            break
        kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        connection = kind(target.host, target.port, timeout=remaining)
        connection.address = address
        try:
            return _exchange(connection, target, body, headers, remaining)
        except ConnectionRefusedError as error:  # try the host's next address
            last = error
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() - started >= timeout_s:
                raise WebhookError(f"no answer from {target.host} within {timeout_s:g} s") from (
                    error
                )
            raise WebhookError(f"cannot reach {target.host}: {_reason(error)}") from error
        finally:
            connection.close()
    if last is None:
        raise WebhookError(f"no answer from {target.host} within {timeout_s:g} s")
    raise WebhookError(f"cannot reach {target.host}: {_reason(last)}") from last


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    deadline_s: float,
) -> Answer:
    """One request on ``connection``; a watchdog shuts the socket at the deadline."""

    def abort() -> None:
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(deadline_s, abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "chainwatch-webhook",
            "Connection": "close", **headers,
        })  # fmt: skip
        response = connection.getresponse()
        return Answer(
            status=response.status,
            reason=response.reason,
            retry_after_s=parse_retry_after(response.getheader("Retry-After")),
            location=response.getheader("Location"),
        )
    finally:
        watchdog.cancel()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3);
    None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _reason(error: BaseException) -> str:
    return str(getattr(error, "strerror", None) or error or type(error).__name__)
