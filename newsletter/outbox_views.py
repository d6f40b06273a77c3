"""The staff outbox: the emails DatabaseOutboxBackend kept, newest first, each with its parts.

Who reads which email is access.py's rule: managing editors and superusers all of them, other
staff those sent to their own address; a refusal is a page in the admin's layout.

The HTML part is served on its own URL under a Content-Security-Policy that lets its inline CSS
and images work and nothing else, and the detail page shows it in a sandboxed frame.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from . import access
from .models import OutboxMessage
from .outbox import ordered_headers

PER_PAGE = 50
# The stored email may come from anywhere; in the frame it gets its own inline CSS and images,
# no scripts, no forms, no plugins, and only this site may frame it.
EMAIL_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the admin login and come back; signed-in non-staff are refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not access.may_open_outbox(request.user):
            raise PermissionDenied(access.outbox_refusal(request.user))
        return view(request, *args, **kwargs)

    return wrapper


def _readable(request: HttpRequest, messages: QuerySet[OutboxMessage], pk: int) -> OutboxMessage:
    """The message `pk`: 404 when there is none, refused when it is not the user's to read."""
    message = get_object_or_404(messages, pk=pk)
    if not access.may_read(request.user, message):
        raise PermissionDenied(access.outbox_refusal(request.user))
    return message


@require_safe
@never_cache
@staff_only
def outbox_list(request: HttpRequest) -> HttpResponse:
    messages = access.outbox_for(
        request.user, OutboxMessage.objects.defer("text_body", "html_body", "raw", "headers")
    )
    page = Paginator(messages, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "whole_outbox": access.reads_whole_outbox(request.user)}
    return render(request, "newsletter/outbox_list.html", context)


@require_safe
@never_cache
@staff_only
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _readable(request, OutboxMessage.objects.all(), pk)
    context = {"message": message, "headers": ordered_headers(message.headers)}
    return render(request, "newsletter/outbox_detail.html", context)


@require_safe
@never_cache
@xframe_options_sameorigin
@staff_only
def outbox_html(request: HttpRequest, pk: int) -> HttpResponse:
    message = _readable(request, OutboxMessage.objects.only("html_body", "to"), pk)
    if not message.html_body:
        raise Http404("This email has no HTML part.")
    response = HttpResponse(message.html_body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = EMAIL_CSP
    response["Referrer-Policy"] = "no-referrer"  # images in the email must not learn outbox URLs
    return response
