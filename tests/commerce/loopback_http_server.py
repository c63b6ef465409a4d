"""A scripted HTTP/1.1 server on a loopback ephemeral port (plain or TLS), for the transport tests.

Each path behaves as a real server or a hostile network can:
  /echo (and any other)  200, Content-Length, JSON naming the connection, method, target and body
  /chunked              the same JSON, chunked
  /gzip                 the same JSON, gzip Content-Encoding
  /close-after          answers (keep-alive, no "Connection: close"), then closes the connection (FIN)
  /reset-after          answers, then resets the connection (RST)
  /drop-before-answer   reads the request, closes without answering
  /drop-mid-body        sends headers (Content-Length: 100) and 10 bytes of body, then closes
  /silent               reads the request, never answers (until the server stops)
Every request read is recorded (connection number, method, target, body), so a test can prove what reached it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class SeenRequest:
    connection: int
    method: str
    target: str
    body: bytes


class LoopbackHttpServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        self.handshake_failures = 0
        self.requests: list[SeenRequest] = []
        # Set each time the server closed a connection after answering (/close-after, /reset-after).
        self.closed_after_answer = threading.Event()
        accepting = threading.Thread(target=self._accept, name="loopback-http-accept", daemon=True)
        accepting.start()
        self._threads.append(accepting)

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def seen(self, target: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.target == target]

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress (close alone does not)
        self._listener.close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> LoopbackHttpServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- serving ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
                self._open.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            if self._tls is not None:
                try:
                    sock = self._tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self.handshake_failures += 1
                    return
                with self._lock:
                    self._open.append(sock)
            with sock.makefile("rb") as reader:
                while (after := self._one_request(sock, reader, number)) == "keep":
                    pass
            if after == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # the reader is closed too: this really closes the connection (FIN, or RST after linger 0)
            if after in ("close", "reset"):
                self.closed_after_answer.set()
        except OSError:
            pass  # the client went away, or the server is stopping
        finally:
            sock.close()

    def _one_request(self, sock: socket.socket, reader: BinaryIO, number: int) -> str:
        """Read and answer one request; then "keep" the connection for another, "end" it, or "close"/"reset" it
        after an answer."""
        line = reader.readline()
        if not line:
            return "end"
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while (size := int(reader.readline().strip(), 16)) > 0:
                body += reader.read(size)
                reader.readline()
            reader.readline()
        else:
            body = reader.read(int(headers.get("content-length", "0")))
        with self._lock:
            self.requests.append(SeenRequest(number, method, target, body))
        path = target.split("?")[0]
        # Shaped so that the Commerce client can read it too: a token, an empty page of a collection.
        answer = json.dumps({"connection": number, "method": method, "target": target, "body": body.decode("latin-1"),
                             "token": "loopback", "expiresInSeconds": 600, "data": [],
                             "pagination": {"total": 0}}).encode()
        if path == "/drop-before-answer":
            return "end"
        if path == "/silent":
            self._stopping.wait(30)
            return "end"
        if path == "/drop-mid-body":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" + answer[:10])
            return "end"
        if path == "/chunked":
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (answer[:5], answer[5:20], answer[20:]))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + chunks + b"0\r\n\r\n")
            return "keep"
        if path == "/gzip":
            packed = gzip.compress(answer)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(packed), packed))
            return "keep"
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Correlation-ID: loopback\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))
        return {"/close-after": "close", "/reset-after": "reset"}.get(path, "keep")
