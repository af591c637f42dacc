"""The public CSAT page: GET shows the form, only POST records; one answer per ticket."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import CsatSurveyFactory
from tickets import signals
from tickets.models import CsatSurvey, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    return CsatSurveyFactory(ticket__subject="Where is my tote?")


def url(survey) -> str:
    return f"/csat/{survey.token}/"


def test_opening_the_link_shows_the_form_and_records_nothing(client, survey):
    for _ in range(3):  # a mail scanner, a link preview, the customer
        response = client.get(url(survey))
        assert response.status_code == 200
        assert b"How did we do?" in response.content and b"Where is my tote?" in response.content
    assert client.head(url(survey)).status_code == 200

    survey.refresh_from_db()
    assert survey.score is None and survey.answered_at is None
    assert not TicketEvent.objects.filter(kind="csat_submitted").exists()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"


def test_submitting_records_the_score_and_comment_through_the_service(client, survey):
    heard = []
    signals.csat_submitted.connect(
        lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="test-csat"
    )
    try:
        response = client.post(url(survey), {"score": "4", "comment": "Quick, thanks!"})
    finally:
        signals.csat_submitted.disconnect(dispatch_uid="test-csat")

    assert response.status_code == 302 and response["Location"] == f"{url(survey)}?thanks=1"
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "Quick, thanks!") and survey.answered_at
    assert TicketEvent.objects.get(kind="csat_submitted").data == {"score": 4}
    assert len(heard) == 1, "csat_submitted fires (outbound webhooks follow it)"
    thanks = client.get(response["Location"])
    assert b"Thank you!" in thanks.content and b"4 out of 5" in thanks.content


def test_a_second_answer_before_the_link_expires_replaces_the_first(client, survey):
    client.post(url(survey), {"score": "2"})
    client.post(url(survey), {"score": "5", "comment": "Sorted out after all"})

    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "Sorted out after all")
    assert CsatSurvey.objects.count() == 1
    page = client.get(url(survey)).content.decode()
    assert "Update my answer" in page and 'value="5" required checked' in page


def test_after_the_deadline_the_link_says_expired_and_refuses(client, survey):
    CsatSurvey.objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    page = client.get(url(survey))
    refused = client.post(url(survey), {"score": "5"})

    assert page.status_code == 410 and b"This survey has expired" in page.content
    assert refused.status_code == 410
    survey.refresh_from_db()
    assert survey.score is None


def test_a_survey_without_an_expiry_of_its_own_closes_seven_days_after_it_was_sent(client):
    survey = CsatSurveyFactory(expires_at=None, sent_at=timezone.now() - timedelta(days=8))

    assert client.post(url(survey), {"score": "3"}).status_code == 410


def test_an_unknown_or_overlong_token_is_404(client, survey):
    assert client.get("/csat/not-a-real-token/").status_code == 404
    assert client.get(f"/csat/{'x' * 200}/").status_code == 404
    assert client.post("/csat/not-a-real-token/", {"score": "5"}).status_code == 404


def test_tokens_are_unguessable(survey):
    other = CsatSurveyFactory()
    assert len(survey.token) >= 43 and survey.token != other.token


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "4\x00"])
def test_a_score_outside_1_to_5_is_refused(client, survey, score):
    response = client.post(url(survey), {"score": score})

    assert response.status_code == 400
    survey.refresh_from_db()
    assert survey.score is None


def test_the_form_is_csrf_protected(survey):
    client = Client(enforce_csrf_checks=True)

    assert client.post(url(survey), {"score": "5"}).status_code == 403
    token = client.get(url(survey)).cookies["csrftoken"].value
    response = client.post(url(survey), {"score": "5", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_the_score_shows_on_the_ticket_page(client, agent_client, survey):
    client.post(url(survey), {"score": "5", "comment": "Lovely"})

    html = agent_client.get(f"/inbox/tickets/{survey.ticket_id}/").content.decode()

    assert "CSAT 5/5" in html and "Lovely" in html and "Customer rated the support 5/5" in html
