"""The emulator over HTTPS on one local port: ARM, the Retail Prices API and Entra ID.

Why a real server when the SDK can be plugged in as a transport: the production path
(``AZURE_MODE=azure``) must run unchanged against the embedded tenant — azure-identity fetching
real tokens over TLS, the management SDK verifying a certificate, sockets that refuse, reset
and time out — and a second process (the Azure CLI, a browser for the sign-in page) must be
able to reach it.

One ``host:port`` serves, by path:

=========================================  ============================================
``/api/retail/prices…``                    ``Emulator.handle`` as ``prices.azure.com``
``/metadata/endpoints``                    the cloud endpoints document (``cloud.py``)
``/{tenant}/oauth2/…``, ``/{tenant}/v2.0/…``,  the emulated Entra ID (``identity``)
``/{tenant}/discovery/…``
anything else                              ``Emulator.handle`` with the bearer token checked
=========================================  ============================================

Absolute URLs the emulator builds for ``management.azure.com`` / ``prices.azure.com``
(``Azure-AsyncOperation``, ``Location``, ``nextLink``, ``NextPageLink``) are rewritten to this
server's origin, so pollers and pagers come back here instead of leaving for Azure
(azure-facts §4.5, option B).

Design: Django-free; a bounded pool of worker threads (one per open connection, HTTP/1.1
keep-alive with an idle timeout) fed by one accept loop; request bodies bounded
(``max_body_bytes``, 413 beyond); the state stays in the state file, so several servers, web
processes and workers share it. The TLS files come from ``tls.py``. Transport faults:

* request faults of ``faults.py`` become socket events: a dropped request is a reset before
  any answer, a lost answer (``applied``) is a reset in the middle of the body (after a
  status line and headers), a timeout is silence until the client gives up (or
  ``hold_seconds``);
* server-wide faults of ``network.py`` (refused connections, a wrong-host certificate) are
  read from the state file by the accept loop every 50 ms, so another process switches them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import socket
import ssl
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import cloud, faults
from .engine import Emulator
from .identity import is_identity_path
from .network import NetworkSettings
from .tls import TlsFiles, ensure_tls_files

log = logging.getLogger(__name__)

DEFAULT_PORT = 8443
DEFAULT_WORKERS = 32
MAX_BODY_BYTES = 4 * 1024 * 1024
IDLE_TIMEOUT = 5.0  # seconds a keep-alive connection may wait for its next request
HANDSHAKE_TIMEOUT = 10.0
POLL_SECONDS = 0.05
RESET_PAUSE = 0.05
LINGER_SECONDS = 1.0
UPSTREAMS = ("https://management.azure.com", "https://prices.azure.com")
PRICES_PREFIX = "/api/retail/prices"
PRICES_ORIGIN = "https://prices.azure.com"
_LINK_KEYS = ("nextLink", "NextPageLink")
_LINK_HEADERS = ("Location", "Azure-AsyncOperation")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def rewrite_links(headers: dict[str, str], body: bytes, base: str) -> tuple[dict[str, str], bytes]:
    """Point absolute links the emulator built for Azure's hosts at this server."""

    def moved(value: str) -> str:
        for upstream in UPSTREAMS:
            if value.startswith(upstream + "/") or value == upstream:
                return base + value[len(upstream) :]
        return value

    new_headers = {k: (moved(v) if k in _LINK_HEADERS else v) for k, v in headers.items()}
    if body and any(u.encode() in body for u in UPSTREAMS):
        try:
            doc = json.loads(body)
        except ValueError:
            return new_headers, body
        if isinstance(doc, dict):
            changed = False
            for key in _LINK_KEYS:
                value = doc.get(key)
                if isinstance(value, str) and moved(value) != value:
                    doc[key] = moved(value)
                    changed = True
            if changed:
                body = json.dumps(doc).encode()
    return new_headers, body


