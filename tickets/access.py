"""Who may use the inbox: active members of the `agents` or `admins` group (shared/DESIGN.md,
"Tenancy and roles"). Agents are not staff; the Django admin stays for admins."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# The names bookbag.setup creates in post_migrate (tickets may not import bookbag itself).
AGENTS = "agents"
ADMINS = "admins"
INBOX_GROUPS = (AGENTS, ADMINS)


def is_agent(user) -> bool:
    """An active member of `agents` or `admins`; remembered on the user for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    known = getattr(user, "_inbox_member", None)
    if known is None:
        known = user.groups.filter(name__in=INBOX_GROUPS).exists()
        user._inbox_member = known
    return known


def agents() -> QuerySet:
    """Everyone a ticket can be assigned to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=INBOX_GROUPS)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def display_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def agent_required(view: Callable | None = None, *, api: bool = False):
    """Anonymous: to the sign-in page (or 401 for `api` endpoints polled by scripts, which must
    not follow a redirect to an HTML page). Signed in but not an agent: 403."""

    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                if api:
                    return JsonResponse({"error": "sign in"}, status=401)
                return redirect_to_login(request.get_full_path())
            if not is_agent(user):
                if api:
                    return JsonResponse({"error": "agents only"}, status=403)
                return render(request, "inbox/forbidden.html", status=403)
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
