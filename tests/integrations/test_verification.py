from integrations.shopify.verification import sign, verify

VECTOR = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="


def test_the_signature_matches_shopifys_known_answer():
    assert sign("test_secret_key", b'{"foo": "bar"}') == VECTOR
    assert verify(["test_secret_key"], b'{"foo": "bar"}', VECTOR)


def test_a_changed_body_or_secret_does_not_verify():
    assert not verify(["test_secret_key"], b'{"foo": "baz"}', VECTOR)
    assert not verify(["other"], b'{"foo": "bar"}', VECTOR)


def test_any_of_several_secrets_verifies_during_a_rotation():
    assert verify(["new-secret", "test_secret_key"], b'{"foo": "bar"}', VECTOR)


def test_garbage_headers_are_invalid_not_errors():
    for header in ("", "not base64!", "ünïcödé", "=" * 44, VECTOR[:-4], "hex" + "a" * 61):
        assert not verify(["test_secret_key"], b'{"foo": "bar"}', header)
