"""Nothing the site shows is frozen when it starts: what depends on the time, the database or a
setting is worked out for each request, so a server that stays up sees issues published, and
settings changed, after it started (issue #9: an issue published after the start could not be
sent until a restart)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db


def test_an_issue_published_after_the_start_can_be_sent(client):
    client.force_login(make_user("max", "Managing editor"))
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):  # up for two hours
        issue = make_issue(5, title="Published since the start", published_at=timezone.now())

        response = client.get("/admin/subscribers/send/add/")

    assert issue in response.context["form"].fields["issue"].queryset


def test_an_issue_still_to_come_cannot_be_sent_until_its_time(client):
    client.force_login(make_user("max", "Managing editor"))
    issue = make_issue(5, published_at=timezone.now() + timedelta(hours=1))

    before = client.get("/admin/subscribers/send/add/").context["form"].fields["issue"].queryset
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        after = client.get("/admin/subscribers/send/add/").context["form"].fields["issue"].queryset

    assert issue not in before
    assert issue in after


def test_the_admin_header_follows_the_site_name_setting(admin_client, settings):
    settings.SITE_NAME = "The Alignment Digest"

    page = admin_client.get("/admin/").content.decode()

    assert "The Alignment Digest" in page
    assert "<title>Site administration | The Alignment Digest</title>" in page
