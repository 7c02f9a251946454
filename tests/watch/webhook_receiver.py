"""A webhook receiver for the delivery tests: a threaded ``http.server`` on 127.0.0.1 that
checks the signature, dedupes by delivery id, and can be told to misbehave per request
(status, slow answer, redirect, Retry-After, dropped connection). Not a test module."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chainwatch.watch.delivery import DELIVERY_HEADER, verify_signature
from chainwatch.watch.targets import TargetPolicy

SECRET = "SYNTHETIC-secret"
LOOPBACK = TargetPolicy.parse(["127.0.0.1"])
"""Tests reach their loopback receivers through the allow-list, as a user would."""


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request: ``status`` after ``delay_s`` (the alert is taken when
    ``accept``), with optional ``headers``; ``drop`` closes the connection unanswered."""

    status: int = 200
    delay_s: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    accept: bool = True
    drop: bool = False


OK = Behaviour()


@dataclass
class Receiver:
    """What the receiver got; ``script`` is popped one behaviour per request (then OK)."""

    secret: str = SECRET
    script: list[Behaviour] = field(default_factory=list)
    accepted: list[dict[str, object]] = field(default_factory=list)
    """Bodies and headers taken as new (one per delivery id)."""
    seen: Counter[str] = field(default_factory=Counter)
    """Requests per delivery id (a repeat is answered 200 and not taken again)."""
    refused: int = 0
    requests: int = 0
    paths: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self) -> Behaviour:
        with self.lock:
            self.requests += 1
            return self.script.pop(0) if self.script else OK

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.seen.values())


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # a client that followed a redirect would arrive here
        self.server.receiver.paths.append(("GET", self.path))
        self._answer(200)

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver.paths.append(("POST", self.path))
        behaviour = receiver.next_behaviour()
        if behaviour.drop:
            self.close_connection = True
            self.connection.close()
            return
        headers = dict(self.headers.items())
        if not verify_signature(body, headers, receiver.secret):
            with receiver.lock:
                receiver.refused += 1
            self._answer(401)
            return
        if behaviour.accept and behaviour.status < 300:
            delivery_id = headers[DELIVERY_HEADER]
            with receiver.lock:
                receiver.seen[delivery_id] += 1
                if receiver.seen[delivery_id] == 1:
                    receiver.accepted.append({"body": json.loads(body), "headers": headers})
        time.sleep(behaviour.delay_s)
        self._answer(behaviour.status, behaviour.headers)

    def _answer(self, status: int, headers: tuple[tuple[str, str], ...] = ()) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender gave up (timeout) and closed

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    receiver: Receiver


@contextmanager
def webhook_server(secret: str = SECRET) -> Iterator[Receiver]:
    """A webhook receiver on a free port of 127.0.0.1, in a thread, for the with-block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    state = Receiver(secret=secret, url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    server.receiver = state
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
