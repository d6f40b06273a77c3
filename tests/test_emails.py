"""Every email is a name rendered from three templates, sent now or from a task worker."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django_tasks import TaskResultStatus

from newsletter import emails
from newsletter.rendering import RenderedEmail
from newsletter.tasks import send_email_task


def test_it_renders_the_three_templates():
    message = emails.build_message("test", "ada@example.org", {"sent_by": "Grace"})

    assert message.subject == "Test email from ML Safety Newsletter"
    assert message.to == ["ada@example.org"]
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert "This is a test email from ML Safety Newsletter (https://news.example.org/)." in message.body
    assert "Grace sent it" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "Grace sent it" in html
    assert re.search(r'<h1 style="[^"]+">This is a test email</h1>', html)  # CSS inlined
    assert "1 Example Street" in html and "1 Example Street" in message.body


def test_the_subject_is_one_line(settings, tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "multi.subject.txt").write_text("\n  Hello\n   {{ who }}  \n")
    (tmp_path / "email" / "multi.txt").write_text("Hi {{ who }}")
    (tmp_path / "email" / "multi.html").write_text('{% extends "email/base.html" %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    message = emails.build_message("multi", ["a@example.org", "b@example.org"], {"who": "Ada & Bob"})

    assert message.subject == "Hello Ada & Bob"
    assert message.to == ["a@example.org", "b@example.org"]


def test_the_text_part_is_not_html_escaped_and_the_html_part_is():
    message = emails.build_message("test", "ada@example.org", {"sent_by": "Tom & Jerry <tj@example.org>"})

    assert "Tom & Jerry <tj@example.org> sent it" in message.body
    assert "Tom &amp; Jerry &lt;tj@example.org&gt; sent it" in message.alternatives[0][0]


def test_it_sends_with_headers():
    emails.send("test", "ada@example.org", {}, headers={"X-Test-Send": "1"})

    [message] = mail.outbox
    assert message.subject == "Test email from ML Safety Newsletter"
    assert message.extra_headers["X-Test-Send"] == "1"


def test_the_task_sends_it_from_a_worker():
    result = send_email_task.enqueue("test", ["ada@example.org"], {"sent_by": "Grace"})

    assert result.status == TaskResultStatus.SUCCESSFUL
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert "Grace sent it" in message.body


def test_an_issue_message_is_personalised_for_its_recipient():
    rendered = RenderedEmail(
        subject="Issue #2",
        preheader="",
        html='<p>Hi {{name}}</p><a href="{{unsubscribe_url}}">Unsubscribe</a>',
        text="Hi {{name}}\nUnsubscribe: {{unsubscribe_url}}",
    )
    values = {"name": "<Eve>", "email": "eve@example.org", "unsubscribe_url": "https://x.org/u?a=1&b=2"}

    message = emails.issue_message(rendered, "eve@example.org", values, headers={"List-Id": "x"})

    assert message.body == "Hi <Eve>\nUnsubscribe: https://x.org/u?a=1&b=2"
    [(html, _)] = message.alternatives
    assert html == '<p>Hi &lt;Eve&gt;</p><a href="https://x.org/u?a=1&amp;b=2">Unsubscribe</a>'
    assert message.extra_headers["List-Id"] == "x"
    assert message.extra_headers["Message-ID"].endswith("@news.example.org>")


def test_a_plain_text_issue_message_has_no_html_part():
    rendered = RenderedEmail(subject="Issue #2", preheader="", html="", text="Hello")

    message = emails.issue_message(rendered, "ada@example.org", {})

    assert message.alternatives == []


@pytest.mark.parametrize("name", ["test"])
def test_every_named_email_has_its_three_templates(name):
    message = emails.build_message(name, "ada@example.org", {})

    assert message.subject and message.body and message.alternatives
