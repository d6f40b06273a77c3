"""The request id: one per request, in every log line the request writes and in the tasks it enqueues.

`RequestIdMiddleware` takes the id from an incoming `X-Request-ID` header (a proxy's or a load
balancer's, when it is a short token) or makes one, keeps it in a context variable for the
request and answers with it in `X-Request-ID`. `logs.RequestIdFilter` puts it on every record.

Tasks run elsewhere (a `db_worker` or an RQ worker), so the id travels with them through the task
framework's signals: when a task is enqueued while an id is set, a TaskOrigin row keeps the pair;
when a worker starts the task it sets the id again (and the task's own id), and when the task
finishes the row goes. Tasks a task enqueues inherit the id in turn, so a send's fan-out and every
batch carry the id of the request that started it. The immediate backend runs a task inline,
where the id is still set, and needs no row.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django_tasks import TaskResult
from django_tasks.backends.immediate import ImmediateBackend

HEADER = "X-Request-ID"
# A proxy's id is honoured when it is a short token (UUIDs, AWS trace ids, hex); anything else
# (too long, spaces, control characters) is replaced, so a log line never carries a client's junk.
_ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:;=+/@-]{0,63}")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")
# What each running task's restore_in_task set, innermost last (the immediate backend runs a task
# a task enqueues inside it), for forget_after_task to undo.
_Restored = tuple[tuple[contextvars.Token[str], ...], ...]
_restored: contextvars.ContextVar[_Restored] = contextvars.ContextVar("restored", default=())


def current() -> str:
    """The request id of the request or task running here ("" outside both)."""
    return _request_id.get()


def current_task() -> str:
    """The id of the task running here ("" outside a task)."""
    return _task_id.get()


def accepted(value: str | None) -> str:
    """`value` when it is an acceptable request id, else a new one."""
    if value and _ACCEPTED.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that everything after it logs with the request's id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted(request.headers.get(HEADER))
        # Also on the request: Django logs a 4xx or 5xx answer after the middleware has returned.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


# The task framework's signals (connected in apps.py) ---------------------------------------------


def remember_for_task(sender: type, task_result: TaskResult[Any], **kwargs: Any) -> None:
    request_id = current()
    if not request_id or _inline(sender):
        return
    from .models import TaskOrigin

    TaskOrigin.objects.create(task_id=str(task_result.id)[:64], request_id=request_id)


def _inline(sender: object) -> bool:
    """Whether a signal's sender is the immediate backend (the db_worker sends the backend itself,
    the backends their class)."""
    backend = sender if isinstance(sender, type) else type(sender)
    return issubclass(backend, ImmediateBackend)


def restore_in_task(sender: type, task_result: TaskResult[Any], **kwargs: Any) -> None:
    tokens = [_task_id.set(str(task_result.id))]
    # The immediate backend runs the task inline, where the id (if any) is still set: no row to read.
    if not current() and not _inline(sender):
        from .models import TaskOrigin

        origin = TaskOrigin.objects.filter(task_id=str(task_result.id)[:64]).values_list("request_id").first()
        if origin:
            tokens.append(_request_id.set(origin[0]))
    _restored.set((*_restored.get(), tuple(tokens)))


def forget_after_task(sender: type, task_result: TaskResult[Any], **kwargs: Any) -> None:
    stack = _restored.get()
    if not stack:
        return
    *outer, tokens = stack
    if len(tokens) > 1:  # the id came from a TaskOrigin row, which has done its work
        from .models import TaskOrigin

        TaskOrigin.objects.filter(task_id=str(task_result.id)[:64]).delete()
    for token in reversed(tokens):
        try:
            token.var.reset(token)
        except ValueError:  # a worker that finished the task in another context
            token.var.set("")
    _restored.set(tuple(outer))
