"""Open and click tracking are off unless the publication turns them on, and the choice reaches
every issue message the ESP gets."""

from __future__ import annotations

import pytest
from django.core import mail

from subscribers import sending

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def anymail_test_backend(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.SEND_BATCH_ESP = "none"


@pytest.mark.parametrize("opens, clicks", [(False, False), (True, False), (True, True)])
def test_issue_messages_carry_the_publications_tracking_choice(
    anymail_test_backend, settings, opens, clicks, django_capture_on_commit_callbacks
):
    settings.TRACK_OPENS, settings.TRACK_CLICKS = opens, clicks
    sections = make_sections()
    make_subscriber("ada@example.org")
    make_subscriber("bo@example.org")

    with django_capture_on_commit_callbacks(execute=True):  # the batches are enqueued on commit
        sending.start_send(make_sendable_issue(sections))

    assert len(mail.outbox) == 2
    asked = {(getattr(m, "track_opens", False), getattr(m, "track_clicks", False)) for m in mail.outbox}
    assert asked == {(opens, clicks)}
