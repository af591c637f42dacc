"""transport.post against real receivers on 127.0.0.1 (pytest-httpserver and raw sockets)."""

import contextlib
import datetime
import socket
import ssl
import threading
import time
from email.utils import format_datetime

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pytest_httpserver import HTTPServer

from webhooks import transport
from webhooks.transport import PIN_ATTRIBUTE, PinnedAdapter, parse_retry_after, post

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def fake_dns(monkeypatch):
    """``answers[name] = [first answer, later answers]``; records every lookup of those names."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        lookups.append(host)
        answer = answers[host][0] if lookups.count(host) == 1 else answers[host][-1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def url(httpserver, path="/hook", host="127.0.0.1"):
    return f"http://{host}:{httpserver.port}{path}"


# --- delivery ---------------------------------------------------------------------------------


def test_delivers_exact_bytes_and_headers(loopback, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data(
        "thanks", headers={"X-Receiver": "yes"}
    )
    body = b'{"z":1,"a":"caf\xc3\xa9","n":  null}\n'
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "webhook-signature": "v1,abc=",
    }
    for _ in range(2):  # the second send reuses the kept-alive connection
        result = post(url(httpserver), body, headers)
        assert result.status == 200
        assert result.error == ""
        assert result.body == "thanks"
        assert result.headers["X-Receiver"] == "yes"
        assert result.peer == "127.0.0.1"
        assert result.ok
        assert result.duration_ms >= 0
    assert len(httpserver.log) == 2
    request = httpserver.log[0][0]
    assert request.get_data() == body
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["webhook-signature"] == "v1,abc="
    assert request.headers["Content-Length"] == str(len(body))
    assert request.headers["Host"] == f"127.0.0.1:{httpserver.port}"
    assert request.headers["User-Agent"] == transport.USER_AGENT


def test_connects_to_the_checked_address_without_a_second_lookup(settings, httpserver, fake_dns):
    """DNS rebinding: the name answers 127.0.0.1 (allowed) once, then an unroutable address.
    The connection still goes to 127.0.0.1, and the Host header keeps the name."""
    answers, lookups = fake_dns
    answers["hooks.example.test"] = [["127.0.0.1"], ["10.255.255.1"]]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = True
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver, host="hooks.example.test"), b"{}", {}, connect_timeout=1)
    assert (result.status, result.error, result.peer) == (200, "", "127.0.0.1")
    assert lookups == ["hooks.example.test"]
    assert httpserver.log[0][0].headers["Host"] == f"hooks.example.test:{httpserver.port}"


def test_next_address_is_tried_when_one_refuses_connections(settings, httpserver, fake_dns):
    answers, _ = fake_dns
    answers["two.example.test"] = [["127.0.0.2", "127.0.0.1"]]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver, host="two.example.test"), b"{}", {})
    assert (result.status, result.peer) == (200, "127.0.0.1")


# --- refused destinations -------------------------------------------------------------------


@pytest.fixture
def no_connection(monkeypatch):
    def send(*args, **kwargs):
        raise AssertionError("a refused destination must not be connected to")

    monkeypatch.setattr(PinnedAdapter, "send", send)


LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "0177.0.0.1",
    "2130706433",
    "0x7f.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_refused_unless_allowed(strict, httpserver, host):
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver, host=host), b"{}", {})
    assert result.status is None
    assert "Refusing to send webhooks to" in result.error
    assert "loopback" in result.error
    assert httpserver.log == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "0177.0.0.1", "2130706433", "[::ffff:127.0.0.1]"]
)
def test_loopback_delivered_when_allowed(loopback, httpserver, host):
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver, host=host), b"{}", {})
    assert (result.status, result.error) == (200, "")
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "[fe80::1]",
    ],
)
def test_private_and_special_addresses_refused_without_connecting(strict, no_connection, host):
    result = post(f"http://{host}/hook", b"{}", {})
    assert result.status is None
    assert result.error.startswith("Refusing to send webhooks to")
    assert result.peer == ""


def test_http_refused_unless_allowed(settings, httpserver):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = False
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver), b"{}", {})
    assert result.status is None
    assert "https://" in result.error
    assert httpserver.log == []


def test_userinfo_refused(loopback, httpserver, no_connection):
    result = post(f"http://user:pw@127.0.0.1:{httpserver.port}/hook", b"{}", {})
    assert result.status is None
    assert "user name or password" in result.error


def test_unpinned_request_is_refused_by_the_adapter():
    request = requests.Request("POST", "https://hooks.example.com/x", data=b"x").prepare()
    with pytest.raises(requests.exceptions.InvalidURL, match="no checked address"):
        PinnedAdapter().get_connection_with_tls_context(request, verify=True, proxies={})


# --- responses --------------------------------------------------------------------------------


def test_redirect_is_not_followed(loopback, httpserver):
    httpserver.expect_request("/hook").respond_with_data(
        "moved", status=302, headers={"Location": httpserver.url_for("/target")}
    )
    httpserver.expect_request("/target").respond_with_data("should not be reached")
    result = post(url(httpserver), b"{}", {})
    assert result.status == 302
    assert result.error == ""
    assert not result.ok
    assert result.headers["Location"].endswith("/target")
    assert [req.path for req, _ in httpserver.log] == ["/hook"]


def test_huge_body_is_truncated(loopback, httpserver):
    httpserver.expect_request("/hook").respond_with_data(b"x" * 1_000_000)
    result = post(url(httpserver), b"{}", {})
    assert (result.status, result.error) == (200, "")
    assert result.body == "x" * 20_000
    result = post(url(httpserver), b"{}", {}, max_body=10)
    assert result.body == "x" * 10


def test_body_is_decoded_with_replacement(loopback, httpserver):
    httpserver.expect_request("/hook").respond_with_data(b"ok \xff\xfe caf\xc3\xa9", status=500)
    result = post(url(httpserver), b"{}", {})
    assert result.status == 500
    assert result.body == "ok \ufffd\ufffd café"


def test_retry_after_seconds(loopback, httpserver):
    httpserver.expect_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    result = post(url(httpserver), b"{}", {})
    assert result.status == 429
    assert result.retry_after == 120
    assert result.body == "slow down"


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=300)
    assert 295 <= parse_retry_after(format_datetime(later, usegmt=True)) <= 300
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


# --- network failures never raise -----------------------------------------------------------


def test_connection_refused_is_an_error_not_an_exception(loopback):
    result = post(f"http://127.0.0.1:{closed_port()}/hook", b"{}", {})
    assert result.status is None
    assert "Connection refused" in result.error
    assert result.peer == "127.0.0.1"


def test_proxy_variables_are_ignored(loopback, httpserver, monkeypatch):
    dead = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = post(url(httpserver), b"{}", {})
    assert (result.status, result.error) == (200, "")
    assert len(httpserver.log) == 1


@contextlib.contextmanager
def raw_server(behaviour):
    """A TCP server on 127.0.0.1 that reads the request, then runs ``behaviour(conn, stop)``."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve(conn):
        with conn:
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                behaviour(conn, stop)

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(1)
        listener.close()


