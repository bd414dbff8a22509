"""The receiver fixture: a real HTTP server on 127.0.0.1 (``webhook_receiver.Receiver``) in a
thread, started for a test and shut down after it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
