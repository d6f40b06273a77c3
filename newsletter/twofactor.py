"""Two-factor sign-in for staff: a TOTP authenticator app (django-otp's TOTPDevice), optional for
every staff user and required, by settings.OTP_REQUIRED_FOR, for managing editors or all staff.

A user has at most one confirmed device. Enrolment keeps the new secret in the session until the
user proves, with a code from their app, that the app has it; only then is the device saved, so an
abandoned enrolment leaves nothing behind. The admin's views are in account_views.py; this module
holds the rules and the middleware that applies them.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as Account
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

User = Account | AnonymousUser

NONE = "none"
MANAGING_EDITORS = "managing_editors"
STAFF = "staff"
# Whoever may publish or send is a managing editor (superusers have every permission). A string,
# not an import: newsletter/ does not import editorial/.
MANAGING_EDITOR_PERMISSIONS = ("editorial.publish_issue", "editorial.send_issue")
DEVICE_NAME = "Authenticator app"


class TwoFactorRefused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def is_required_for(user: User) -> bool:
    """Must `user` sign in with a second factor before reaching the admin?"""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    required_for = settings.OTP_REQUIRED_FOR
    if required_for == STAFF:
        return True
    if required_for == MANAGING_EDITORS:
        return any(user.has_perm(permission) for permission in MANAGING_EDITOR_PERMISSIONS)
    return False


def confirmed_device(user: User) -> TOTPDevice | None:
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def new_secret() -> str:
    """A new TOTP secret, hex-encoded as TOTPDevice.key keeps it (20 random bytes, as RFC 4226 asks)."""
    return str(random_hex(20))


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return str(TOTPDevice(user=user, key=secret).config_url)


def qr_code_svg(uri: str) -> str:
    """The QR code of `uri` as an inline SVG element (no raster image, no style attribute)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def secret_for_typing(secret: str) -> str:
    """The secret as an app asks for it when the QR code can't be scanned: base32, in fours."""
    encoded = base64.b32encode(binascii.unhexlify(secret)).decode("ascii")
    return " ".join(encoded[index : index + 4] for index in range(0, len(encoded), 4))


@transaction.atomic
def enrol(user: User, secret: str, token: str) -> TOTPDevice:
    """Save the device for `secret` once `token` shows the user's app has it; it replaces any
    device the user had before."""
    totp = TOTP(binascii.unhexlify(secret))
    totp.time = time.time()
    if not _is_code(token) or not totp.verify(int(token), tolerance=1):
        raise TwoFactorRefused(
            "That code does not match. Check the app shows the code for this site, and that your "
            "device's clock is right, then try the current code."
        )
    TOTPDevice.objects.filter(user=user).delete()
    # The code just used may not be used again to sign in (last_t), and the app's clock is known to
    # be off by `drift` steps.
    return TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, key=secret, confirmed=True, last_t=totp.t(), drift=totp.drift
    )


def verify(device: TOTPDevice, token: str) -> None:
    """Accept `token` from `device`, or TwoFactorRefused. Each wrong code makes the device wait
    longer before it accepts another (django-otp's throttling, kept on the device's row)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, extra = device.verify_is_allowed()
        if not allowed:
            if (extra or {}).get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
                raise TwoFactorRefused(
                    "Too many wrong codes in a row: wait a minute before trying again, and check "
                    "your device's clock."
                )
            raise TwoFactorRefused("Codes from this device are not accepted at the moment.")
        if _is_code(token) and device.verify_token(token):
            return
    raise TwoFactorRefused("That code is not right, or has expired. Enter the current code from your app.")


def turn_off(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def is_verified(request: HttpRequest) -> bool:
    """Did this session sign in with the user's second factor? (django-otp's OTPMiddleware)"""
    return bool(getattr(request.user, "is_verified", lambda: False)())


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """Record in the session that its user gave a code from `device` (after enrolling, say)."""
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.user.otp_device = device  # type: ignore[union-attr]  # OTPMiddleware's attribute


def _is_code(token: str) -> bool:
    return token.isascii() and token.isdigit() and len(token) in (6, 8)


class TwoFactorRequiredMiddleware:
    """Sends a user for whom two-factor is required, and whose session has not given a code, to
    enrol (no device yet) or to give a code (a session that signed in some other way), before any
    staff page. Goes after django-otp's OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths = SimpleLazyObject(_staff_paths)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            path.startswith(tuple(self._paths["guarded"]))
            and not path.startswith(tuple(self._paths["open"]))
            and is_required_for(request.user)
            and not is_verified(request)
        ):
            target = (
                "account_two_factor" if confirmed_device(request.user) is None else "account_login_verify"
            )
            return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _staff_paths() -> dict[str, list[str]]:
    return {
        # Every staff endpoint: the admin, the outbox and the Markdown editor's upload and preview.
        "guarded": [
            reverse("admin:index"),
            reverse("outbox_list"),
            reverse("markdownx_upload"),
            reverse("markdownx_markdownify"),
        ],
        # The ways through: signing in, giving a code, enrolling, and leaving.
        "open": [
            reverse("account_login"),
            reverse("account_login_verify"),
            reverse("account_two_factor"),
            reverse("admin:logout"),
        ],
    }