def drip_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.is_set():
        conn.sendall(b"x")
        stop.wait(0.5)


def drip_headers(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for byte in b"X-Slow: " + b"a" * 1000:
        if stop.wait(0.2):
            return
        conn.sendall(bytes([byte]))


def silent(conn, stop):
    stop.wait(10)


def test_slow_dripping_body_is_cut_at_the_deadline(loopback):
    with raw_server(drip_body) as port:
        started = time.monotonic()
        result = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, total_timeout=1.5)
        elapsed = time.monotonic() - started
    assert result.status is None
    assert "deadline" in result.error
    assert "HTTP 200" in result.error
    assert 1.4 <= elapsed < 2.2
    assert 1 <= len(result.body) <= 4


@pytest.mark.parametrize("behaviour", [drip_headers, silent])
def test_slow_headers_are_cut_at_the_deadline(loopback, behaviour):
    with raw_server(behaviour) as port:
        started = time.monotonic()
        result = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, total_timeout=1.0)
        elapsed = time.monotonic() - started
    assert result.status is None
    assert "deadline" in result.error
    assert 0.9 <= elapsed < 1.7


# --- TLS: connect to the pinned address, verify the certificate for the host name ----------


def test_https_pool_is_pinned_and_keeps_the_host_name_for_tls():
    adapter = PinnedAdapter()
    request = requests.Request("POST", "https://Hooks.Example.com:8443/x", data=b"x").prepare()
    setattr(request, PIN_ATTRIBUTE, "203.0.113.9")
    pool = adapter.get_connection_with_tls_context(request, verify=True, proxies={})
    assert (pool.scheme, pool.host, pool.port) == ("https", "203.0.113.9", 8443)
    assert pool.conn_kw["server_hostname"] == "hooks.example.com"
    assert pool.assert_hostname == "hooks.example.com"
    assert pool.cert_reqs == "CERT_REQUIRED"

    setattr(request, PIN_ATTRIBUTE, "2001:db8::1")
    pool6 = adapter.get_connection_with_tls_context(request, verify=True, proxies={})
    assert pool6.host == "2001:db8::1"
    assert pool6 is not pool


