"""Background work of the subscribers app: thin task wrappers around subscribers/notifications.py
and subscribers/sending/.

Arguments are JSON (ids and strings); each function re-reads what it needs when it runs.
"""

from __future__ import annotations

from django_tasks import task

from . import notifications, sending


@task()
def send_confirmation_email(subscriber_id: int) -> bool:
    return notifications.send_confirmation(subscriber_id)


@task()
def send_already_subscribed_email(subscriber_id: int) -> bool:
    return notifications.send_already_subscribed(subscriber_id)


@task()
def send_welcome_email(subscriber_id: int) -> bool:
    return notifications.send_welcome(subscriber_id)


@task()
def send_goodbye_email(subscriber_id: int) -> bool:
    return notifications.send_goodbye(subscriber_id)


# The send pipeline (subscribers/sending/) ------------------------------------------------------


@task()
def dispatch_send(send_id: int) -> int:
    return sending.dispatch(send_id)


@task()
def send_batch(send_id: int) -> dict:
    return sending.send_batch(send_id).as_dict()


@task()
def sweep_sends() -> dict:
    return sending.sweep()
