"""The inbox list: views with live counts, search, filters, sort, keyset pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.models import Shop
from tickets import queries
from tickets.access import agent_required, agents
from tickets.forms import BulkForm, InboxFilterForm
from tickets.models import Priority, Tag, TicketStatus


def _filters(request: HttpRequest) -> dict:
    """The valid part of the query string; an invalid value is ignored, not an error page."""
    form = InboxFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    return {
        "view": data.get("view") or queries.DEFAULT_VIEW,
        "q": data.get("q") or "",
        "shop": data.get("shop"),
        "status": data.get("status") or "",
        "priority": data.get("priority") or "",
        "assignee": data.get("assignee") or "",
        "tag": data.get("tag") or "",
        "sort": data.get("sort") or queries.DEFAULT_SORT,
        "after": data.get("after") or "",
        "before": data.get("before") or "",
    }


@require_GET
@agent_required
def inbox(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    user = request.user
    version = queries.list_version(shared=False)
    counts = queries.view_counts(user, version)
    qs = queries.list_queryset().filter(queries.VIEWS[f["view"]].condition(user))
    qs = queries.apply_filters(
        qs, user=user, shop=f["shop"], status=f["status"], priority=f["priority"],
        assignee=f["assignee"], tag=f["tag"],
    )  # fmt: skip
    if f["q"]:
        qs = queries.search(qs, f["q"])
    page = queries.keyset_page(qs, queries.SORTS[f["sort"]], after=f["after"], before=f["before"])
    shops = list(Shop.objects.only("id", "name", "domain").order_by("name", "domain"))
    shop_names = {s.pk: str(s) for s in shops}
    for row in page.rows:
        row.shop_name = shop_names.get(row.shop_id, "")
    views = [
        {"key": v.key, "label": v.label, "count": counts.get(v.key, 0)}
        for v in queries.VIEWS.values()
    ]
    context = {
        "f": f,
        "views": views,
        "view_label": queries.VIEWS[f["view"]].label,
        "page": page,
        "version": version,
        "filtered": any(f[k] for k in ("q", "shop", "status", "priority", "assignee", "tag")),
    }
    if request.GET.get("fragment"):
        return render(request, "inbox/partials/list_live.html", context)
    context.update(
        shops=shops,
        many_shops=len(shops) > 1,
        agents=list(agents()),
        tags=list(Tag.objects.only("id", "name")),
        statuses=TicketStatus.choices,
        priorities=Priority.choices,
        sorts=[(k, s.label) for k, s in queries.SORTS.items()],
        bulk_actions=BulkForm.ACTIONS,
    )
    return render(request, "inbox/list.html", context)
