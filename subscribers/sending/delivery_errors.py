"""What an error from the mail server means for the deliveries it touched. One function, `classify`.

Three outcomes, chosen by one question: could the server have accepted the message?
- RETRY: surely not accepted (connection refused, 429, a 4xx SMTP reply, a 500/503 answer,
  nothing sent yet). The delivery goes back to the queue with a backoff, at most
  SEND_MAX_ATTEMPTS times.
- FAILED: the server refused this recipient for good (SMTP 5xx, an ESP's rejected/invalid
  status, a 400/422 for this message). Only that delivery fails.
- UNKNOWN: it may have been accepted (a timeout or a dropped connection after the message was
  handed over, a 502/504 from a gateway, a 409 for an idempotency key the ESP already holds,
  an unparsable answer). Never resent by itself; the
  managing editor sees it and may resend those explicitly; an ESP webhook can reconcile it.

`stop_batch` says the connection is unusable or the server wants us to slow down: the rest of the
batch goes back to the queue untried (not counted as an attempt).
"""

from __future__ import annotations

import enum
import smtplib
import socket
from dataclasses import dataclass


class Action(enum.Enum):
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Classification:
    action: Action
    stop_batch: bool
    reason: str


# The exception's phase: "connect" (opening the connection: nothing was handed over yet) or
# "send" (the message was being handed over).
CONNECT = "connect"
SEND = "send"

_REFUSED_NAMES = {
    "NewConnectionError",
    "NameResolutionError",
    "EndpointConnectionError",
    "ConnectTimeoutError",
}
_UNKNOWN_NAMES = {
    "ReadTimeoutError",
    "ReadTimeout",
    "ConnectionClosedError",
    "RemoteDisconnected",
    "ProtocolError",
}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}


def classify(exc: BaseException, phase: str = SEND) -> Classification:
    reason = _describe(exc)
    if phase == CONNECT:
        return Classification(Action.RETRY, True, f"Could not connect to the mail server: {reason}")
    if isinstance(exc, smtplib.SMTPException):
        return _classify_smtp(exc, reason)
    if _is_anymail(exc):
        return _classify_anymail(exc, reason)
    if isinstance(exc, ConnectionRefusedError):
        return Classification(Action.RETRY, True, reason)
    if isinstance(exc, socket.timeout | TimeoutError | OSError):
        return Classification(Action.UNKNOWN, True, f"The connection failed while sending: {reason}")
    return Classification(Action.UNKNOWN, True, f"Unexpected error while sending: {reason}")


def refused_recipient(status: str, reason: str = "") -> Classification | None:
    """An ESP's per-recipient status (message.anymail_status.recipients[...].status): None when the
    ESP took the message ("sent", "queued", or "unknown" = accepted without a per-recipient word)."""
    if status in ("rejected", "invalid", "failed"):
        return Classification(
            Action.FAILED, False, f"The ESP refused this recipient ({status}). {reason}".strip()
        )
    return None


def _classify_smtp(exc: smtplib.SMTPException, reason: str) -> Classification:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return Classification(Action.RETRY, False, f"Recipient temporarily refused: {reason}")
        return Classification(Action.FAILED, False, f"Recipient refused: {reason}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # Affects every message: stop, and let the backoff (and the attempt limit) decide.
        return Classification(Action.RETRY, True, f"Sender refused: {reason}")
    if isinstance(exc, smtplib.SMTPResponseException):  # SMTPDataError and the rest carry a reply code
        if 400 <= exc.smtp_code < 500:
            return Classification(Action.RETRY, exc.smtp_code == 421, f"Temporarily refused: {reason}")
        if 500 <= exc.smtp_code < 600:
            return Classification(Action.FAILED, False, f"Refused: {reason}")
        return Classification(Action.UNKNOWN, True, f"Unexpected reply: {reason}")
    # SMTPServerDisconnected and other errors without a reply: the server may have taken it.
    return Classification(Action.UNKNOWN, True, f"The connection was lost while sending: {reason}")


def _is_anymail(exc: BaseException) -> bool:
    try:
        from anymail.exceptions import AnymailError
    except ImportError:  # pragma: no cover - anymail is a requirement
        return False
    return isinstance(exc, AnymailError)


def _classify_anymail(exc: BaseException, reason: str) -> Classification:
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

    if isinstance(exc, AnymailRecipientsRefused):
        return Classification(Action.FAILED, False, f"The ESP refused the recipient: {reason}")
    if not isinstance(exc, AnymailAPIError):
        # AnymailInvalidAddress, AnymailUnsupportedFeature, ...: raised before anything was sent.
        return Classification(Action.FAILED, False, reason)
    for cause in _causes(exc):
        found = _classify_transport_error(cause, reason)
        if found:
            return found
    status = getattr(exc, "status_code", None)
    if status is None:
        status = _boto_status(exc)
    if status == 429:
        return Classification(Action.RETRY, True, f"The ESP asked us to slow down (429): {reason}")
    if status in (500, 503):
        return Classification(Action.RETRY, True, f"The ESP failed to take the message ({status}): {reason}")
    if status is not None and status >= 500:  # 502/504: a gateway gave up; the ESP may have it
        return Classification(Action.UNKNOWN, True, f"The ESP's answer was lost ({status}): {reason}")
    if status in (401, 403):
        return Classification(Action.RETRY, True, f"The ESP refused our credentials ({status}): {reason}")
    if status == 409:  # an idempotency key the ESP already holds (esp_backends.py): it may have sent it
        return Classification(
            Action.UNKNOWN, False, f"The ESP already has a request with this idempotency key (409): {reason}"
        )
    if status is not None and 400 <= status < 500:
        return Classification(Action.FAILED, False, f"The ESP rejected this message ({status}): {reason}")
    return Classification(Action.UNKNOWN, True, f"The ESP's answer could not be read: {reason}")


def _classify_transport_error(cause: BaseException, reason: str) -> Classification | None:
    name = type(cause).__name__
    if isinstance(cause, ConnectionRefusedError) or name in _REFUSED_NAMES or name == "ConnectTimeout":
        return Classification(Action.RETRY, True, f"Could not reach the ESP: {reason}")
    if name in _UNKNOWN_NAMES or isinstance(cause, socket.timeout | TimeoutError):
        return Classification(Action.UNKNOWN, True, f"The ESP's answer was lost: {reason}")
    code = _boto_error_code(cause)
    if code in _THROTTLE_CODES:
        return Classification(Action.RETRY, True, f"The ESP asked us to slow down ({code}): {reason}")
    if code == "MessageRejected":
        return Classification(Action.FAILED, False, f"The ESP rejected this message: {reason}")
    return None


def _causes(exc: BaseException):
    """The exception and what it was raised from, nearest first (Anymail wraps requests/boto errors)."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        for arg in getattr(current, "args", ()):  # urllib3 wraps the socket error in args
            if isinstance(arg, BaseException) and id(arg) not in seen:
                yield from _causes(arg)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            yield from _causes(reason)
        current = current.__cause__ or current.__context__


def _boto_error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _boto_status(exc: BaseException) -> int | None:
    for cause in _causes(exc):
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status:
                return int(status)
    return None


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc).strip() or type(exc).__name__
    except Exception:  # an exception whose __str__ fails (an AnymailError without its response)
        text = " ".join(str(arg) for arg in exc.args) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]
