"""A subscriber's whole journey in a real browser: subscribe with two sections, confirm from the
email, change preferences, unsubscribe with the button, subscribe again. Every page is checked with
axe-core and for console errors; screenshots land in test-artifacts/subscribers-*.png."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from subscribers.models import Subscriber, Suppression

from .factories import make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}


def link_in(message, path_prefix: str, live_server) -> str:
    url = re.search(rf"https://news\.example\.org({re.escape(path_prefix)}[^\s]+)", message.body).group(1)
    return live_server.url + url


def check(page, name: str, artifacts_dir) -> None:
    """No blocking axe-core violation on the page as it is now; a screenshot for people to look at."""
    from axe_playwright_python.sync_playwright import Axe

    page.screenshot(path=str(artifacts_dir / f"subscribers-{name}.png"), full_page=True)
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['id']}: {v['help']}" for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"{name}: {blocking}"


def press(page, button: str, heading: str, name: str, artifacts_dir) -> None:
    """Press `button`, wait for the page it loads, see `heading` on it and check that page as `name`."""
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name=heading).is_visible()
    check(page, name, artifacts_dir)


def test_subscribe_confirm_change_unsubscribe_and_come_back(live_server, page, artifacts_dir):
    cache.clear()
    make_section("Robustness", position=0)
    make_section("Monitoring", position=1)
    make_section("Alignment", position=2)

    # Subscribe with two of the three sections.
    page.goto(live_server.url + "/subscribe/")
    check(page, "1-subscribe", artifacts_dir)
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_label("Name (optional)").fill("Rea Der")
    page.get_by_label("Monitoring").uncheck()
    press(page, "Subscribe", "Check your inbox", "2-check-inbox", artifacts_dir)
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert sorted(s.slug for s in subscriber.sections.all()) == ["alignment", "robustness"]

    # Open the confirmation link from the email; the page alone changes nothing.
    [confirmation] = mail.outbox
    page.goto(link_in(confirmation, "/subscribe/confirm/", live_server))
    check(page, "3-confirm", artifacts_dir)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    press(page, "Confirm my subscription", "You are subscribed", "4-confirmed", artifacts_dir)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.consent_ip == "127.0.0.1"
    assert "Chrome" in subscriber.consent_user_agent

    # Change preferences from the welcome email's link.
    welcome = mail.outbox[-1]
    assert welcome.subject.startswith("Welcome")
    page.goto(link_in(welcome, "/preferences/", live_server))
    check(page, "5-preferences", artifacts_dir)
    page.get_by_label("Alignment").uncheck()
    page.get_by_label("Plain text").check()
    page.get_by_label("Pause").select_option("2")
    page.get_by_label("Name", exact=True).fill("Rea")
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("Your preferences are saved.").is_visible()
    check(page, "6-preferences-saved", artifacts_dir)
    subscriber.refresh_from_db()
    assert [s.slug for s in subscriber.sections.all()] == ["robustness"]
    assert subscriber.format == Subscriber.Format.TEXT
    assert subscriber.paused_issues == 2
    assert subscriber.name == "Rea"

    # Unsubscribe with the button.
    page.get_by_role("link", name="Unsubscribe").click()
    page.wait_for_load_state("load")
    check(page, "7-unsubscribe", artifacts_dir)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE  # opening the page changed nothing
    press(page, "Unsubscribe", "You are unsubscribed", "8-unsubscribed", artifacts_dir)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribe_channel == Subscriber.Channel.LINK
    assert Suppression.objects.count() == 1
    assert mail.outbox[-1].subject.startswith("You have unsubscribed")

    # Come back with the undo button.
    press(page, "Undo: subscribe me again", "You are subscribed again", "9-resubscribed", artifacts_dir)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert Suppression.objects.count() == 0

    # A phone-sized screen does not scroll sideways on the busiest page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link_in(welcome, "/preferences/", live_server))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir / "subscribers-10-preferences-phone.png"), full_page=True)

    assert page.console_errors == []


def test_a_broken_link_shows_a_clear_page(live_server, page, artifacts_dir):
    response = page.goto(live_server.url + "/unsubscribe/not-a-real-token/")
    assert response.status == 400
    assert page.get_by_role("heading", name="This link is not valid").is_visible()
    check(page, "link-error", artifacts_dir)
    # The only console line is Chrome noting the page's own 400 status.
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def test_the_admin_list_draws_the_growth_chart(live_server, page, artifacts_dir, django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    django_user_model.objects.create_superuser("boss", "boss@example.org", "a-long-test-password")
    now = timezone.now()
    for n in range(30):
        Subscriber.objects.create(
            email=f"reader{n}@example.org",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now - timedelta(days=5 * n),
        )
    for n in range(6):
        Subscriber.objects.create(
            email=f"left{n}@example.org",
            status=Subscriber.Status.UNSUBSCRIBED,
            confirmed_at=now - timedelta(days=200),
            unsubscribed_at=now - timedelta(days=9 * n),
        )
    page.goto(live_server.url + "/admin/login/?next=/admin/subscribers/subscriber/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    chart = page.locator("svg.growth-chart")
    assert chart.is_visible()
    assert chart.locator("rect").count() == 2 * 26
    page.screenshot(path=str(artifacts_dir / "subscribers-admin-list.png"), full_page=True)
    # Django's admin pages name no favicon, so Chrome's request for /favicon.ico is a 404.
    assert [e for e in page.console_errors if "404" not in e] == []
