from standardwebhooks import Webhook

from webhooks import signing


def test_the_signature_matches_the_standard_webhooks_known_answer():
    assert (
        signing.signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_new_secrets_are_whsec_with_32_random_bytes_and_verify():
    import base64
    import time

    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret != signing.new_secret()
    now = int(time.time())
    header = signing.signature_header([secret], "msg_1", now, b"{}")
    Webhook(secret).verify(
        b"{}", {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": header}
    )


def test_masking_shows_only_the_last_four_characters():
    assert signing.mask("whsec_abcdefgh1234") == "whsec_…1234"
