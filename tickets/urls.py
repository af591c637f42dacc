"""The agent inbox, sign-in and password reset, and the public CSAT page."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from tickets.views import actions, auth, csat, poll, ticket
from tickets.views import list as inbox_list

ticket_actions = [
    ("messages", actions.message, "inbox-message"),
    ("assign", actions.assign, "inbox-assign"),
    ("status", actions.status, "inbox-status"),
    ("priority", actions.priority, "inbox-priority"),
    ("tags", actions.tags, "inbox-tags"),
    ("resolve", actions.resolve, "inbox-resolve"),
    ("reopen", actions.reopen, "inbox-reopen"),
    ("escalate", actions.escalate, "inbox-escalate"),
    ("order", actions.link_order, "inbox-link-order"),
    ("leave", actions.leave, "inbox-leave"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox", permanent=False)),
    # Sign-in (names are Django's own: its views and emails reverse them).
    path("accounts/login/", auth.InboxLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", auth.InboxPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The inbox.
    path("inbox/", inbox_list.inbox, name="inbox"),
    path("inbox/poll/", poll.poll, name="inbox-poll"),
    path("inbox/bulk/", actions.bulk, name="inbox-bulk"),
    path("inbox/tickets/<int:pk>/", ticket.detail, name="inbox-ticket"),
    path(
        "inbox/tickets/<int:pk>/saved-replies/<int:reply_pk>/",
        ticket.saved_reply,
        name="inbox-saved-reply",
    ),
    *(
        path(f"inbox/tickets/<int:pk>/{part}/", view, name=name)
        for part, view, name in ticket_actions
    ),
    # Public: the customer's satisfaction survey.
    path("csat/<str:token>/", csat.survey, name="csat"),
]
