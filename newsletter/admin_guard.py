"""A guard in front of the Django admin for a query it cannot take.

Django's `ModelAdmin.get_object` looks up a field named by `?_to_field=`; an empty value skips its
"is this field allowed" check and then fails on `get_field("")`, a 500 on every change and delete
page of every model (ours and third-party apps' alike). Answering it here covers them all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.options import TO_FIELD_VAR
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse


class AdminEmptyToFieldMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    # A view hook rather than in __call__, so CsrfViewMiddleware (listed before this one) refuses a
    # POST without a token first, with its 403, before this guard reads the body.
    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        if request.path.startswith(reverse("admin:index")) and _empty(request, TO_FIELD_VAR):
            return HttpResponseBadRequest(f"The admin's {TO_FIELD_VAR} parameter may not be empty.")
        return None


def _empty(request: HttpRequest, name: str) -> bool:
    values = request.GET.getlist(name)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        values += request.POST.getlist(name)
    return any(not value.strip() for value in values)
