"""The admin's sign-in: password, then a code from the user's authenticator app when they have one;
the page where staff turn two-factor sign-in on and off; and the page a locked-out login gets.

Signing in is two steps so that only users with a device are asked for a code. The password step
keeps the user waiting for their code in the session (for PENDING_SECONDS), not signed in; the code
step signs them in. A wrong code counts as a failed login for django-axes, as a wrong password
does, so guessing codes locks the username and IP out like guessing passwords.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from . import twofactor

PENDING = "account_pending_login"
PENDING_SECONDS = 300
ENROL_SECRET = "account_enrol_secret"


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_otp_token(self) -> str:
        return "".join(self.cleaned_data["otp_token"].split())


class AdminLoginView(LoginView):
    """The admin's own login page and form, except that a user with a device is asked for a code
    before being signed in."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(_admin_context(self.request, _("Log in")))
        context["username"] = self.request.user.get_username()
        if REDIRECT_FIELD_NAME not in self.request.GET and REDIRECT_FIELD_NAME not in self.request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return context

    def form_valid(self, form: AdminAuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if twofactor.confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session[PENDING] = {"user": str(user.pk), "backend": user.backend, "since": time.time()}
        return _to("account_login_verify", self.get_success_url())


admin_login = AdminLoginView.as_view()


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the device of the user whose password was right, or of a
    signed-in user whose session has not given one yet."""
    user = _pending_user(request)
    if user is None and request.user.is_authenticated and not twofactor.is_verified(request):
        user = request.user
    device = twofactor.confirmed_device(user) if user is not None else None
    if device is None:
        return _to("account_login", _next_url(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return locked_out(request, None, credentials)
        try:
            twofactor.verify(device, form.cleaned_data["otp_token"])
        except twofactor.TwoFactorRefused as refused:
            # A failed login for django-axes: enough of them lock this username and IP out.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            form.add_error("otp_token", refused.message)
        else:
            if request.user.is_authenticated:
                twofactor.mark_verified(request, device)
            else:
                request.session.pop(PENDING, None)
                user.otp_device = device  # django-otp records it in the new session on login
                auth_login(request, user, backend=user.backend)
            return HttpResponseRedirect(_next_url(request))
    context = {
        **_admin_context(request, "Two-factor sign-in"),
        "form": form,
        "next": _next_url(request),
        "pending_username": user.get_username(),
    }
    return TemplateResponse(request, "admin/login_verify.html", context, status=400 if form.errors else 200)


@sensitive_post_parameters("otp_token")
@require_http_methods(["GET", "HEAD", "POST"])
def _two_factor(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in on (scan the QR code, confirm with a code), replace the device, or
    turn it off (with a current code; not where it is required)."""
    user = request.user
    device = twofactor.confirmed_device(user)
    required = twofactor.is_required_for(user)
    action = request.POST.get("action") if request.method == "POST" else None
    form = CodeForm(request.POST if action else None)
    enrolling = device is None or request.GET.get("replace") == "1" or action == "enrol"
    if action == "enrol" and form.is_valid():
        secret = request.session.get(ENROL_SECRET)
        try:
            if not secret:
                raise twofactor.TwoFactorRefused("The set-up expired: scan the new QR code below.")
            device = twofactor.enrol(user, secret, form.cleaned_data["otp_token"])
        except twofactor.TwoFactorRefused as refused:
            form.add_error("otp_token", refused.message)
        else:
            del request.session[ENROL_SECRET]
            twofactor.mark_verified(request, device)
            messages.success(request, "Two-factor sign-in is on: from now on, signing in asks for a code.")
            return HttpResponseRedirect(_next_url(request, default=reverse("account_two_factor")))
    elif action == "turn_off" and device is not None and not required and form.is_valid():
        try:
            twofactor.verify(device, form.cleaned_data["otp_token"])
        except twofactor.TwoFactorRefused as refused:
            form.add_error("otp_token", refused.message)
        else:
            twofactor.turn_off(user)
            messages.success(request, "Two-factor sign-in is off.")
            return HttpResponseRedirect(reverse("account_two_factor"))
    context = {
        **_admin_context(request, "Two-factor sign-in"),
        "device": device,
        "required": required,
        "enrolling": enrolling,
        "form": form,
        "action": action,
        "next": _next_url(request, default=""),
    }
    if enrolling:
        secret = request.session.get(ENROL_SECRET) or twofactor.new_secret()
        request.session[ENROL_SECRET] = secret
        context["qr_code"] = twofactor.qr_code_svg(twofactor.provisioning_uri(user, secret))
        context["secret"] = twofactor.secret_for_typing(secret)
    return TemplateResponse(request, "admin/two_factor.html", context, status=400 if form.errors else 200)


# Staff only (the admin's own check: signed in, active, staff), never cached, CSRF-protected.
two_factor = admin.site.admin_view(_two_factor)


def locked_out(
    request: HttpRequest, response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE): a page in the admin's layout that says
    when to try again. Every attempt while locked out starts the wait again, so it is from now."""
    cool_off = get_cool_off(request) or timedelta(0)
    context = {
        **_admin_context(request, "Too many failed sign-in attempts"),
        "retry_at": timezone.localtime(timezone.now() + cool_off),
        "minutes": max(1, round(cool_off.total_seconds() / 60)),
    }
    return TemplateResponse(request, "admin/lockout.html", context, status=429).render()


def _admin_context(request: HttpRequest, title: str) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "subtitle": None,
        "app_path": request.get_full_path(),
    }


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not pending:
        return None
    if time.time() - pending["since"] > PENDING_SECONDS:
        del request.session[PENDING]
        return None
    user = get_user_model()._default_manager.filter(pk=pending["user"], is_active=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def _next_url(request: HttpRequest, default: str | None = None) -> str:
    """Where to go after this step: the `next` the request carries, when it is on this site."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if safe:
        return url
    return reverse("admin:index") if default is None else default


def _to(url_name: str, next_url: str) -> HttpResponseRedirect:
    query = f"?{urlencode({REDIRECT_FIELD_NAME: next_url})}" if next_url else ""
    return redirect(f"{reverse(url_name)}{query}")
