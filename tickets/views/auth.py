"""Sign-in, sign-out and password reset: Django's views, with attempts rate limited.

Failed sign-ins are counted by bookbag.core.login_limits (per client address and username, and
per address alone; shared with the Django admin's sign-in); past the limit the form answers 429
until the window has passed without failures. Password-reset requests are limited per address
and still show the usual "check your email" page, so the limit reveals nothing.
"""

from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import HttpRequest, HttpResponse

from bookbag.core import login_limits

MAX_RESETS_PER_ADDRESS = 5


class InboxLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        self.counters = login_limits.login_counters(request, username)
        if login_limits.over_limit(self.counters):
            # Refused before the password is even checked; the form is shown again, unbound.
            form = self.form_class(request=request, initial={"username": username})
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_limits.count_failure(self.counters)
        return super().form_invalid(form)

    def form_valid(self, form):
        login_limits.forget_username(self.counters)
        return super().form_valid(form)


class InboxPasswordResetView(PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        address = login_limits.digest(login_limits.client_address(self.request))
        key = f"password-reset:{address}"
        if login_limits.over_limit({key: MAX_RESETS_PER_ADDRESS}):
            return super(PasswordResetView, self).form_valid(form)  # no email; same answer
        login_limits.count_failure([key])
        return super().form_valid(form)
