"""The drafting forms' lookup endpoint: GET ?q=<pasted identifier> answers JSON for
static/js/paper_lookup.js. Staff who may write papers or summaries only.

A lookup that finds nothing, times out or is throttled is an answer, not an error of this
endpoint: 200 with {"ok": false, "reason", "error"}, so the script shows the reason and the
browser logs no failed request. Only a malformed request is a 4xx (no `q`: 400; no permission:
403; not a GET: 405). Answers never repeat the pasted text, and `<`, `>` and `&` are escaped in the
JSON, so nothing a source or a visitor sends can open a tag.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .index import describe

# Whoever may write a paper or a summary (and so name its paper) may look one up.
LOOKUP_PERMISSIONS = (
    "newsletter.add_paper",
    "newsletter.change_paper",
    "newsletter.add_papersummary",
    "newsletter.change_papersummary",
)
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def may_look_up(user: User | AnonymousUser) -> bool:
    return user.is_active and user.is_staff and any(user.has_perm(name) for name in LOOKUP_PERMISSIONS)


def json_answer(data: dict[str, Any], status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return HttpResponse(body, status=status, content_type="application/json")


@staff_member_required
@require_GET
@never_cache
def paper_lookup(request: HttpRequest) -> HttpResponse:
    if not may_look_up(request.user):
        return json_answer(
            {"ok": False, "reason": "forbidden", "error": "Your role does not allow you to add papers."}, 403
        )
    text = request.GET.get("q")
    if text is None or not text.strip():
        return json_answer(
            {"ok": False, "reason": "invalid", "error": "Send the pasted identifier as `q`."}, 400
        )
    return json_answer(describe(text))
