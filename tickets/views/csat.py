"""The public CSAT page (`/csat/<token>/`, no login): the customer rates 1 to 5 and may comment.

Opening the link only shows the form; mail scanners and link previews follow links, so a GET
never records anything. The answer is recorded by tickets.services.record_csat; a second answer
before the link expires replaces the first. After `expires_at` the page says so and refuses.
"""

import re
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from tickets import services
from tickets.forms import CsatForm
from tickets.models import CsatSurvey

ANSWER_WINDOW = timedelta(days=7)  # when a survey has no expires_at of its own
# What secrets.token_urlsafe draws from. Anything else is no token: it never reaches the
# database (a NUL would be a DataError, a 500, on PostgreSQL) and gets the same 404.
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def deadline(survey: CsatSurvey):
    return survey.expires_at or (survey.sent_at or survey.created_at) + ANSWER_WINDOW


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The token is the key: keep it out of search engines and other sites' logs. Not
    # "no-referrer": browsers then send `Origin: null` with the form and CSRF refuses it.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
def survey(request: HttpRequest, token: str) -> HttpResponse:
    survey = (
        CsatSurvey.objects.select_related("ticket__shop")
        .defer("ticket__shop__webhook_secret", "ticket__shop__previous_webhook_secret")
        .filter(token=token)
        .first()
        if TOKEN.fullmatch(token)
        else None
    )
    if survey is None:
        return _render(request, "csat/not_found.html", {}, status=404)
    shop = survey.ticket.shop
    context = {
        "survey": survey,
        "shop_name": shop.sender_name or shop.name or shop.domain,
        "deadline": deadline(survey),
    }
    if timezone.now() >= context["deadline"]:
        return _render(request, "csat/expired.html", context, status=410)
    if request.method == "POST":
        form = CsatForm(request.POST)
        if form.is_valid():
            services.record_csat(
                survey=survey,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
            return redirect(f"{request.path}?thanks=1")
        return _render(request, "csat/survey.html", {**context, "form": form}, status=400)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    initial = {"score": survey.score, "comment": survey.comment} if survey.score else {}
    context.update(form=CsatForm(initial=initial), thanks=bool(request.GET.get("thanks")))
    return _render(request, "csat/survey.html", context)
