"""Who a send goes to, frozen in one statement.

`snapshot(send, subscribers)` copies the audience (a queryset of `Subscriber.objects.mailable()`)
into Delivery rows with one INSERT ... SELECT (compiled by the ORM, so it runs on SQLite and
PostgreSQL alike): no Python loop, however large the list. The SELECT groups by `email_hash`, the hash of the
normalised address, taking the oldest row of each group, so a person with two rows ("Ann@X.org"
and "ann@x.org", or a Unicode and a Punycode domain) gets one copy; the unique constraint
`delivery_one_per_address_per_send` makes the database hold us to it.

`variant_keys(queryset)` lists the (format, sections) combinations of an audience, so each is
rendered and checked before the send starts.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter

from django.db import connection
from django.db.models import Min, QuerySet

from newsletter.models import Issue

from ..models import Delivery, Send, Subscriber
from .variants import variant_key

# Deliveries that count as "got it" (or may have): a resend leaves these people out.
RECEIVED = (Delivery.Status.SENT, Delivery.Status.UNKNOWN, Delivery.Status.SENDING, Delivery.Status.QUEUED)


def audience(issue: Issue, kind: str) -> QuerySet[Subscriber]:
    """The subscribers a new send of `kind` would reach."""
    subscribers = Subscriber.objects.mailable()
    if kind == Send.Kind.RESEND:
        already = Delivery.objects.filter(
            send__issue=issue, send__kind__in=[Send.Kind.FULL, Send.Kind.RESEND], status__in=RECEIVED
        ).values("email_hash")
        subscribers = subscribers.exclude(email_hash__in=already)
    return subscribers


def snapshot(send: Send, subscribers: QuerySet[Subscriber]) -> int:
    """Insert one queued Delivery per distinct address in `subscribers`; returns how many."""
    select = (
        subscribers.order_by()
        .values("email_hash")
        .annotate(first_id=Min("id"))
        .values("first_id", "email_hash")
    )
    select_sql, select_params = select.query.sql_with_params()
    qn = connection.ops.quote_name
    columns = ["send_id", "subscriber_id", "email_hash", "address", "status", "attempts", "claim_token"]
    columns += ["variant_key", "esp_message_id", "error"]
    sql = (
        f"INSERT INTO {qn(Delivery._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"SELECT %s, audience.first_id, audience.email_hash, '', %s, 0, '', '', '', '' "
        f"FROM ({select_sql}) audience"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [send.pk, Delivery.Status.QUEUED, *select_params])
        return cursor.rowcount


def variant_keys(subscribers: QuerySet[Subscriber]) -> set[str]:
    """The distinct variants an audience needs. Streams one row per subscriber and chosen section,
    ordered by subscriber, so memory holds the set of keys, never the audience."""
    rows = subscribers.order_by("pk").values_list("pk", "format", "sections__id").iterator(chunk_size=5000)
    keys: set[str] = set()
    for _, group in groupby(rows, key=itemgetter(0)):
        group = list(group)
        keys.add(variant_key(group[0][1], [section for _, _, section in group if section is not None]))
    return keys
