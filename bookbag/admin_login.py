"""The Django admin's sign-in, rate limited with the inbox's counters (bookbag.core.login_limits).

AdminSite.login_form is the admin's supported hook: the limit is checked in clean(), before the
password is, so a locked-out attacker learns nothing more; the page shows the reason.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from bookbag.core import login_limits


class RateLimitedAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "rate_limited": login_limits.MESSAGE,
    }

    def clean(self):
        counters = login_limits.login_counters(self.request, self.data.get("username") or "")
        if login_limits.over_limit(counters):
            raise ValidationError(self.error_messages["rate_limited"], code="rate_limited")
        try:
            cleaned = super().clean()
        except ValidationError:
            # A right password for a non-staff account (an agent at the wrong door) is no guess.
            if self.user_cache is None:
                login_limits.count_failure(counters)
            raise
        login_limits.forget_username(counters)
        return cleaned
