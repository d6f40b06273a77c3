"""A staff member's notifications: all of them on one page, marking them read, and the settings
page where each kind is turned on or off (editorial/notifications.py decides who hears of what).

Staff only, through the admin's own check (signed in, active, staff; never cached, CSRF-protected);
each person sees and changes only their own notifications and settings.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import notifications
from .models import Notification

PER_PAGE = 50


class MarkReadForm(forms.Form):
    notification = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    all = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all") and not data.get("notification"):
            raise forms.ValidationError("Say which notification to mark as read.")
        return data


class PreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Tell me when", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, kinds: list[Notification.Kind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kinds"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(kind.value, kind.label) for kind in kinds]


@require_safe
def _notification_list(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user.pk).select_related("actor", "issue")
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **_admin_context(request, "Notifications"),
        "page": page,
        "notifications": page.object_list,
        "unread": notifications.unread_count(request.user),
        "next": request.get_full_path(),
    }
    return TemplateResponse(request, "editorial/admin/notifications.html", context)


@require_POST
def _mark_read(request: HttpRequest) -> HttpResponse:
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was marked as read: say which notification.")
        return HttpResponseRedirect(reverse("editorial:notifications"))
    data = form.cleaned_data
    changed = notifications.mark_read(request.user, None if data["all"] else data["notification"])
    if data["all"]:
        messages.success(request, f"{changed} notification{'' if changed == 1 else 's'} marked as read.")
    elif not changed:
        messages.info(request, "That notification was read already, or is not yours.")
    return HttpResponseRedirect(_next_url(request, data["next"]))


@require_http_methods(["GET", "HEAD", "POST"])
def _preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    kinds = notifications.kinds_for(user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, kinds=kinds)
        if form.is_valid():
            notifications.set_enabled_kinds(user, form.cleaned_data["kinds"])  # type: ignore[arg-type]
            messages.success(request, "Your notification settings are saved.")
            return HttpResponseRedirect(reverse("editorial:notification_preferences"))
    else:
        form = PreferencesForm(initial={"kinds": sorted(notifications.enabled_kinds(user))}, kinds=kinds)
    context = {**_admin_context(request, "Notification settings"), "form": form}
    return TemplateResponse(
        request, "editorial/admin/notification_preferences.html", context, status=400 if form.errors else 200
    )


def _admin_context(request: HttpRequest, title: str) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, "subtitle": None}


def _next_url(request: HttpRequest, url: str) -> str:
    """Back where the button was (the dashboard or the notifications page), if that is on this site."""
    safe = url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else reverse("admin:index")


# Staff only (the admin's own check), never cached, CSRF-protected.
notification_list = admin.site.admin_view(_notification_list)
mark_read = admin.site.admin_view(_mark_read)
preferences = admin.site.admin_view(_preferences)
