"""An httpx transport over the standard library's ``http.client``: pooled HTTP/1.1 keep-alive connections.

Why: the Commerce client sends several requests per migrated subscription, and httpx's own transport
(httpcore + h11, pure-Python state machines) cost about three times what the HTTP itself costs through
``http.client`` (whose status line and header reading is the standard library's). httpx stays the client
library: requests and responses are ``httpx.Request``/``httpx.Response``, errors are httpx's
(``httpx.ConnectError``, ``httpx.ReadTimeout``, ``httpx.RemoteProtocolError``…), and content decoding
(gzip, deflate) is the ``httpx.Response``'s, as with httpx's own transport.

What it does, and how it stays as safe as httpx's default transport:
- TLS: the SSL context is httpx's default one (``httpx.create_ssl_context()``: certifi's CAs, or
  ``SSL_CERT_FILE``/``SSL_CERT_DIR``; certificate and hostname checked), SNI and hostname check on the URL's
  host.
- Timeouts: the request's ``timeout`` extension (httpx's connect, write and read timeouts; ``None`` waits
  forever), applied to the TCP connect and TLS handshake, to sending, and to each read of the answer.
- Keep-alive: after a complete answer the connection goes back to an idle pool (per scheme, host and port),
  unless either side said ``Connection: close`` or the answer ran to the end of the connection. An idle
  connection is reused only if it is younger than ``keepalive_expiry`` and its socket has nothing to read
  (a server that closed it, or sent anything unasked, makes it readable): else it is closed and another one
  used.
- Failures after a byte may have left are never retried here: the caller sees the same httpx error as with
  httpx's transport (``httpx.RemoteProtocolError`` when the server closed before a complete answer,
  ``httpx.ReadError``/``httpx.WriteError``, ``httpx.ReadTimeout``…), so its rule for a POST that may have
  reached the server applies unchanged. The one retry here is for a reused connection whose very first write
  failed with nothing written: the server cannot have seen any of that request, so it goes once more on a new
  connection.
- Bodies: the answer's ``Content-Length``, chunked, or until close (``http.client``); the request's body is
  sent as given, with its ``Content-Length`` or chunked when its headers say so.
- Anything else (a scheme other than http/https, a request extension other than ``timeout``, a body that is a
  stream rather than bytes) goes to ``fallback``, httpx's own transport. Proxies are not handled here at all:
  the client uses this transport only when no proxy applies to the URL.
- Thread-safe: the idle pool is under a lock; a connection is used by one request at a time.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
from types import TracebackType

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}
# What httpx's own transport does by default (httpx.Limits): idle connections kept, and for how long.
DEFAULT_MAX_IDLE_CONNECTIONS = 32
DEFAULT_KEEPALIVE_EXPIRY = 5.0
_SUPPORTED_EXTENSIONS = frozenset({"timeout"})


class _NothingSent(Exception):
    """The first write on a reused connection failed before any byte of the request was accepted."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Connection:
    __slots__ = ("sock", "idle_since")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.idle_since = 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError):  # it is being discarded: a failing close changes nothing
            self.sock.close()


