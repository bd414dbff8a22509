"""A real HTTP server on 127.0.0.1, in a thread, that records what it receives and answers as
scripted: the receiver of a webhook or a group robot."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    payload: Any


@attrs.frozen
class Answer:
    status: int = 200
    body: Any = attrs.field(factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.script: deque[Answer] = deque()
        self.default = Answer()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, *answers: Answer) -> None:
        """The next requests get these answers, in order; then the default."""
        self.script.extend(answers)

    def keys(self) -> list[str]:
        """The idempotency keys received (header), in order."""
        with self.lock:
            return [r.headers["Idempotency-Key"] for r in self.received]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: expected in the timeout tests


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        split = urllib.parse.urlsplit(self.path)
        with self.server.lock:
            answer = self.server.script.popleft() if self.server.script else self.server.default
            self.server.received.append(
                Received(
                    path=split.path,
                    query=dict(urllib.parse.parse_qsl(split.query)),
                    headers=dict(self.headers.items()),
                    payload=json.loads(raw.decode("utf-8")),
                )
            )
        if answer.delay:
            time.sleep(answer.delay)
        data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
