"""Why a lookup gave no metadata. Each message is shown as it is, and never repeats what was
pasted (the JSON endpoint's answers must not reflect input)."""

from __future__ import annotations


class LookupFailed(Exception):
    """No metadata: `reason` says why, for code ("invalid", "not_found", "timeout",
    "unavailable", "bad_answer", "rate_limited"); `message` says it for people."""

    reason = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidIdentifier(LookupFailed):
    reason = "invalid"


class NotFound(LookupFailed):
    reason = "not_found"


class TimedOut(LookupFailed):
    reason = "timeout"


class Unavailable(LookupFailed):
    """The source could not be reached, or answered with an error status."""

    reason = "unavailable"


class BadAnswer(LookupFailed):
    """The source answered, but not in the format its documentation describes."""

    reason = "bad_answer"


class RateLimited(LookupFailed):
    """Our own throttle (arXiv's one request every 3 seconds) or the source said "too many"."""

    reason = "rate_limited"