class StdlibTransport(httpx.BaseTransport):
    """``httpx.BaseTransport`` over ``http.client`` with a keep-alive pool (see the module's docstring)."""

    def __init__(
        self,
        *,
        fallback: httpx.BaseTransport | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_idle_connections: int = DEFAULT_MAX_IDLE_CONNECTIONS,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
    ) -> None:
        self._fallback = fallback if fallback is not None else httpx.HTTPTransport()
        self._ssl_context = ssl_context
        self._max_idle = max_idle_connections
        self._keepalive_expiry = keepalive_expiry
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    # ---- httpx.BaseTransport ----------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if (
            scheme not in DEFAULT_PORTS
            or not _SUPPORTED_EXTENSIONS.issuperset(request.extensions)
            or not isinstance(request.stream, httpx.ByteStream)
        ):
            return self._fallback.handle_request(request)
        host = url.raw_host.decode("ascii")
        origin = (scheme, host, url.port or DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout") or {}
        message, asks_close = _request_bytes(request)
        connection = self._idle_connection(origin)
        if connection is not None:
            try:
                return self._exchange(origin, connection, request, message, timeouts, reused=True,
                                      asks_close=asks_close)
            except _NothingSent:
                pass  # the server closed it as we took it: nothing of the request left, so a new connection is safe
        return self._exchange(origin, self._connect(origin, timeouts, request), request, message, timeouts,
                              reused=False, asks_close=asks_close)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()
        self._fallback.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()

    # ---- connections ------------------------------------------------------------------------------

    def _idle_connection(self, origin: tuple[str, str, int]) -> _Connection | None:
        """The most recently used idle connection to ``origin`` still fit for a request, if any."""
        stale: list[_Connection] = []
        found = None
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if now - connection.idle_since < self._keepalive_expiry and not _readable(connection.sock):
                    found = connection
                    break
                stale.append(connection)
        for connection in stale:
            connection.close()
        return found

    def _release(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        surplus = None
        with self._lock:
            if self._closed:
                surplus = connection
            else:
                idle = self._idle.setdefault(origin, [])
                idle.append(connection)
                if sum(len(c) for c in self._idle.values()) > self._max_idle:
                    surplus = idle.pop(0)
        if surplus is not None:
            surplus.close()

    def _connect(self, origin: tuple[str, str, int], timeouts: dict[str, float | None],
                 request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        timeout = timeouts.get("connect")
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError as error:
            raise httpx.ConnectTimeout(str(error) or "timed out connecting", request=request) from error
        except OSError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                # The handshake runs inside wrap_socket, under the connect timeout; the certificate and the
                # hostname are checked there (check_hostname is on in httpx's default context).
                sock = self._tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError as error:
            sock.close()
            raise httpx.ConnectTimeout(str(error) or "timed out in the TLS handshake", request=request) from error
        except OSError as error:  # ssl.SSLError (certificate refused, handshake failed) is an OSError
            sock.close()
            raise httpx.ConnectError(str(error), request=request) from error
        return _Connection(sock)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    # ---- one exchange -----------------------------------------------------------------------------

    def _exchange(
        self,
        origin: tuple[str, str, int],
        connection: _Connection,
        request: httpx.Request,
        message: bytes,
        timeouts: dict[str, float | None],
        *,
        reused: bool,
        asks_close: bool,
    ) -> httpx.Response:
        """Send ``message``, read the whole answer; the connection goes back to the pool or is closed."""
        sock = connection.sock
        keep = False
        try:
            _set_timeout(sock, timeouts.get("write"))
            _send_all(sock, message, reused=reused, request=request)
            _set_timeout(sock, timeouts.get("read"))
            answer = http.client.HTTPResponse(sock, method=request.method)
            try:
                answer.begin()
                body = answer.read()
            except TimeoutError as error:
                raise httpx.ReadTimeout(str(error) or "timed out reading the answer", request=request) from error
            except http.client.HTTPException as error:
                # Includes RemoteDisconnected (closed before a status line) and IncompleteRead (closed mid-body).
                raise httpx.RemoteProtocolError(_protocol_error_text(error), request=request) from error
            except OSError as error:
                raise httpx.ReadError(str(error), request=request) from error
            finally:
                answer.close()
            keep = not answer.will_close and not asks_close
        finally:
            if keep:
                self._release(origin, connection)
            else:
                connection.close()
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.getheaders()]
        return httpx.Response(
            answer.status,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions={"http_version": b"HTTP/1.1" if answer.version == 11 else b"HTTP/1.0",
                        "reason_phrase": answer.reason.encode("latin-1")},
            request=request,
        )


def _request_bytes(request: httpx.Request) -> tuple[bytes, bool]:
    """The request line, headers and body, in one buffer (one send: no Nagle/delayed-ACK stall between them); and
    whether the request asks to close the connection after it."""
    url = request.url
    lines = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
    chunked = asks_close = False
    for name, value in request.headers.raw:
        # h11 (httpx's transport) refuses these too: a CR or LF would let a value start a header of its own.
        if b"\r" in value or b"\n" in value or b"\0" in value or not name or b":" in name or b"\r" in name \
                or b"\n" in name or b" " in name:
            raise httpx.LocalProtocolError(f"illegal header {name!r}", request=request)
        lowered = name.lower()
        if lowered == b"transfer-encoding" and value.strip().lower() == b"chunked":
            chunked = True
        elif lowered == b"connection" and b"close" in value.lower():
            asks_close = True
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    body = request.read()
    if chunked:
        lines += ((b"%x\r\n" % len(body)) + body + b"\r\n" if body else b"", b"0\r\n\r\n")
    else:
        lines.append(body)
    return b"".join(lines), asks_close


def _set_timeout(sock: socket.socket, seconds: float | None) -> None:
    # Only when it changes: each settimeout is a system call that also lets go of the GIL (8 threads wait on it).
    if sock.gettimeout() != seconds:
        sock.settimeout(seconds)


def _send_all(sock: socket.socket, message: bytes, *, reused: bool, request: httpx.Request) -> None:
    view = memoryview(message)
    sent_any = False
    while view:
        try:
            sent = sock.send(view)
        except TimeoutError as error:
            raise httpx.WriteTimeout(str(error) or "timed out sending the request", request=request) from error
        except OSError as error:
            if reused and not sent_any:
                raise _NothingSent(error) from error
            raise httpx.WriteError(str(error), request=request) from error
        sent_any = True
        view = view[sent:]


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: end of file, a reset, or bytes nobody asked for. Either way
    it is not fit for a request (httpcore checks the same before reusing a connection)."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _protocol_error_text(error: http.client.HTTPException) -> str:
    if isinstance(error, http.client.RemoteDisconnected):
        return "Server disconnected without sending a response."
    if isinstance(error, http.client.IncompleteRead):
        return f"peer closed connection without sending complete message body ({error!r})"
    return f"{type(error).__name__}: {error}"
