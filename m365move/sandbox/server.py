"""Running the sandbox: in a background thread on loopback for tests and the demo, or blocking for the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from m365move.errors import PlatformError
from m365move.estate import load_estate
from m365move.estate.schema import EstateDocument
from m365move.sandbox.app import SandboxContext, build_sandbox_app, sandbox_context
from m365move.sandbox.auth import SandboxCredentials
from m365move.sandbox.faults import Faults
from m365move.sandbox.read_deadlines import BODY_SECONDS, HEADER_SECONDS, deadline_protocol

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate (PEM, chain first) and its private key: the sandbox then speaks https, as the real
    platforms do (connect-extension-runner builds every Connect address as https)."""

    certificate: str
    key: str


class SandboxServer:
    """A running sandbox: ``.url``, ``.context`` (state, faults, stats) and ``.stop()``; a context manager."""

    def __init__(self, app: Starlette, sock: socket.socket, *, tls: TlsFiles | None = None,
                 read_deadlines: tuple[float, float] = (HEADER_SECONDS, BODY_SECONDS)) -> None:
        self.app = app
        self._sock = sock
        host, port = sock.getsockname()[:2]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
                                ssl_certfile=tls.certificate if tls else None, ssl_keyfile=tls.key if tls else None,
                                http=deadline_protocol(*read_deadlines))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"m365move-sandbox-{port}", daemon=True)
        self._failure: BaseException | None = None

    @property
    def context(self) -> SandboxContext:
        return sandbox_context(self.app)

    @property
    def admin_auth(self) -> tuple[str, str]:
        """The HTTP Basic pair its ``/_sandbox/...`` routes accept (its user and password)."""
        credentials = self.context.issuer.credentials
        return credentials.user, credentials.password

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as error:  # reported to the starting thread, which would otherwise wait forever
            self._failure = error

    def start(self, timeout: float = 10.0) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise PlatformError(f"the sandbox did not start on {self.url}: {self._failure}")
            if time.monotonic() > deadline:
                raise PlatformError(f"the sandbox did not start on {self.url} within {timeout:g} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response written in two parts (head, body) waits
    # for the client's delayed ACK, 40 ms per request on a kept-alive connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PlatformError(f"cannot listen on {host}:{port}: {error.strerror}; choose another --port") from None
    return sock


def _document(estate: EstateDocument | str | Path) -> EstateDocument:
    return estate if isinstance(estate, EstateDocument) else load_estate(estate).document


def run_sandbox(
    estate: EstateDocument | str | Path,
    faults: Faults | None = None,
    *,
    state_file: str | Path | None = None,
    port: int = 0,
    host: str = LOOPBACK,
    credentials: SandboxCredentials | None = None,
    tls: TlsFiles | None = None,
    read_deadlines: tuple[float, float] = (HEADER_SECONDS, BODY_SECONDS),
) -> SandboxServer:
    """Start a sandbox in a background thread (port 0: any free port) and return its running handle
    (https with ``tls``; ``read_deadlines``: seconds for a request's headers and for its body)."""
    app = build_sandbox_app(_document(estate), faults, state_file, credentials=credentials)
    return SandboxServer(app, _bind(host, port), tls=tls, read_deadlines=read_deadlines).start()


def serve(
    estate: EstateDocument | str | Path,
    faults: Faults | None = None,
    *,
    state_file: str | Path | None = None,
    port: int = 8080,
    host: str = LOOPBACK,
    credentials: SandboxCredentials | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until interrupted (``m365move sandbox serve``); ``announce`` gets the URL."""
    app = build_sandbox_app(_document(estate), faults, state_file, credentials=credentials)
    sock = _bind(host, port)
    if announce is not None:
        bound_host, bound_port = sock.getsockname()[:2]
        announce(f"http://{bound_host}:{bound_port}")
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
                            http=deadline_protocol())
    uvicorn.Server(config).run(sockets=[sock])
