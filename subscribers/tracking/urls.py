"""The tracking webhook URLs (/webhooks/anymail/<esp>/tracking/): Anymail's views, guarded.

Every ESP's tracking URL that Anymail routes is routed here too, under the same names (namespace
"anymail"), with the same view, subclassed so that no request makes a 500:

- The site handles no inbound mail, so Anymail's inbound URLs are not routed (404).
- An ESP whose webhook cannot work here answers 404 ("not set up on this site"), whatever the
  request: while no ANYMAIL_WEBHOOK_SECRET is set (webhooks.record_event would refuse every event
  anyway), or when Anymail cannot build the ESP's view because its own key is missing
  (AnymailConfigurationError: Mailgun's, MailerSend's, Mandrill's, Postal's, Unisender Go's
  signing keys) or a package it needs is not installed (AnymailImproperlyInstalled: svix for a
  Resend signing secret). The reason is logged for the operator, not told to the caller.
- The shared secret (basic auth) is checked before anything else: Anymail runs the ESP's own
  validators first, and Amazon SES's parses the body, so junk from a stranger was a 500.
- Anything that goes wrong while Anymail validates or parses the body (not JSON, JSON of another
  shape, a form where JSON was expected, an inbound payload at the tracking URL, ...) answers 400
  (AnymailWebhookValidationFailure, a SuspiciousOperation), and so does an event whose fields are
  not of the types the ESPs send (webhooks.check_event). Bodies over Django's
  DATA_UPLOAD_MAX_MEMORY_SIZE are refused with 400 by Django itself.
- A request's events are recorded in one transaction: all of them or none.

An error in recording a well-formed event (the database is down) is still a 500, on purpose: ESPs
retry those later, and recording is idempotent.
"""

from __future__ import annotations

import logging

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import webhooks

logger = logging.getLogger(__name__)

app_name = "anymail"


class GuardedTrackingView:
    """Mixed in before one of Anymail's tracking views (see the module docstring)."""

    def run_validators(self, request: HttpRequest) -> None:
        if isinstance(self, AnymailBasicAuthMixin):
            AnymailBasicAuthMixin.validate_request(self, request)
        try:
            super().run_validators(request)
        except SuspiciousOperation:
            raise
        except Exception as exc:
            raise _unreadable(self, exc) from exc

    def parse_events(self, request: HttpRequest) -> list:
        try:
            events = list(super().parse_events(request))
            for event in events:
                webhooks.check_event(event)
        except SuspiciousOperation:
            raise
        except Exception as exc:
            raise _unreadable(self, exc) from exc
        return events

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with transaction.atomic():
            return super().post(request, *args, **kwargs)


def _unreadable(view, exc: Exception) -> AnymailWebhookValidationFailure:
    logger.warning("Refused a %s webhook body: %s: %s", view.esp_name, type(exc).__name__, exc)
    return AnymailWebhookValidationFailure(f"The {view.esp_name} webhook body could not be read.")


def guarded(view_class: type):
    """The view function for one of Anymail's tracking view classes."""
    guarded_class = type(view_class.__name__, (GuardedTrackingView, view_class), {"__module__": __name__})

    # The ESP posts without a CSRF token or a session; the secret and signatures authenticate it.
    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not webhooks.webhook_secrets():
            return _not_set_up(view_class, "ANYMAIL_WEBHOOK_SECRET is not set")
        try:
            handler = guarded_class()
        except AnymailConfigurationError as exc:  # a key or package of this ESP is missing
            return _not_set_up(view_class, str(exc))
        handler.setup(request, *args, **kwargs)
        return handler.dispatch(request, *args, **kwargs)

    view.view_class = guarded_class
    return view


def _not_set_up(view_class: type, reason: str) -> HttpResponse:
    esp_name = getattr(view_class, "esp_name", "this ESP")
    logger.warning("A %s tracking webhook arrived, but it is not set up here: %s", esp_name, reason)
    return HttpResponseNotFound(
        f"Tracking webhooks for {esp_name} are not set up on this site.", content_type="text/plain"
    )


def _is_tracking(pattern: URLPattern) -> bool:
    # Mandrill posts tracking and inbound events to one combined URL (and its older tracking/ one).
    return bool(pattern.name) and (
        pattern.name.endswith("_tracking_webhook") or pattern.name == "mandrill_webhook"
    )


def _route(pattern: URLPattern) -> URLPattern:
    view = guarded(pattern.callback.view_class)
    route = str(pattern.pattern)
    if route.startswith("^"):
        return re_path(route, view, name=pattern.name)
    return path(route, view, name=pattern.name)


urlpatterns = [_route(pattern) for pattern in anymail_urls.urlpatterns if _is_tracking(pattern)]
