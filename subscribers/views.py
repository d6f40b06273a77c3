"""The subscriber's pages: sign up, confirm, preferences (with data export and deletion), unsubscribe.

Views parse input, call one function of subscriptions.py and render. A GET never changes anything
(mail scanners open links): confirm and unsubscribe links show a page with a button that POSTs.
The one exception to CSRF is RFC 8058's one-click unsubscribe POST, which a mail client sends
without cookies: the signed token in the URL is its authority.

Pages reached through a token are private: never cached, not indexed, and sent with
`Referrer-Policy: same-origin`, so no other site ever sees the token in a Referer header. Not
`no-referrer`: under it browsers send `Origin: null` with the page's own form POSTs, which
Django's CSRF check (rightly) refuses; our own origin already has the token in the URL.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from newsletter import seo

from . import ratelimit, subscriptions, tokens
from .forms import DeleteForm, PreferencesForm, SubscribeForm
from .models import Subscriber

REFERRER_POLICY = "same-origin"
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


def private_link_page(view):
    """Headers for a page whose URL holds a token, and the clear error page for a bad token."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except tokens.LinkError as error:
            response = render(
                request,
                "subscribers/link_error.html",
                {"error": error, "private_link": True},
                status=error.status,
            )
        add_never_cache_headers(response)
        response["Referrer-Policy"] = REFERRER_POLICY
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _subscribe_page(request, SubscribeForm())
    form = SubscribeForm(request.POST)
    try:
        ratelimit.hit(ratelimit.SIGNUPS_PER_IP, ratelimit.client_ip(request) or "unknown")
        if not form.is_valid():
            return _subscribe_page(request, form, status=400)
        ratelimit.hit(ratelimit.SIGNUPS_PER_ADDRESS, form.cleaned_data["email"])
    except ratelimit.RateLimited as refused:
        return _subscribe_page(request, form, status=429, refusal=refused.message)
    subscriptions.request_subscription(
        form.cleaned_data["email"], name=form.cleaned_data["name"], sections=form.cleaned_data["sections"]
    )
    return redirect("subscribe_sent")


def _subscribe_page(request, form, status: int = 200, refusal: str = "") -> HttpResponse:
    description = (
        f"Get {settings.SITE_NAME} by email: pick the sections you want, confirm once, "
        "unsubscribe in one click."
    )
    context = {
        "form": form,
        "refusal": refusal,
        "consent_wording": subscriptions.consent_wording(),
        # The page people share to invite others: its social card (Open Graph) says what it is.
        "meta": seo.page_meta(request, f"Subscribe to {settings.SITE_NAME}", description, keep=()),
    }
    return render(request, "subscribers/subscribe.html", context, status=status)


@require_safe
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/subscribe_sent.html")


@private_link_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    link = tokens.read_confirm_token(token)
    if request.method != "POST":
        context = {
            "subscriber": link.subscriber,
            "consent_wording": subscriptions.consent_wording(),
            "consent_version": subscriptions.CONSENT_WORDING_VERSION,
            "private_link": True,
        }
        return render(request, "subscribers/confirm.html", context)
    try:
        subscriber = subscriptions.confirm(
            link,
            ip=ratelimit.client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            wording_version=request.POST.get("wording_version", ""),
        )
    except subscriptions.SubscriptionRefused as refused:
        return _refused(request, refused)
    context = {
        "subscriber": subscriber,
        "preferences_token": tokens.preferences_token(subscriber),
        "private_link": True,
    }
    return render(request, "subscribers/confirmed.html", context)


@private_link_page
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.read_preferences_token(token)
    saved = False
    if request.method == "POST" and request.POST.get("action") == "resubscribe":
        try:
            subscriptions.resubscribe(subscriber)
        except subscriptions.SubscriptionRefused as refused:
            return _refused(request, refused)
        return redirect("preferences", token=token)
    if request.method == "POST":
        form = PreferencesForm(request.POST, subscriber=subscriber)
        if form.is_valid():
            subscriptions.update_preferences(
                subscriber,
                name=form.cleaned_data["name"],
                sections=form.cleaned_data["sections"],
                format=form.cleaned_data["format"],
                paused_issues=form.cleaned_data["paused_issues"],
            )
            saved = True
            form = PreferencesForm(subscriber=subscriber)
    else:
        form = PreferencesForm(subscriber=subscriber)
    context = {
        "subscriber": subscriber,
        "form": form,
        "saved": saved,
        "data": subscriptions.personal_data(subscriber),
        "token": token,
        "unsubscribe_token": tokens.unsubscribe_token(subscriber),
        "private_link": True,
    }
    return render(request, "subscribers/preferences.html", context, status=400 if form.errors else 200)


@private_link_page
@require_safe
def preferences_export(request: HttpRequest, token: str) -> HttpResponse:
    """Everything we hold about the subscriber, as a JSON download (reading changes nothing)."""
    subscriber = tokens.read_preferences_token(token)
    body = json.dumps(subscriptions.personal_data(subscriber), indent=2, ensure_ascii=False)
    response = HttpResponse(body + "\n", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-subscription-data.json"'
    return response


@private_link_page
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_delete(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.read_preferences_token(token)
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        subscriptions.erase(subscriber)
        return render(request, "subscribers/deleted.html", {"private_link": True})
    context = {"subscriber": subscriber, "form": form, "token": token, "private_link": True}
    return render(request, "subscribers/delete.html", context, status=400 if form.errors else 200)


@csrf_exempt
@private_link_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = tokens.read_unsubscribe_token(token)
    if request.method == "POST" and request.POST.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE:
        # RFC 8058: the mail client's POST, without cookies or CSRF token; answer 200 ourselves.
        subscriptions.unsubscribe(subscriber, Subscriber.Channel.ONE_CLICK)
        message = f"Unsubscribed: you will get no more email from {settings.SITE_NAME}.\n"
        return HttpResponse(message, content_type="text/plain; charset=utf-8")
    return _unsubscribe_page(request, subscriber, token)


@csrf_protect
def _unsubscribe_page(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """The page behind the footer link; its buttons are ordinary CSRF-protected POSTs."""
    state = "done" if subscriber.status == Subscriber.Status.UNSUBSCRIBED else "confirm"
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "unsubscribe":
            subscriptions.unsubscribe(subscriber, Subscriber.Channel.LINK)
            state = "done"
        elif action == "resubscribe":
            try:
                subscriptions.resubscribe(subscriber)
            except subscriptions.SubscriptionRefused as refused:
                return _refused(request, refused)
            state = "resubscribed"
        else:
            status = 400
    context = {
        "subscriber": subscriber,
        "state": state,
        "bad_request": status == 400,
        "preferences_token": tokens.preferences_token(subscriber),
        "private_link": True,
    }
    return render(request, "subscribers/unsubscribe.html", context, status=status)


def _refused(request: HttpRequest, refused: subscriptions.SubscriptionRefused) -> HttpResponse:
    return render(
        request, "subscribers/refused.html", {"message": refused.message, "private_link": True}, status=409
    )
