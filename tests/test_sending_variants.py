"""Each variant passes the pre-send checks (Gmail's 102 KB clip, absolute links, a 390 px phone),
or the send is refused with the reason."""

from __future__ import annotations

import pytest

from newsletter.rendering import RenderedEmail, render_issue_email
from subscribers import sending
from subscribers.models import Send
from subscribers.sending.variants import check_rendered, parse_key, variant_key

from .factories import make_sections, make_subscriber
from .sending_fixtures import make_sendable_issue

pytestmark = pytest.mark.django_db


def email(body: str) -> RenderedEmail:
    html = f"<html><body><div style='max-width: 640px'>{body}</div></body></html>"
    return RenderedEmail(subject="S", preheader="", html=html, text="Text {{unsubscribe_url}}")


@pytest.fixture
def issue():
    return make_sendable_issue(make_sections())


def test_the_real_issue_passes_in_every_variant(issue):
    for key in ("html:all", "text:all"):
        fmt, _ = parse_key(key)
        assert check_rendered(render_issue_email(issue, fmt=fmt), key) == []


def test_keys_name_the_format_and_sorted_sections():
    assert variant_key("html", []) == "html:all"
    assert variant_key("text", [5, 2, 5]) == "text:2,5"
    assert parse_key("text:2,5") == ("text", [2, 5])


def test_an_email_over_gmails_clip_is_refused(issue):
    make_subscriber("r@example.org")
    issue.intro = "Research worth reading, at length. " * 4000
    issue.save()
    with pytest.raises(sending.SendRefused, match="Gmail clips messages over 102 KB"):
        sending.start_send(issue)
    assert not Send.objects.exists()


def test_relative_links_are_refused():
    problems = check_rendered(
        email('<a href="/issues/2/">Read</a> <img src="figure.png" style="max-width:100%">')
    )
    assert len(problems) == 2
    assert "'/issues/2/' is not absolute" in problems[0]


def test_absolute_and_mailto_links_and_personal_links_pass():
    body = (
        '<a href="https://x.org/a">a</a> <a href="mailto:me@x.org">m</a> <a href="{{unsubscribe_url}}">u</a>'
    )
    assert check_rendered(email(body)) == []


@pytest.mark.parametrize(
    "body",
    [
        '<table width="600"><tr><td>wide</td></tr></table>',
        '<div style="width: 600px">wide</div>',
        '<div style="min-width: 480px; max-width: 100%">wide</div>',
        '<img src="https://x.org/big.png" alt="">',
    ],
)
def test_what_would_scroll_sideways_on_a_phone_is_refused(body):
    problems = check_rendered(email(body))
    assert len(problems) == 1 and "390px phone" in problems[0]


@pytest.mark.parametrize(
    "body",
    [
        '<table width="600" style="width: 100%; max-width: 600px"><tr><td>fluid</td></tr></table>',
        '<div style="width: 600px; max-width: 100%">capped</div>',
        '<img src="https://x.org/a.png" width="592" style="width: 100%; max-width: 592px" alt="">',
        '<img src="https://x.org/icon.png" width="32" height="32" alt="">',
        '<!--[if mso]><table width="640"><tr><td><![endif]--><p>Outlook only</p>'
        "<!--[if mso]></td></tr></table><![endif]-->",
    ],
)
def test_fluid_or_small_elements_pass(body):
    assert check_rendered(email(body)) == []
