"""One HTTP POST to a webhook receiver, safely.

- SSRF: the host is resolved and checked (``ssrf.resolve_safe``) on every send, and the TCP
  connection goes to the checked address itself (no second DNS lookup, so DNS rebinding can't
  swap it). The URL's host name is kept for the Host header, TLS SNI and certificate checks.
- No proxies from the environment, no redirects (a 3xx is just a failed attempt).
- One wall-clock deadline for the whole attempt: a watchdog shuts the socket down when it passes,
  so a receiver that drips its headers or body a byte at a time can't hold a worker.
- At most ``max_body`` bytes of the response are read.
- Nothing raises: every failure comes back as ``Result(status=None, error="…")``.

Why not ``requests.Session.send``: with ``allow_redirects=False`` it still reads the *whole* body
of a 3xx (to prepare ``response.next``), unbounded. So the pinned adapter is called directly,
with ``proxies={}`` (nothing is read from the environment: the same effect as
``session.trust_env = False``).
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError, NewConnectionError

from webhooks import ssrf

USER_AGENT = "Bookbag-Webhooks/1.0"
PIN_ATTRIBUTE = "bookbag_pinned_address"
_CHUNK = 16_384
_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass
class Result:
    status: int | None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    duration_ms: int = 0
    retry_after: float | None = None
    peer: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connect_timeout: float = 5.0,
    total_timeout: float = 15.0,
    max_body: int = 20_000,
    verify: bool | str = True,
) -> Result:
    """POST exactly ``body`` with ``headers`` to ``url``; never raises for network trouble.

    ``verify`` is requests' TLS setting (a CA bundle path for a private CA); keep it True.
    """
    started = time.monotonic()
    deadline = started + total_timeout

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        prepared = requests.Request(
            "POST", url, data=bytes(body), headers={"User-Agent": USER_AGENT, **headers}
        ).prepare()
        # The host and port exactly as the adapter will read them from the prepared URL.
        _scheme, host, port = ssrf.split_url(prepared.url or "")
        addresses = ssrf.resolve_safe(host, port)
    except ssrf.UnsafeDestination as exc:
        return Result(status=None, error=str(exc), duration_ms=elapsed_ms())
    except (requests.RequestException, ValueError) as exc:
        return Result(status=None, error=f"Invalid request: {exc}", duration_ms=elapsed_ms())

    result = Result(
        status=None, error=f"The {total_timeout:g} s deadline passed before connecting."
    )
    for index, address in enumerate(addresses):
        if time.monotonic() >= deadline:
            break
        result, could_not_connect = _attempt(
            prepared,
            address,
            port,
            deadline=deadline,
            total_timeout=total_timeout,
            connect_timeout=connect_timeout,
            max_body=max_body,
            verify=verify,
        )
        # Only a failure to connect moves on to the host's next address (nothing was sent).
        if not could_not_connect or index == len(addresses) - 1:
            break
    result.duration_ms = elapsed_ms()
    return result


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- the attempt -------------------------------------------------------------------------------


def _attempt(
    prepared: requests.PreparedRequest,
    address: str,
    port: int,
    *,
    deadline: float,
    total_timeout: float,
    connect_timeout: float,
    max_body: int,
    verify: bool | str,
) -> tuple[Result, bool]:
    """Send to one checked address: ``(result, could_not_connect)``."""
    request = prepared.copy()
    setattr(request, PIN_ATTRIBUTE, address)
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    remaining = max(deadline - time.monotonic(), 0.001)
    late = f"No complete answer within the {total_timeout:g} s deadline"
    watchdog = _Watchdog(remaining)
    _local.watchdog = watchdog
    response = None
    try:
        watchdog.start()
        try:
            response = _adapter().send(
                request,
                stream=True,
                timeout=(min(connect_timeout, remaining), remaining),
                verify=verify,
                proxies={},
            )
        except requests.exceptions.ConnectTimeout:
            if watchdog.finish():
                return _failed(f"{late} (connecting to {where}).", address)
            return _failed(
                f"Could not connect to {where} within {connect_timeout:g} s.", address, True
            )
        except requests.exceptions.SSLError as exc:
            if watchdog.finish():
                return _failed(f"{late} (during the TLS handshake with {where}).", address)
            return _failed(f"TLS error with {where}: {_reason(exc)}.", address)
        except requests.exceptions.ReadTimeout:
            watchdog.finish()
            return _failed(f"{late}: {where} sent no response.", address)
        except requests.exceptions.ConnectionError as exc:
            if watchdog.finish():
                return _failed(f"{late} from {where}.", address)
            if _is_connect_failure(exc):
                return _failed(f"Could not connect to {where}: {_reason(exc)}.", address, True)
            return _failed(f"The connection to {where} failed: {_reason(exc)}.", address)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as e:
            if watchdog.finish():
                return _failed(f"{late} from {where}.", address)
            return _failed(f"The request to {where} failed: {_reason(e)}.", address)

        status = response.status_code
        response_headers = dict(response.headers)
        chunks: list[bytes] = []
        size = 0
        complete = False
        broken = ""
        try:
            while size < max_body:
                chunk = response.raw.read1(min(_CHUNK, max_body - size), decode_content=False)
                if not chunk:
                    complete = True
                    break
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() >= deadline:
                    break
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError) as e:
            broken = _reason(e)
        timed_out = watchdog.finish() or (not complete and time.monotonic() >= deadline)
        data = b"".join(chunks)[:max_body]
        result = Result(
            status=status,
            body=data.decode("utf-8", errors="replace"),
            headers=response_headers,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            peer=address,
        )
        if timed_out:
            result.status = None
            result.error = (
                f"{late}: {where} answered HTTP {status} but was still sending the body "
                f"({size} bytes read)."
            )
        elif broken:
            result.status = None
            result.error = (
                f"The connection to {where} broke while reading the HTTP {status} response "
                f"body: {broken}."
            )
        if complete and not timed_out and not broken:
            response.raw.release_conn()  # fully read: the connection can be kept alive
        return result, False
    finally:
        watchdog.finish()
        _local.watchdog = None
        if response is not None:
            response.close()


def _failed(error: str, address: str, could_not_connect: bool = False) -> tuple[Result, bool]:
    return Result(status=None, error=error, peer=address), could_not_connect


def _is_connect_failure(exc: BaseException) -> bool:
    """True when no connection was made (so nothing was sent and the next address can be tried)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        current = _inner(current)
    return False


