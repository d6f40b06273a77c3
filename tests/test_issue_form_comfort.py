"""The issue form's comforts: a new issue starts with the next free number, and the email subject
and preheader count their characters live against the limits the email checks use (a static
script, CSP-clean: no console error in a real browser)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from editorial import workflow
from newsletter.checks import PREHEADER_MAX, SUBJECT_MAX
from tests import test_roles
from tests.factories import create_roles, make_issue, make_user

PASSWORD = "correct horse battery staple"
writer = test_roles.writer


@pytest.mark.django_db
def test_the_next_free_number_follows_the_highest_taken_drafts_included():
    assert workflow.next_issue_number() == 1
    make_issue(4)
    make_issue(7, published=False)

    assert workflow.next_issue_number() == 8


@pytest.mark.django_db
def test_the_add_form_starts_with_the_next_free_number_and_carries_the_limits(client, writer):
    make_issue(12)
    client.force_login(writer)

    page = client.get(reverse("admin:newsletter_issue_add")).content.decode()

    assert 'name="number" value="13"' in page
    assert f'data-count-max="{SUBJECT_MAX}"' in page and f'data-count-max="{PREHEADER_MAX}"' in page
    assert (
        'name="number" value="5"'
        in client.get(reverse("admin:newsletter_issue_add") + "?number=5").content.decode()
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_subject_and_preheader_count_as_the_writer_types(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    create_roles()
    make_user("wanda", "Writer", password=PASSWORD)
    make_issue(3)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/newsletter/issue/add/")
    page.fill("#id_username", "wanda")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    expect(page.locator("#id_number")).to_have_value("4")
    subject_count = page.locator("#id_subject-count")
    expect(subject_count).to_have_text(f"0 / {SUBJECT_MAX} characters")
    page.fill("#id_subject", "x" * (SUBJECT_MAX + 2))
    expect(subject_count).to_have_text(f"{SUBJECT_MAX + 2} / {SUBJECT_MAX} characters: 2 too many")
    expect(subject_count).to_have_class("character-count character-count-over")
    page.fill("#id_subject", "Robust vision")
    expect(subject_count).to_have_text(f"13 / {SUBJECT_MAX} characters")
    expect(subject_count).to_have_class("character-count")
    # Counted as the checks count (code points): an emoji is one character, not two.
    page.fill("#id_preheader", "Honest models 🎯")
    expect(page.locator("#id_preheader-count")).to_have_text(f"15 / {PREHEADER_MAX} characters")
    assert page.locator("#id_preheader").get_attribute("aria-describedby").endswith("id_preheader-count")
    assert not page.console_errors  # a CSP violation would be one
