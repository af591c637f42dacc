"""Content-Security-Policy on every response (Django 5.2 has none built in).

The inbox, sign-in and CSAT pages load only their own files from static/inbox/: no inline script,
no inline style, no other origin. Injected markup (a customer's message that escaped escaping)
can then neither run a script nor send data anywhere. Two parts of the site need more:
- the Django admin: our console helpers style a few elements inline (raw bodies in <pre>, tag
  swatches), so inline *styles* are allowed there; scripts stay same-origin only;
- the API docs (Swagger UI, Redoc, served from drf-spectacular-sidecar): inline styles, data:
  images, and Redoc's blob: worker.

The other security headers come from Django's SecurityMiddleware and XFrameOptionsMiddleware
(settings: X_FRAME_OPTIONS, SECURE_REFERRER_POLICY, SECURE_CONTENT_TYPE_NOSNIFF, SECURE_HSTS_*).
"""

from django.http import HttpRequest, HttpResponse


def _policy(**directives: str) -> str:
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


STRICT = {
    "default_src": "'self'",
    "script_src": "'self'",
    "style_src": "'self'",
    "img_src": "'self'",
    "font_src": "'self'",
    "connect_src": "'self'",
    "object_src": "'none'",
    "base_uri": "'none'",
    "form_action": "'self'",
    "frame_ancestors": "'none'",
}
POLICIES = {
    "strict": _policy(**STRICT),
    "admin": _policy(
        **{**STRICT, "style_src": "'self' 'unsafe-inline'", "img_src": "'self' data:"}
    ),
    "docs": _policy(
        **{
            **STRICT,
            "style_src": "'self' 'unsafe-inline'",
            "img_src": "'self' data:",
            "font_src": "'self' data:",
            "worker_src": "'self' blob:",
        }
    ),
}
DOCS_VIEWS = {"api:docs", "api:redoc"}


def policy_for(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if match.view_name in DOCS_VIEWS:
            return POLICIES["docs"]
        if "admin" in match.namespaces:
            return POLICIES["admin"]
    return POLICIES["strict"]


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for(request)
        return response
