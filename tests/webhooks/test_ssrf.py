"""The SSRF guard: URL syntax, then every resolved address must be globally routable."""

import socket

import pytest

from webhooks.ssrf import DNSError, UnsafeDestination, check_url, resolve_safe

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def fake_dns(monkeypatch):
    """Names in the dict resolve to the given addresses; everything else resolves for real."""
    answers: dict[str, list[str] | Exception] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answer = answers[host]
        if isinstance(answer, Exception):
            raise answer
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture(autouse=True)
def _strict(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = False


REFUSED = [
    ("127.0.0.1", "loopback"),
    ("localhost", "loopback"),
    ("0177.0.0.1", "loopback"),  # octal: ipaddress rejects it, getaddrinfo says 127.0.0.1
    ("2130706433", "loopback"),  # a 32-bit integer
    ("0x7f.1", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "IPv4-mapped"),  # is_loopback is False for this on 3.11
    ("[::ffff:a9fe:a9fe]", "IPv4-mapped"),  # 169.254.169.254, mapped
    ("[2002:7f00:1::1]", "embedding 127.0.0.1"),  # 6to4 around loopback
    ("10.0.0.1", "private"),
    ("192.168.1.1", "private"),
    ("172.16.0.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),  # neither private nor global
    ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("[::]", "unspecified"),
    ("[fe80::1]", "link-local"),
    ("[fd00::1]", "private"),
    ("198.18.0.1", "benchmarking"),
    ("240.0.0.1", "reserved"),
]


@pytest.mark.parametrize(("host", "why"), REFUSED)
def test_non_public_destinations_are_refused(host, why):
    with pytest.raises(UnsafeDestination) as excinfo:
        check_url(f"https://{host}/hook")
    message = str(excinfo.value)
    assert why in message
    assert message.startswith("Refusing to send webhooks to ")
    assert "WEBHOOK_ALLOWED_HOSTS" in message


def test_message_names_the_address_a_name_resolved_to():
    with pytest.raises(UnsafeDestination, match=r"'localhost': it resolves to 127\.0\.0\.1"):
        check_url("https://localhost/hook")


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hook", "https://[2001:4860:4860::8888]:8443/x?y=1", "https://1.1.1.1"]
)
def test_public_addresses_pass(url):
    check_url(url)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://8.8.8.8/hook", "must use https://"),
        ("ftp://8.8.8.8/hook", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("8.8.8.8/hook", "must start with https://"),
        ("https://user:pass@8.8.8.8/hook", "user name or password"),
        ("https://user@8.8.8.8/hook", "user name or password"),
        ("https:///hook", "no host"),
        ("https://8.8.8.8:0/hook", "between 1 and 65535"),
        ("https://8.8.8.8:70000/hook", "not valid"),
        ("https://8.8.8.8:http/hook", "not valid"),
        ("https://[::1/hook", "not valid"),
        ("https://exa mple.com/", "spaces"),
        ("https://evil.example\\@8.8.8.8/", "'\\'"),
        ("", "Enter a URL"),
    ],
)
def test_syntax(url, error):
    with pytest.raises(UnsafeDestination) as excinfo:
        check_url(url)
    assert error in str(excinfo.value)


def test_http_only_when_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    check_url("http://8.8.8.8/hook")
    with pytest.raises(UnsafeDestination, match="must start with https:// or http://"):
        check_url("ftp://8.8.8.8/hook")


def test_http_refused_even_for_an_allowed_host(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(UnsafeDestination, match="must use https://"):
        check_url("http://127.0.0.1:8000/hook")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "0177.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "127.9.9.9"],
)
def test_allowed_network_admits_every_spelling(settings, host):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    check_url(f"https://{host}:8443/hook")


def test_allowed_address_is_exact(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    check_url("https://0177.0.0.1/hook")
    assert resolve_safe("[::ffff:127.0.0.1]", 443) == ["::ffff:127.0.0.1"]
    with pytest.raises(UnsafeDestination):
        check_url("https://127.0.0.2/hook")
    with pytest.raises(UnsafeDestination):
        check_url("https://[::1]/hook")


def test_allowed_ipv6_and_cidr(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["::1", "10.0.0.0/8", "[fd00::/8]"]
    assert resolve_safe("::1", 443) == ["::1"]
    assert resolve_safe("[::1]", 443) == ["::1"]
    assert resolve_safe("10.1.2.3", 443) == ["10.1.2.3"]
    assert resolve_safe("fd00::5", 443) == ["fd00::5"]
    with pytest.raises(UnsafeDestination):
        resolve_safe("192.168.1.1", 443)


def test_allowed_host_name_admits_its_addresses_but_not_the_address_itself(settings, fake_dns):
    fake_dns["crm.internal"] = ["10.0.0.7"]
    settings.WEBHOOK_ALLOWED_HOSTS = ["CRM.internal."]
    assert resolve_safe("crm.internal", 443) == ["10.0.0.7"]
    check_url("https://crm.internal/hook")
    with pytest.raises(UnsafeDestination):
        check_url("https://10.0.0.7/hook")


def test_every_address_must_be_public(fake_dns):
    # A DNS answer with one public and one private address is refused as a whole.
    fake_dns["mixed.example"] = ["93.184.215.14", "10.0.0.1"]
    with pytest.raises(UnsafeDestination, match=r"10\.0\.0\.1, which is a private"):
        resolve_safe("mixed.example", 443)
    fake_dns["mixed6.example"] = ["93.184.215.14", "::1"]
    with pytest.raises(UnsafeDestination, match="loopback"):
        resolve_safe("mixed6.example", 443)


def test_returns_checked_addresses_ipv4_first_without_duplicates(fake_dns):
    fake_dns["hooks.example"] = ["2606:4700::1", "93.184.215.14", "93.184.215.14", "1.1.1.1"]
    assert resolve_safe("hooks.example", 443) == ["93.184.215.14", "1.1.1.1", "2606:4700::1"]
    assert resolve_safe("HOOKS.example.", 443) == ["93.184.215.14", "1.1.1.1", "2606:4700::1"]


def test_dns_failure_is_a_clear_unsafe_destination(fake_dns):
    fake_dns["gone.example"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(DNSError, match=r"Could not resolve the host 'gone\.example'") as excinfo:
        check_url("https://gone.example/hook")
    assert isinstance(excinfo.value, UnsafeDestination)


def test_nat64_and_teredo_are_unwrapped():
    with pytest.raises(UnsafeDestination):
        resolve_safe("64:ff9b::a9fe:a9fe", 443)  # NAT64 of 169.254.169.254
    with pytest.raises(UnsafeDestination):
        resolve_safe("2001:0:4136:e378:8000:63bf:80ff:fffe", 443)  # Teredo, client 127.0.0.1
