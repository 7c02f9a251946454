"""Webhook targets (watch/targets.py): which addresses are refused, the allow-list, every
resolved address checked, Retry-After parsing. No DNS: names are ``localhost`` or a patched
``getaddrinfo``."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from chainwatch.errors import QueryError
from chainwatch.watch.targets import (
    PUBLIC_ONLY,
    TargetPolicy,
    WebhookError,
    check_webhook_url,
    parse_retry_after,
    resolve_target,
)

PUBLIC = "93.184.215.14"
"""A globally routable address (the TEST-NET documentation ranges count as not global)."""


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("169.254.169.254", "link-local, metadata"),  # AWS, GCP, Azure metadata
        ("fd00:ec2::254", "link-local, metadata"),  # AWS metadata over IPv6
        ("100.100.100.200", "link-local, metadata"),  # Alibaba Cloud metadata
        ("fe80::1", "link-local, metadata"),
        ("::ffff:169.254.169.254", "link-local, metadata"),  # IPv4-mapped
        ("0.0.0.0", "link-local, metadata"),
        ("224.0.0.1", "link-local, metadata"),
        ("127.0.0.1", "loopback or private"),
        ("::1", "loopback or private"),
        ("10.0.0.7", "loopback or private"),
        ("172.16.3.4", "loopback or private"),
        ("192.168.1.1", "loopback or private"),
        ("fc00::5", "loopback or private"),
        ("100.64.0.1", "loopback or private"),  # shared address space (carrier NAT)
        (PUBLIC, None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_address_classes(address: str, refused: str | None) -> None:
    reason = PUBLIC_ONLY.refusal(address, ipaddress.ip_address(address))
    assert (reason is None) if refused is None else (refused in str(reason))


def test_the_allow_list_opens_private_hosts_but_never_metadata() -> None:
    policy = TargetPolicy.parse(["127.0.0.1", "10.0.0.0/8, hooks.internal", "169.254.0.0/16"])
    assert policy.refusal("127.0.0.1", ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal("x", ipaddress.ip_address("10.9.8.7")) is None
    assert policy.refusal("hooks.internal", ipaddress.ip_address("192.168.5.5")) is None
    assert policy.refusal("other.internal", ipaddress.ip_address("192.168.5.5")) is not None
    assert "metadata" in str(policy.refusal("x", ipaddress.ip_address("169.254.169.254")))
    with pytest.raises(QueryError, match="not an address or a network"):
        TargetPolicy.parse(["10.0.0.0/33"])


def test_the_environment_adds_to_the_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_WEBHOOK_ALLOW", "192.168.0.0/16")
    policy = TargetPolicy.from_environment(["127.0.0.1"])
    assert check_webhook_url("http://192.168.0.9/h", policy)
    assert check_webhook_url("http://127.0.0.1/h", policy)


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolver(addresses: list[str]) -> Any:
        def getaddrinfo(host: str, port: int, **_: object) -> list[Any]:
            family = socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

        return getaddrinfo

    monkeypatch.setattr(socket, "getaddrinfo", resolver([PUBLIC]))
    target = resolve_target("https://hooks.example.org/in?x=1", PUBLIC_ONLY)
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.org", 443, "/in?x=1", (PUBLIC,)
    )  # fmt: skip
    monkeypatch.setattr(socket, "getaddrinfo", resolver([PUBLIC, "169.254.169.254"]))
    with pytest.raises(WebhookError, match=r"hooks\.example\.org refused: 169\.254\.169\.254"):
        resolve_target("https://hooks.example.org/in", PUBLIC_ONLY)
    monkeypatch.setattr(socket, "getaddrinfo", resolver(["10.1.1.1"]))  # a rebinding answer
    with pytest.raises(WebhookError, match="loopback or private"):
        resolve_target("http://hooks.example.org/", PUBLIC_ONLY)


def test_localhost_is_loopback_by_name_and_by_address() -> None:
    with pytest.raises(QueryError, match="--allow-host localhost"):
        check_webhook_url("http://localhost:8080/h")
    with pytest.raises(WebhookError, match="loopback"):
        resolve_target("http://localhost:8080/h", TargetPolicy.parse(["localhost.example"]))
    allowed = TargetPolicy.parse(["localhost", "127.0.0.1", "::1"])
    assert resolve_target("http://localhost:8080/h", allowed).port == 8080


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/", "not an absolute http"),
        ("http:///path", "not an absolute http"),
        ("https://user:pw@example.org/", "user name or password"),
        ("http://example.org:99999/", "bad port"),
        ("http://[fd00:ec2::254]/latest/meta-data", "metadata"),
    ],
)
def test_bad_urls_are_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        check_webhook_url(url)
    assert "\n" not in str(caught.value)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(90.0)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(unreadable) is None