def _inner(exc: BaseException) -> BaseException | None:
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        return exc.reason
    for arg in exc.args:
        if isinstance(arg, BaseException):
            return arg
    return exc.__cause__ or exc.__context__


def _reason(exc: BaseException) -> str:
    """The innermost readable cause: "Connection refused", "certificate verify failed: …"."""
    seen: set[int] = set()
    current: BaseException | None = exc
    best = str(exc)
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssrf.UnsafeDestination):
            return str(current)
        if isinstance(current, OSError) and not isinstance(current, socket.timeout):
            verify_message = getattr(current, "verify_message", None)
            if verify_message:
                return f"certificate verify failed: {verify_message}"
            if current.strerror:
                return current.strerror
        text = str(current)
        if text:
            best = text
        current = _inner(current)
    return best


# --- the pinned connection ---------------------------------------------------------------------


class _Watchdog:
    """Shuts the attempt's socket down at the deadline, waking any blocked read or write."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._conn = None
        self._done = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def attach(self, conn) -> None:
        with self._lock:
            self._conn = conn

    def finish(self) -> bool:
        """Stop watching; True if the deadline had already passed."""
        with self._lock:
            self._done = True
        self._timer.cancel()
        return self.fired

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sock = getattr(self._conn, "sock", None)
            if sock is not None:
                # The plain socket's shutdown, even for TLS: no TLS close_notify dance.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_local = threading.local()


class _WatchedPoolMixin:
    def _make_request(self, conn, *args, **kwargs):
        watchdog = getattr(_local, "watchdog", None)
        if watchdog is not None:
            watchdog.attach(conn)
        return super()._make_request(conn, *args, **kwargs)


class _HTTPPool(_WatchedPoolMixin, HTTPConnectionPool):
    pass


class _HTTPSPool(_WatchedPoolMixin, HTTPSConnectionPool):
    pass


class PinnedAdapter(HTTPAdapter):
    """Connects to the address stored on the request (``PIN_ATTRIBUTE``), never to a fresh DNS
    answer for the URL's host, while TLS (SNI and the certificate check) and the Host header
    still use the URL's host name.

    The pool key is (scheme, pinned address, port, server_hostname, assert_hostname, TLS
    settings): keep-alive connections are reused only for the same host name and address.
    """

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pinned = getattr(request, PIN_ATTRIBUTE, None)
        if not pinned:
            # A ValueError becomes requests' InvalidURL: refuse rather than resolve again.
            raise ValueError("no checked address to connect to (ssrf.resolve_safe first)")
        hostname = host_params["host"]
        host_params["host"] = pinned
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = hostname
            pool_kwargs["assert_hostname"] = hostname
        return host_params, pool_kwargs

    def send(self, request, *args, **kwargs):
        request.headers["Host"] = _host_header(request.url)
        return super().send(request, *args, **kwargs)


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme.lower() == "https" else 80
    if parts.port is not None and parts.port != default:
        host = f"{host}:{parts.port}"
    return host


def _adapter() -> PinnedAdapter:
    """One adapter (and keep-alive pool) per thread and process: never shared across a fork."""
    adapter = getattr(_local, "adapter", None)
    if adapter is None or getattr(_local, "pid", None) != os.getpid():
        adapter = PinnedAdapter(max_retries=0)
        _local.adapter = adapter
        _local.pid = os.getpid()
    return adapter
