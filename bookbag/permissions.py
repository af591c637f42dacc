"""Who may use which part of the API. Roles are group memberships (shared/DESIGN.md, "Tenancy
and roles"): agents work tickets; admins (the `admins` group plus `is_staff`) may do everything.

Permissions are checked before any object is looked up, so a forbidden caller learns nothing
about what exists (403 whatever the id), and an anonymous one gets 401 (TokenAuthentication is
the first authenticator, which gives DRF its `WWW-Authenticate` header).
"""

from rest_framework.permissions import BasePermission

from bookbag.setup import ADMINS, AGENTS


def roles(user) -> frozenset[str]:
    """The user's group names, read once per request (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_bookbag_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._bookbag_roles = cached
    return cached


def is_admin(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or (user.is_staff and ADMINS in roles(user))


def is_agent(user) -> bool:
    """Agents, and admins (who may do everything an agent may)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return AGENTS in roles(user) or is_admin(user)


class IsAgent(BasePermission):
    message = "Only support agents and admins may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


class IsAdmin(BasePermission):
    message = "Only admins may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)
