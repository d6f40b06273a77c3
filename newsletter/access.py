"""Who may read the outbox, and the page that refuses.

The outbox holds every email the site sent while it is the email backend: subscribers' addresses
with their personal preference and unsubscribe links, and the test emails of unpublished drafts.
A managing editor (the permission `newsletter.view_outboxmessage`) and superusers read all of it;
other staff read only the emails sent to their own address (their test emails); everyone else is
refused.

Every PermissionDenied is answered by `permission_denied` (the root URLconf's handler403). Under
the admin and the outbox it is a page in the admin's layout saying what the visitor's role may not
do: the refusal's own message when the code gave one, otherwise a sentence made from the admin URL
("see the list of subscribers", "change this paper"). Elsewhere it is the public 403 page.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as Account
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from . import seo
from .absolute_urls import site_url
from .models import OutboxMessage

User = Account | AnonymousUser

OUTBOX_PERMISSION = "newsletter.view_outboxmessage"


# The outbox ------------------------------------------------------------------------------------


def may_open_outbox(user: User) -> bool:
    """Staff open the outbox; what they find there depends on `reads_whole_outbox`."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def reads_whole_outbox(user: User) -> bool:
    return may_open_outbox(user) and user.has_perm(OUTBOX_PERMISSION)


def outbox_for(user: User, messages: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """The messages of `messages` that `user` may read."""
    if reads_whole_outbox(user):
        return messages
    address = (getattr(user, "email", "") or "").strip() if may_open_outbox(user) else ""
    if not address:
        return messages.none()
    # `to` holds one recipient per line.
    return messages.filter(
        Q(to__iexact=address)
        | Q(to__istartswith=f"{address}\n")
        | Q(to__iendswith=f"\n{address}")
        | Q(to__icontains=f"\n{address}\n")
    )


def may_read(user: User, message: OutboxMessage) -> bool:
    return outbox_for(user, OutboxMessage.objects.filter(pk=message.pk)).exists()


def outbox_refusal(user: User) -> str:
    """Why `user` may not read a message (or the outbox at all), for the refusal page."""
    if not may_open_outbox(user):
        return "The outbox is for the newsletter's staff: your account may not read it."
    address = getattr(user, "email", "") or ""
    own = f" ({address})" if address else " (your account has none)"
    return (
        "This email was sent to someone else. Your role lets you read only the emails sent to your "
        f"own address{own}; the whole outbox is for managing editors."
    )


# Refusals --------------------------------------------------------------------------------------


def role_names(user: User | None) -> list[str]:
    if user is None or not user.is_authenticated:
        return []
    return list(user.groups.order_by("name").values_list("name", flat=True))


def refusal_message(request: HttpRequest, exception: Exception | None = None) -> str:
    """What was refused, in a sentence: the refusal's own message, or one made from the URL."""
    given = str(exception) if exception is not None and getattr(exception, "args", None) else ""
    if given:
        return given
    names = role_names(getattr(request, "user", None))
    who = f"Your role ({', '.join(names)})" if names else "Your account, which has no role,"
    return f"{who} does not allow you to {_what_was_asked(request)}."


_ADMIN_VIEWS = {
    # URL name suffix: (what a GET asks, what a POST asks)
    "changelist": ("see the list of {plural}", "change {plural}"),
    "add": ("add {plural}", "add {plural}"),
    "change": ("see this {singular}", "change this {singular}"),
    "delete": ("delete this {singular}", "delete this {singular}"),
    "history": ("see the history of this {singular}", "see the history of this {singular}"),
}


def _what_was_asked(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None or "admin" not in match.namespaces:
        return "open this page"
    parts = request.path_info[len(reverse("admin:index")) :].strip("/").split("/")
    if match.url_name == "app_list":
        config = apps.get_app_config(parts[0]) if apps.is_installed(parts[0]) else None
        return f"see the {config.verbose_name} section" if config else "open this page"
    try:
        opts = apps.get_model(parts[0], parts[1])._meta
    except (IndexError, LookupError, ValueError):
        return "open this page"
    view = (match.url_name or "").rpartition("_")[2]
    if view not in _ADMIN_VIEWS:
        return f"open this page about {opts.verbose_name_plural}"
    get, post = _ADMIN_VIEWS[view]
    template = post if request.method == "POST" else get
    return template.format(singular=opts.verbose_name, plural=opts.verbose_name_plural)


def in_admin_layout(request: HttpRequest) -> bool:
    return request.path_info.startswith((reverse("admin:index"), reverse("outbox_list")))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page: in the admin's layout for the admin and the outbox, the public one elsewhere."""
    message = refusal_message(request, exception)
    if in_admin_layout(request):
        context = {
            **admin.site.each_context(request),
            "title": "Not allowed",
            "message": message,
            "role_names": role_names(getattr(request, "user", None)),
        }
        return render(request, "admin/refused.html", context, status=403)
    meta = seo.PageMeta(title="Not allowed", description=message, url=site_url(request.path), noindex=True)
    return render(request, "403.html", {"meta": meta, "message": message}, status=403)
