"""A managing editor starts a send and then watches it: the send's page with its progress, the
list of sends and deliveries, and the subscribers (issue #9: all three were a bare 403, the
group had the send permission but no view permissions). Editors and writers see none of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from subscribers import sending
from tests.factories import make_sections, make_subscriber, make_user
from tests.sending_fixtures import make_sendable_issue, start_send_in_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = make_sendable_issue(make_sections())
    make_subscriber("reader@example.org")
    return issue


def test_a_managing_editor_starts_a_send_and_watches_it(client, issue):
    client.force_login(make_user("max", "Managing editor"))

    response = start_send_in_admin(client, issue)
    send = issue.sends.get()

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:subscribers_send_change", args=[send.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["can_control"]
    assert client.get(reverse("admin:subscribers_send_progress", args=[send.pk])).json()["total"] == 1
    assert client.get(reverse("admin:subscribers_send_changelist")).status_code == 200
    assert client.get(reverse("admin:subscribers_delivery_changelist")).status_code == 200


def test_a_managing_editor_sees_the_subscribers_but_does_not_change_them(client, issue):
    client.force_login(make_user("max", "Managing editor"))

    listing = client.get(reverse("admin:subscribers_subscriber_changelist"))
    subscriber = listing.context["cl"].result_list[0]
    change = client.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]))

    assert listing.status_code == 200 and "reader@example.org" in listing.content.decode()
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert client.get(reverse("admin:subscribers_subscriber_import")).status_code == 403


@pytest.mark.parametrize("role", ["Writer", "Editor"])
def test_writers_and_editors_do_not_see_sends_or_subscribers(client, issue, role):
    send = sending.start_send(issue)
    client.force_login(make_user("someone", role))

    for url in [
        reverse("admin:subscribers_send_change", args=[send.pk]),
        reverse("admin:subscribers_send_changelist"),
        reverse("admin:subscribers_send_progress", args=[send.pk]),
        reverse("admin:subscribers_subscriber_changelist"),
    ]:
        assert client.get(url).status_code == 403, url


def test_only_the_managing_editor_group_has_the_view_permissions_of_sending():
    watching = {"view_send", "view_delivery", "view_subscriber", "view_suppression", "view_outboxmessage"}

    def codenames(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert watching <= codenames("Managing editor")
    assert not watching & (codenames("Writer") | codenames("Editor"))
    assert not {"change_subscriber", "delete_subscriber", "add_subscriber", "delete_send"} & codenames(
        "Managing editor"
    )
