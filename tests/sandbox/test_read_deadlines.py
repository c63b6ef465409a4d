"""A client that sends half a request is cut off, as a gateway does: the sandbox never waits for ever."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from m365move.sandbox.server import SandboxServer, run_sandbox
from tests.estate_builder import standard
from tests.execution.sandbox_run import write_estate

DEADLINE = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    estate = write_estate(tmp_path_factory.mktemp("deadlines"), standard().doc)
    with run_sandbox(estate, read_deadlines=(DEADLINE, DEADLINE)) as running:
        yield running


def _connect(server: SandboxServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.settimeout(10)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed the connection (reads what it sends until then)."""
    started = time.monotonic()
    while sock.recv(65536):
        pass
    elapsed = time.monotonic() - started
    assert elapsed < seconds
    return elapsed


@pytest.mark.parametrize("sent", [
    b"",  # nothing at all
    b"GET /plans HTTP/1.1\r\nHost: sandbox\r\n",  # headers never finished
    b"POST /orders HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{\"ty",
], ids=["silent", "half-headers", "half-body"])
def test_a_half_sent_request_is_closed(server: SandboxServer, sent: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(sent)
        assert _closed_within(sock, 5) >= DEADLINE * 0.8


def test_many_half_sent_requests_are_all_closed(server: SandboxServer) -> None:
    socks = [_connect(server) for _ in range(40)]
    try:
        for sock in socks:
            sock.sendall(b"POST /orders HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 1000)
        for sock in socks:
            _closed_within(sock, 5)
    finally:
        for sock in socks:
            sock.close()


def _answer(sock: socket.socket) -> bytes:
    """One whole response (head and its Content-Length of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_whole_request_is_answered_and_the_connection_kept(server: SandboxServer) -> None:
    with _connect(server) as sock:
        for _ in range(2):
            sock.sendall(b"GET /plans HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            assert _answer(sock).startswith(b"HTTP/1.1 401")  # answered (no key given), not cut off
            time.sleep(DEADLINE * 1.5)  # slower than the deadline between requests: idle is not a half request