def test_http_pool_is_pinned():
    adapter = PinnedAdapter()
    request = requests.Request("POST", "http://hooks.example.com/x", data=b"x").prepare()
    setattr(request, PIN_ATTRIBUTE, "203.0.113.9")
    pool = adapter.get_connection_with_tls_context(request, verify=True, proxies={})
    assert (pool.scheme, pool.host, pool.port) == ("http", "203.0.113.9", 80)


def _certificates(tmp_path, name):
    """A throwaway CA and a server certificate for ``name``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True,
        crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bookbag test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path = tmp_path / "server.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    ca_path, cert_path, key_path = _certificates(tmp_path, "hooks.example.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    seen_sni: list[str | None] = []
    context.sni_callback = lambda sock, server_name, ctx: seen_sni.append(server_name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    server.seen_sni = seen_sni
    server.ca_path = str(ca_path)
    yield server
    server.clear()
    server.stop()


def test_https_connects_to_the_address_and_verifies_the_host_name(settings, fake_dns, tls_server):
    answers, lookups = fake_dns
    answers["hooks.example.test"] = [["127.0.0.1"], ["10.255.255.1"]]
    answers["other.example.test"] = [["127.0.0.1"]]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = False
    tls_server.expect_request("/hook").respond_with_data("secure")
    port = tls_server.port

    result = post(f"https://hooks.example.test:{port}/hook", b"{}", {}, verify=tls_server.ca_path)
    assert (result.status, result.error, result.body) == (200, "", "secure")
    assert result.peer == "127.0.0.1"
    assert lookups == ["hooks.example.test"]
    assert tls_server.seen_sni == ["hooks.example.test"]
    assert tls_server.log[0][0].headers["Host"] == f"hooks.example.test:{port}"

    # Same address, another name: the certificate doesn't match, so nothing is sent.
    result = post(f"https://other.example.test:{port}/hook", b"{}", {}, verify=tls_server.ca_path)
    assert result.status is None
    assert "TLS error" in result.error
    assert "other.example.test" in result.error
    assert len(tls_server.log) == 1

    # An untrusted certificate (the system CA bundle doesn't know our test CA).
    answers["hooks.example.test"] = [["127.0.0.1"]]
    result = post(f"https://hooks.example.test:{port}/hook", b"{}", {})
    assert result.status is None
    assert "certificate verify failed" in result.error
