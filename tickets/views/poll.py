"""The live-update poll: a few index-backed reads, an ETag over them, 304 when nothing changed.

The page asks every 2.5 s (`?list=1` on the list, `?ticket=<id>` on a ticket page) and, when a
version moved, re-fetches only that part of the page. No connection is held open: the web
workers stay free for the Shopify receiver (shared/TRAPS.md, "Live updates").
"""

import hashlib
import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_GET

from tickets import presence, queries
from tickets.access import agent_required

HEADERS = {"Cache-Control": "private, no-cache"}


@require_GET
@agent_required(api=True)
def poll(request: HttpRequest) -> HttpResponse:
    versions: dict[str, str] = {}
    others: list[dict] = []
    if request.GET.get("list"):
        versions["list"] = queries.list_version()
    ticket = request.GET.get("ticket", "")
    if ticket:
        if not ticket.isdigit() or len(ticket) > 18:
            raise Http404("No such ticket")
        version = queries.ticket_version(int(ticket))
        if version is None:
            raise Http404("No such ticket")
        versions["ticket"] = version
        others = presence.touch(int(ticket), request.user, request.GET.get("state", "viewing"))
    body = {"versions": versions, "others": others}
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode(), usedforsecurity=False)
    etag = f'"{digest.hexdigest()}"'
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse(body)
    response["ETag"] = etag
    for name, value in HEADERS.items():
        response[name] = value
    return response
