"""Sign-in, sign-out and password reset: Django's views, with attempts rate limited.

Failed sign-ins are counted in the shared cache per client address and username (and per
address alone, against spraying many usernames); past the limit the form answers 429 until
the window has passed without failures. Password-reset requests are limited per address and
still show the usual "check your email" page, so the limit reveals nothing.
"""

import hashlib

from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 30
MAX_RESETS_PER_ADDRESS = 5


def _client(request: HttpRequest) -> str:
    # REMOTE_ADDR: behind a proxy it is the proxy's address, unless the proxy rewrites it
    # (X-Forwarded-For is not trusted: any client can send one).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _keys(request: HttpRequest, username: str) -> dict[str, int]:
    client = _digest(_client(request))
    return {
        f"inbox:login:{client}:{_digest(username.strip().lower())}": MAX_FAILURES_PER_USERNAME,
        f"inbox:login:{client}": MAX_FAILURES_PER_ADDRESS,
    }


def _over(counters: dict[str, int]) -> bool:
    values = cache.get_many(list(counters))
    return any(values.get(key, 0) >= limit for key, limit in counters.items())


def _count(keys) -> None:
    # get + set (not incr): the window restarts with each failure on every cache backend alike.
    values = cache.get_many(list(keys))
    cache.set_many({key: values.get(key, 0) + 1 for key in keys}, WINDOW_SECONDS)


class InboxLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.counters = _keys(request, request.POST.get("username", "")[:150])
        if _over(self.counters):
            # Refused before the password is even checked; the form is shown again, unbound.
            form = self.form_class(
                request=request, initial={"username": request.POST.get("username", "")[:150]}
            )
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _count(self.counters)
        return super().form_invalid(form)

    def form_valid(self, form):
        per_username = next(iter(self.counters))
        cache.delete(per_username)  # the per-address count stays: it limits spraying
        return super().form_valid(form)


class InboxPasswordResetView(PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        key = f"inbox:reset:{_digest(_client(self.request))}"
        if _over({key: MAX_RESETS_PER_ADDRESS}):
            return super(PasswordResetView, self).form_valid(form)  # no email; same answer
        _count([key])
        return super().form_valid(form)