class _Abort(Exception):
    """The connection was reset or abandoned on purpose (a fault)."""


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a load balancer dropping the connection does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        socket.socket.close(sock)
    with contextlib.suppress(OSError):
        sock.close()


def _raw_shutdown(sock: socket.socket) -> None:
    """Shut the TCP connection down under a TLS socket another thread may be reading."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """One TLS connection; HTTP/1.1 with keep-alive."""

    protocol_version = "HTTP/1.1"
    server_version = "contoso-images-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    emu: EmulatorServer  # set per connection by the server

    def __init__(self, sock: socket.socket, address: Any, emu: EmulatorServer) -> None:
        self.emu = emu
        self.idle = True
        #: The network switch this connection was opened under (see handle_one_request).
        self.generation = emu._applied_generation
        super().__init__(sock, address, None)  # type: ignore[arg-type]

    def handle_one_request(self) -> None:
        self.idle = True
        if self.generation != self.emu._applied_generation:
            # A switch (refusal, new certificate) came while this connection was finishing
            # its last answer, too late for _drop_idle_connections to see it idle: close it
            # before reading another request, so a pooled connection never slips past.
            self.close_connection = True
            return
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
        except (ssl.SSLError, OSError, ValueError):
            # The peer or a fault closed the socket under us.
            self.close_connection = True

    def parse_request(self) -> bool:
        self.idle = False
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    # Every method goes through one dispatcher.
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 411/400/413 (then the connection
        closes)."""
        head = {"Content-Type": "application/json; charset=utf-8"}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._refuse_body(
                411, head, _error_body("LengthRequired", "Send a Content-Length, not chunks.")
            )
            return None
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length) if raw_length else 0
        except ValueError:
            length = -1
        if length < 0:
            self._refuse_body(
                400, head, _error_body("InvalidContentLength", "The Content-Length is not valid.")
            )
            return None
        if length > self.emu.max_body_bytes:
            message = f"The request body is larger than {self.emu.max_body_bytes} bytes."
            self._refuse_body(413, head, _error_body("RequestEntityTooLarge", message))
            return None
        return self.rfile.read(length) if length else b""

    def _refuse_body(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Answer without reading the body, then close gently: stop writing and discard what
        the client still sends for a moment, so it reads the answer instead of a reset
        (closing a socket with unread data sends RST)."""
        self.close_connection = True
        self._send(status, headers, body)
        sock = self.connection
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            sock.settimeout(LINGER_SECONDS)
            while time.monotonic() < deadline and sock.recv(65536):
                pass

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path = self.path
        base = self.emu.origin_for(self.headers.get("Host"))
        headers = dict(self.headers.items())
        route = urlsplit(path).path
        try:
            if route == PRICES_PREFIX or route.startswith(PRICES_PREFIX + "/"):
                status, head, data = self.emu.emulator.handle(
                    self.command, PRICES_ORIGIN + path, headers, body, authenticate=False
                )
                head, data = rewrite_links(head, data, base)
            elif route.rstrip("/").lower() == "/metadata/endpoints":
                status, head, data = self.emu.metadata(base, path)
            elif is_identity_path(route):
                status, head, data = self.emu.emulator.identity.handle(
                    self.command, base + path, headers, body
                )
            else:
                status, head, data = self.emu.emulator.handle(
                    self.command, base + path, headers, body, authenticate=True
                )
                head, data = rewrite_links(head, data, base)
        except faults.ResponseLost:
            self._reset_mid_response()
            raise _Abort from None
        except faults.ConnectionDropped:
            _reset(self.connection)
            raise _Abort from None
        except (faults.ResponseTimeout, faults.RequestTimeout):
            self._hold()
            raise _Abort from None
        except Exception as exc:  # a bug: answer 500 like ARM, keep serving
            log.exception("emulator server failed on %s %s", self.command, path)
            status, head, data = (
                500,
                {"Content-Type": "application/json; charset=utf-8"},
                _error_body("InternalServerError", f"Emulator error: {type(exc).__name__}: {exc}"),
            )
        self._send(status, head, data)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status, _REASONS.get(status, ""))
        for key, value in headers.items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _reset_mid_response(self) -> None:
        """The request took effect; its answer breaks off: a status line, headers promising a
        body, a part of it, then a reset. The client cannot tell what Azure did."""
        if self.emu.emulator.network.settings().reset_point == "start":
            _reset(self.connection)  # not a byte of the answer
            return
        partial = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: 4096\r\nCache-Control: no-cache\r\n\r\n"
            b'{"name": "' + b"x" * 64
        )
        with contextlib.suppress(OSError, ssl.SSLError):
            self.connection.sendall(partial)
            # Let the client read the headers first, so the reset lands in the body.
            time.sleep(RESET_PAUSE)
        _reset(self.connection)

    def _hold(self) -> None:
        """Say nothing until the client hangs up (its read timeout), the hold time is over
        or the server stops; then close."""
        deadline = time.monotonic() + self.emu.emulator.network.settings().hold_seconds
        sock = self.connection
        while time.monotonic() < deadline and not self.emu.stopping:
            try:
                readable, _, _ = select.select([sock], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                break
            if readable:
                break  # the client closed (or sent an alert): it gave up
        _reset(sock)


class EmulatorServer:
    """A threaded HTTPS server in front of one emulator state file."""

    def __init__(
        self,
        state_path: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        public_host: str | None = None,
        tls_dir: str | os.PathLike[str] | None = None,
        workers: int = DEFAULT_WORKERS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.emulator = Emulator(state_path)
        self.host = host
        wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 - recognising, not binding
        self.public_host = public_host or ("127.0.0.1" if wildcard else host)
        self.workers = max(1, int(workers))
        self.max_body_bytes = int(max_body_bytes)
        self.tls: TlsFiles = ensure_tls_files(tls_dir, hosts=(self.public_host,))
        self._contexts = {
            False: self._context(self.tls.server_cert, self.tls.server_key),
            True: self._context(self.tls.wrong_host_cert, self.tls.wrong_host_key),
        }
        self._listener: socket.socket | None = None
        self._requested_port = int(port)
        self.port = 0
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(self.workers)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="emulator-https")
        self._handlers: set[_Handler] = set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._applied_generation = -1
        self._last_poll = 0.0
        self._network = NetworkSettings()
        self._audiences_registered = False
        self._open_listener()

    # --- addresses ---------------------------------------------------------------------------

    @staticmethod
    def _context(cert: Path, key: Path) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert), str(key))
        return ctx

    @property
    def base_url(self) -> str:
        host = f"[{self.public_host}]" if ":" in self.public_host else self.public_host
        return f"https://{host}:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        return self.tls.ca_bundle

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def origin_for(self, host_header: str | None) -> str:
        """The origin a client used (its Host header), for URLs in answers; else ours."""
        if host_header and host_header.strip():
            return f"https://{host_header.strip()}"
        return self.base_url

    def metadata(self, base: str, path: str) -> tuple[int, dict[str, str], bytes]:
        query = urlsplit(path).query
        head = {"Content-Type": "application/json; charset=utf-8"}
        if "api-version=" not in query.lower():
            return (
                400,
                head,
                _error_body(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
            )
        version = next((v for k, v in parse_qsl(query) if k.lower() == "api-version"), "2015-01-01")
        doc = cloud.metadata_endpoints(base, self.emulator.identity.arm_audiences(), version)
        return 200, head, json.dumps(doc).encode()

    # --- lifecycle ---------------------------------------------------------------------------

    def _open_listener(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        port = self.port or self._requested_port
        listener = socket.create_server((self.host, port), family=family, backlog=128)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        if not self._audiences_registered:
            # Tokens asked for this server's own origin (the default credential scope of a
            # custom cloud, ``{endpoint}/.default``) are Resource Manager's too.
            for origin in (
                self.base_url,
                f"https://localhost:{self.port}",
                f"https://127.0.0.1:{self.port}",
            ):
                self.emulator.identity.add_arm_audience(origin + "/")
            self._audiences_registered = True

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()

    def start(self) -> EmulatorServer:
        """Serve in a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="emulator-https-accept", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        log.info("emulator serving on %s (state %s)", self.base_url, self.emulator.path)
        try:
            while not self._stop.is_set():
                self._poll_network()
                listener = self._listener
                if listener is None:
                    self._stop.wait(POLL_SECONDS)
                    continue
                try:
                    readable, _, _ = select.select([listener], [], [], POLL_SECONDS)
                except (OSError, ValueError):
                    continue  # closed under us by a network switch
                if not readable:
                    continue
                try:
                    sock, address = listener.accept()
                except (BlockingIOError, OSError):
                    continue
                while not self._slots.acquire(timeout=POLL_SECONDS):
                    if self._stop.is_set():
                        _reset(sock)
                        return
                    # Every worker holds a connection: keep applying network switches, and
                    # free a worker from a keep-alive connection that waits for nothing.
                    self._poll_network()
                    self._drop_idle_connections(limit=1)
                self._pool.submit(self._serve_connection, sock, address)
        finally:
            self._close_listener()

    def shutdown(self) -> None:
        """Stop accepting, drop open connections, wait for the workers."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._close_listener()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            _raw_shutdown(sock)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # --- network faults ------------------------------------------------------------------

    def _poll_network(self) -> None:
        now = time.monotonic()
        if now - self._last_poll < POLL_SECONDS:
            return
        self._last_poll = now
        try:
            settings = self.emulator.network.settings()
        except Exception:
            log.warning("could not read the network settings", exc_info=True)
            return
        if settings.generation == self._applied_generation:
            return
        if settings.refuse and self._listener is not None:
            self._close_listener()
        elif not settings.refuse and self._listener is None:
            try:
                self._open_listener()
            except OSError:
                log.warning("could not reopen port %s; retrying", self.port, exc_info=True)
                return
        self._network = settings
        self._drop_idle_connections()
        self._applied_generation = settings.generation
        self.emulator.network.acknowledge(settings.generation)

    def _drop_idle_connections(self, limit: int | None = None) -> None:
        """Close keep-alive connections waiting for a request: after a network switch (a
        pooled connection must not slip past a refusal or a new certificate), or one at a
        time when every worker is taken. Clients open a new connection for their next call."""
        with self._lock:
            idle = [h for h in self._handlers if h.idle][:limit]
        for handler in idle:
            sock = getattr(handler, "connection", None)
            if sock is not None:
                _raw_shutdown(sock)

    # --- one connection ----------------------------------------------------------------

    def _serve_connection(self, sock: socket.socket, address: Any) -> None:
        with self._lock:
            self._sockets.add(sock)
        try:
            sock.setblocking(True)
            sock.settimeout(HANDSHAKE_TIMEOUT)
            wrong = self.emulator.network.settings().wrong_certificate
            try:
                tls = self._contexts[wrong].wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                _reset(sock)
                return
            with self._lock:
                self._sockets.discard(sock)
                self._sockets.add(tls)
            handler: _Handler | None = None
            try:
                handler = _Handler.__new__(_Handler)
                handler.idle = True
                with self._lock:
                    self._handlers.add(handler)
                _Handler.__init__(handler, tls, address, self)
            except Exception:
                log.debug("connection from %s ended with an error", address, exc_info=True)
            finally:
                with self._lock:
                    if handler is not None:
                        self._handlers.discard(handler)
                    self._sockets.discard(tls)
                with contextlib.suppress(OSError):
                    tls.close()
        finally:
            with self._lock:
                self._sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()
            self._slots.release()
