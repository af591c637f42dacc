"""The CSAT link is the customer's only key: it cannot be guessed, a wrong one says nothing, and
holding one opens that survey and nothing else.

There is no rate limit on wrong tokens: a token is 256 random bits, so at a million guesses a
second an attacker expects to find one of 10^6 live surveys after ~10^64 years; counting would
only add a cache write to every request (docs/security.md).
"""

import secrets
import string

import pytest
from django.test import Client

from tests.factories import CsatSurveyFactory, MessageFactory
from tickets.models import CsatSurvey

pytestmark = pytest.mark.django_db

URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def test_tokens_are_long_random_and_share_no_structure():
    tokens = [CsatSurveyFactory().token for _ in range(200)]

    assert len(set(tokens)) == len(tokens)
    assert all(len(t) >= 43 and set(t) <= URL_SAFE for t in tokens)  # 43 chars ≥ 256 bits
    # A counter, a timestamp or a hash of the ticket id would repeat characters at some position
    # across surveys made one after another; 200 random draws of 64 symbols show > 40 each
    # (the 43rd character carries the last 4 bits only).
    for position in range(42):
        assert len({t[position] for t in tokens}) > 40, position


def test_a_wrong_token_is_a_404_that_looks_like_every_other_wrong_token(client):
    survey = CsatSurveyFactory()
    expired = CsatSurveyFactory(expires_at=survey.sent_at)
    real = survey.token
    wrong = [
        secrets.token_urlsafe(32),  # well formed
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
        real[:20],  # a prefix
        real + "x",  # longer
        real.upper() if real.upper() != real else real.lower(),  # another case
        "x" * 65,  # over the column's length
        "1",
        "%00",
    ]

    answers = [client.get(f"/csat/{token}/") for token in wrong]

    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1, "a wrong token's page differs from another's"
    assert client.get(f"/csat/{real}/").status_code == 200
    assert client.get(f"/csat/{expired.token}/").status_code == 410  # only for the link holder


def test_posting_to_a_wrong_token_records_nothing(client):
    survey = CsatSurveyFactory()

    response = client.post(f"/csat/{secrets.token_urlsafe(32)}/", {"score": "1"})

    assert response.status_code == 404
    assert not CsatSurvey.objects.filter(score__isnull=False).exists()
    survey.refresh_from_db()
    assert survey.score is None


def test_the_survey_page_shows_its_own_ticket_and_nothing_of_the_conversation():
    survey = CsatSurveyFactory(ticket__subject="Where is my tote?")
    MessageFactory(ticket=survey.ticket, note=True, body="Internal: customer is a known abuser")
    MessageFactory(ticket=survey.ticket, reply=True, body="Refund approved by Dana")
    other = CsatSurveyFactory(ticket__subject="A different customer's parcel")

    html = Client().get(f"/csat/{survey.token}/").content.decode()

    assert "Where is my tote?" in html
    assert "known abuser" not in html and "Refund approved" not in html
    assert survey.ticket.customer.email not in html
    assert other.ticket.subject not in html
