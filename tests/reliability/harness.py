"""The shared process harness of the race and crash tests.

Every race test needs the same few things: OS processes started with ``spawn`` (a fresh
interpreter, its own Engine and connection pool, nothing inherited from the parent's pools), a
queue on which each worker reports exactly once, draining that queue *before* joining (a child
cannot exit until its message is consumed), and a clean-up that kills a straggler so a hung worker
cannot hang the suite. :func:`run_in_processes` does exactly that; :data:`SPAWN` is the context to
build barriers and events for the workers from.

A worker is a module-level function (spawn pickles it by name) whose LAST parameter is the results
queue; it must put one message, including when it fails (:func:`report_crash`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from campaignflow import Message

FIGURES: Counter[str] = Counter()
"""The run's figures (see tests/reliability/conftest.py, which prints and writes them)."""


class Figures:
    """Add to the run's figures: ``figures.add("model_steps:sqlite", 1500)``; ``figures.zero(...)``
    records a count that must be 0 (shown even when it is)."""

    def add(self, name: str, value: int = 1) -> None:
        FIGURES[name] += value

    def zero(self, name: str, value: int) -> None:
        FIGURES[name] += value


SPAWN = multiprocessing.get_context("spawn")
"""The multiprocessing context of every race: barriers, events and queues must come from it."""


@attrs.frozen
class ProcessRun:
    """What :func:`run_in_processes` saw: the messages in arrival order and each exit code."""

    messages: list[Any]
    exitcodes: list[int | None]

    @property
    def complete(self) -> bool:
        """Every worker reported and exited cleanly."""
        return len(self.messages) == len(self.exitcodes) and all(code == 0 for code in self.exitcodes)


def run_in_processes(
    target: Callable[..., None],
    arglists: Sequence[tuple[Any, ...]],
    *,
    timeout: float = 120.0,
    names: Sequence[str] | None = None,
) -> ProcessRun:
    """Run ``target(*args, results)`` in one spawned process per ``args``; wait (at most
    ``timeout`` seconds per message) for one message from each, then join them. A worker still
    alive 30 s after its message (or after the timeout) is killed. Messages that never came are
    simply missing from the result: the caller decides whether that is a hang or a failure."""
    results = SPAWN.Queue()
    workers = [
        SPAWN.Process(target=target, args=(*args, results), name=names[n] if names else None)
        for n, args in enumerate(arglists)
    ]
    messages: list[Any] = []
    try:
        for worker in workers:
            worker.start()
        for _ in workers:
            try:
                messages.append(results.get(timeout=timeout))
            except queue.Empty:
                break
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
        results.close()
        results.join_thread()
    return ProcessRun(messages, [worker.exitcode for worker in workers])


def report_crash(results: Any, *tag: Any) -> None:
    """Put ``("crashed", *tag, traceback)`` for the exception being handled."""
    results.put(("crashed", *tag, traceback.format_exc()))


def fail_on_crash(run: ProcessRun) -> list[Any]:
    """The messages, after asserting every worker reported, none crashed and all exited with 0."""
    crashed = [str(message[-1]) for message in run.messages if message[0] == "crashed"]
    assert not crashed, "\n".join(crashed)
    assert run.complete, f"{len(run.messages)} of {len(run.exitcodes)} reported; exit codes {run.exitcodes}"
    return run.messages


class FileChannel:
    """A channel that appends each message's idempotency key to a file: a receiver outside the
    dispatcher processes that survives them (one file per process, or one shared in append mode)."""

    name = "file"
    rate_limit = None

    def __init__(self, path: str, pause: float = 0.001) -> None:
        self.path = path
        self.pause = pause

    def send(self, message: Message) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(message.idempotency_key + "\n")
        time.sleep(self.pause)  # a receiver takes a moment: the dispatchers interleave


def run_until_exit(
    target: Callable[..., None], args: tuple[Any, ...], *, timeout: float = 120.0, context: Any = SPAWN
) -> ProcessRun:
    """Run ``target(*args, results)`` in one process that may be killed (by itself or by a test):
    collect its messages while it runs, join it, return them with its exit code (``-9`` after a
    SIGKILL). A process still running after ``timeout`` is killed and reported as such."""
    results = context.Queue()
    worker = context.Process(target=target, args=(*args, results))
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        worker.start()
        while worker.is_alive() and time.monotonic() < deadline:
            try:
                messages.append(results.get(timeout=0.1))
            except queue.Empty:
                continue
        if worker.is_alive():
            worker.kill()
        worker.join()
        while True:
            try:
                messages.append(results.get(timeout=0.2))
            except queue.Empty:
                break
    finally:
        results.close()
        results.join_thread()
    return ProcessRun(messages, [worker.exitcode])


class Receiver(ThreadingHTTPServer):
    """A receiving HTTP server on 127.0.0.1 (in a thread of the test process): it answers 200 to
    every POST and keeps, in arrival order, each request's ``Idempotency-Key`` header and JSON body,
    duplicates included: what a real receiver would see before deduplicating."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def keys(self) -> list[str]:
        with self.lock:
            return [key for key, _body in self.received]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.received.append((self.headers.get("Idempotency-Key", ""), json.loads(raw)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: Any) -> None:
        pass


def kill_self() -> None:
    """SIGKILL this process now: no cleanup, no finally blocks, no flushed buffers (kill -9)."""
    os.kill(os.getpid(), signal.SIGKILL)
