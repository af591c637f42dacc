"""Coverage-guided fuzzing of the Shopify receiver with atheris, as a bounded CI run: the
harness (tests/security/atheris_receiver.py) runs in its own process against this test's
database, starting from the captured Shopify payloads, and fails on a 5xx, an exception, or a
row stored without a valid signature. Longer runs: raise FUZZ_RUNS / FUZZ_SECONDS."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from integrations.models import InboundWebhook
from tests.api.test_schemathesis import database_url_for_subprocess
from tests.factories import ShopFactory
from tests.integrations.shopify import FIXTURES

HARNESS = Path(__file__).with_name("atheris_receiver.py")
RUNS = int(os.environ.get("FUZZ_RUNS", "1000"))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "20"))


def seed_corpus(directory: Path) -> None:
    """Each captured payload, signed (flags 0x80 + topic) and unsigned."""
    for index, path in enumerate(sorted(FIXTURES.glob("*.json"))):
        body = path.read_bytes()
        (directory / f"{path.stem}-signed").write_bytes(bytes([0x80 | index]) + body)
        (directory / f"{path.stem}-forged").write_bytes(bytes([index]) + body)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_coverage_guided_fuzzing_finds_no_crash(tmp_path):
    try:
        import atheris  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("atheris is not installed: pip install -e '.[dev]'")
        pytest.skip("atheris is not installed (Linux x86_64 wheels only)")
    shop = ShopFactory(domain="atheris.myshopify.com", webhook_secret="atheris-secret")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed_corpus(corpus)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "CACHE_URL": "locmemcache://",
        "FUZZ_SHOP_DOMAIN": shop.domain,
        "FUZZ_SHOP_SECRET": shop.webhook_secret,
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)  # the harness drains the ORM queue itself

    result = subprocess.run(
        [sys.executable, str(HARNESS), f"-runs={RUNS}", f"-max_total_time={SECONDS}",
         "-max_len=20000", "-rss_limit_mb=1024", f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=SECONDS + 120,
        check=False,
    )  # fmt: skip

    output = result.stdout + result.stderr
    (tmp_path / "atheris.out").write_text(output)
    assert result.returncode == 0, output[-10_000:]
    assert "Done" in output, output[-3_000:]
    assert InboundWebhook.objects.filter(shop=shop).exists(), "nothing signed got through"
