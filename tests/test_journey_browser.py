"""One story, one server, one account per role (issue #9).

The site runs in real processes that stay up for the whole story (tests/journey_site.py): a
throwaway database, gunicorn, a `manage.py db_worker` and a real SMTP server. Every role is a
staff account in its group, never a superuser, with its own browser context, logging in through
the admin's login form:

 1. a reader subscribes on the public site (Robustness only) and confirms from the email;
 2. the writer drafts issue #1 in the admin, three summaries in three sections, one with a figure
    uploaded through the file input (but no alt text), and submits it;
 3. the editor comments on the figure and requests changes;
 4. the writer sees the comment, adds the alt text, replies and resubmits;
 5. the editor sees what changed, resolves the comment and approves (four eyes);
 6. the managing editor publishes, opens "Send to subscribers", finds the issue offered, starts the
    send and watches the progress bar until it shows the send finished;
 7. every subscriber got exactly one copy, with only their sections (and the figure, served);
 8. a subscriber reads the issue on the web from the email's link;
 9. she changes sections from the email's preferences link;
10. another one unsubscribes in one click, as a mail client does (RFC 8058 POST, no cookies);
11. a third unsubscribes from the email's unsubscribe page.

Every step fails if a page answered 4xx/5xx or logged a console error (CSP violations included);
the message says which role and step failed, and a screenshot is saved in test-artifacts/.
"""

from __future__ import annotations

import io
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.journey_site import JourneySite, journey_site, text_and_html

pytestmark = pytest.mark.browser

PASSWORD = "journey-Pa55word-for-every-role"
SECTIONS = ("Robustness", "Monitoring", "Alignment")
WRITER, EDITOR, MANAGING_EDITOR = "Writer", "Editor", "Managing editor"
STAFF = {WRITER: "wren", EDITOR: "edda", MANAGING_EDITOR: "mona"}
# Ana signs up on the public form; Bea and Cy were added by staff on a stated consent basis.
ANA, BEA, CY = "ana@example.org", "bea@example.org", "cy@example.org"
CHOSEN = {ANA: {"Robustness"}, BEA: {"Monitoring", "Alignment"}, CY: set(SECTIONS)}  # Cy: none = all

ISSUE_TITLE = "Robust vision, honest probes and aligned agents"
ISSUE_SUBJECT = "ML Safety Newsletter #1: robust vision, honest probes"
SUMMARIES = [
    {
        "section": "Robustness",
        "headline": "Pyramid adversarial training improves ViT performance",
        "body": "Adversarial training at several scales *helps* vision transformers on ImageNet.",
        "link": "https://arxiv.org/abs/2111.15121",
        "title": "Pyramid Adversarial Training Improves ViT Performance",
    },
    {
        "section": "Monitoring",
        "headline": "Finding what language models know without supervision",
        "body": "Unsupervised probes recover **latent knowledge** from model activations.",
        "link": "https://arxiv.org/abs/2212.03827",
        "title": "Discovering Latent Knowledge in Language Models Without Supervision",
    },
    {
        "section": "Alignment",
        "headline": "Agents that say what they will do",
        "body": "A benchmark of whether agents' stated plans match their actions.",
        "link": "https://arxiv.org/abs/2304.03279",
        "title": "Do the Rewards Justify the Means?",
    },
]
FIGURE_CAPTION = "Clean and adversarial accuracy across scales."
FIGURE_ALT = "Bar chart: pyramid adversarial training raises ImageNet accuracy at every scale."
COMMENT = "The figure has no alt text: describe it for readers who cannot see it."

# Chromium reports CSP violations on the console, but a listener also catches those of
# report-only policies and of frames.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""

SETUP = f"""
from django.contrib.auth.models import Group, User
from newsletter.models import Section
from subscribers import subscriptions
from subscribers.models import Subscriber

sections = {{
    name: Section.objects.create(name=name, slug=name.lower(), position=position)
    for position, name in enumerate({SECTIONS!r})
}}
for role, username in {STAFF!r}.items():
    user = User.objects.create_user(username, username + "@example.org", {PASSWORD!r}, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    assert not user.is_superuser
basis = "Asked for it at the NeurIPS booth, 2026 (signed form)."
subscriptions.add_confirmed(
    {BEA!r}, name="Bea", sections=[sections["Monitoring"], sections["Alignment"]],
    source=Subscriber.Source.ADMIN, basis=basis,
)
subscriptions.add_confirmed({CY!r}, name="Cy", sections=None, source=Subscriber.Source.ADMIN, basis=basis)
print("ready")
"""


def figure_png() -> bytes:
    """A small bar chart, as a writer's figure would be."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    for index, (clean, robust) in enumerate([(200, 120), (230, 170), (260, 220)]):
        x = 80 + index * 180
        draw.rectangle([x, 340 - clean, x + 60, 340], fill=(40, 90, 160))
        draw.rectangle([x + 70, 340 - robust, x + 130, 340], fill=(220, 120, 40))
    draw.line([40, 340, 620, 340], fill="black", width=2)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Actor:
    """One person with their own browser context; records every failed response and console error."""

    def __init__(self, browser, site: JourneySite, role: str, username: str = "") -> None:
        self.site = site
        self.role = role
        self.username = username
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(CSP_LISTENER)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"JS error on {self.page.url}: {exc}"))
        self.page.on("response", self._response)

    def __str__(self) -> str:
        return f"{self.role} ({self.username})" if self.username else self.role

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # Django's admin pages name no favicon, so Chrome's own request for one is a 404.
        if (message.location or {}).get("url", "").endswith("/favicon.ico"):
            return
        self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _response(self, response) -> None:
        url = response.url
        if response.status >= 400 and url.startswith(self.site.base_url) and not url.endswith("/favicon.ico"):
            self.problems.append(f"HTTP {response.status} for {response.request.method} {url}")

    def goto(self, path_or_url: str) -> None:
        url = path_or_url if path_or_url.startswith("http") else self.site.base_url + path_or_url
        response = self.page.goto(url)
        assert response is not None and response.ok, (
            f"{url} answered {response.status if response else 'nothing'}"
        )

    def log_in(self, next_url: str = "/admin/") -> None:
        """Through the admin's login form, as a person does."""
        self.goto(f"/admin/login/?next={next_url}")
        self.page.fill("#id_username", self.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state("load")
        if self.page.locator("#id_password").count():
            error = self.page.locator(".errornote, .errorlist").all_inner_texts()
            raise AssertionError(f"{self} could not log in: {error or 'still on the login page'}")

    def state(self):
        return self.page.locator(".editorial-state .workflow-state")

    def close(self) -> None:
        with suppress(Exception):
            self.context.close()


class Story:
    """Numbered steps; a failing one says who was doing what, with a screenshot and the site's logs."""

    def __init__(self, site: JourneySite, artifacts_dir: Path) -> None:
        self.site = site
        self.artifacts_dir = artifacts_dir
        self.number = 0
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def step(self, actor: Actor | None, title: str, who: str = "Mail") -> Iterator[None]:
        self.number += 1
        who = str(actor) if actor else who
        label = f"Step {self.number} — {who}: {title}"
        seen = len(actor.problems) if actor else 0
        started = time.monotonic()
        try:
            yield
            self.site.check_alive()
            if actor:
                problems = actor.problems[seen:]
                assert not problems, "a page failed:\n  " + "\n  ".join(problems)
        except Exception as exc:
            where, shot = "", ""
            if actor:
                where = f" (at {actor.page.url})"
                path = self.artifacts_dir / f"journey-step{self.number:02d}-failed.png"
                with suppress(Exception):
                    actor.page.screenshot(path=str(path), full_page=True)
                    shot = f"\nscreenshot: {path}"
                problems = actor.problems[seen:]
                if problems:
                    shot += "\nwhat the browser saw:\n  " + "\n  ".join(problems)
            raise AssertionError(f"{label} FAILED{where}:\n{exc}{shot}\n{self.site.logs(2000)}") from exc
        self.timings.append((label, time.monotonic() - started))


@pytest.fixture
def site(tmp_path) -> Iterator[JourneySite]:
    with journey_site(tmp_path / "site") as site:
        assert "ready" in site.shell(SETUP)
        yield site


def link_after(text: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}\s*(\S+)", text)
    assert match, f"no “{label}” link in:\n{text}"
    return match.group(1)


def fill_summary(page, index: int, summary: dict) -> None:
    page.click("#summaries-group .add-row a")
    page.select_option(f"#id_summaries-{index}-section", label=summary["section"])
    page.fill(f"#id_summaries-{index}-headline", summary["headline"])
    page.fill(f"#id_summaries-{index}-body", summary["body"])
    page.fill(f"#id_summaries-{index}-paper_link", summary["link"])
    page.fill(f"#id_summaries-{index}-paper_title", summary["title"])


def subscriber_row(site: JourneySite, address: str) -> tuple[str, str]:
    rows = site.query(
        "SELECT status, unsubscribe_channel FROM subscribers_subscriber WHERE email = ?", [address]
    )
    assert len(rows) == 1, f"expected one subscriber {address}, found {rows}"
    return rows[0]


def chosen_sections(site: JourneySite, address: str) -> set[str]:
    rows = site.query(
        "SELECT s.name FROM newsletter_section s"
        " JOIN subscribers_subscriber_sections c ON c.section_id = s.id"
        " JOIN subscribers_subscriber u ON u.id = c.subscriber_id WHERE u.email = ?",
        [address],
    )
    return {name for (name,) in rows}


PROGRESS_DONE = """(total) => {
    const bar = document.querySelector("progress[data-field=bar]");
    const status = document.querySelector("[data-field=status_label]");
    return Boolean(bar && status && bar.max === total && bar.value === total
        && status.textContent.trim() === "Finished");
}"""
PROGRESS_SHOWN = """() => {
    const bar = document.querySelector("progress[data-field=bar]");
    const figures = [...document.querySelectorAll(".send-progress [data-field]")]
        .map((node) => `${node.dataset.field}=${node.textContent.trim()}`).join(", ");
    return bar ? `bar ${bar.value}/${bar.max}; ${figures}` : "no progress bar";
}"""


def watch_progress_to_the_end(site: JourneySite, page, polls: list[int], recipients: int) -> None:
    """Wait until the send page, updating itself from its progress URL, shows every message sent and
    the send finished."""
    deadline = time.monotonic() + 30
    while not (200 in polls and page.evaluate(PROGRESS_DONE, recipients)):
        if time.monotonic() > deadline:
            deliveries = site.query("SELECT status, count(*) FROM subscribers_delivery GROUP BY status")
            sends = site.query("SELECT status FROM subscribers_send")
            raise AssertionError(
                "after 30 s the send page shows "
                f"“{page.evaluate(PROGRESS_SHOWN)}”, while the database has sends {sends} and "
                f"deliveries {deliveries}; the page polled its progress URL {len(polls)} times "
                f"(answers: {polls})"
            )
        page.wait_for_timeout(250)


def test_each_role_plays_its_part_from_draft_to_unsubscribe(browser, site, artifacts_dir):
    story = Story(site, artifacts_dir)
    base = site.base_url
    ana = Actor(browser, site, "Subscriber Ana")
    writer = Actor(browser, site, WRITER, STAFF[WRITER])
    editor = Actor(browser, site, EDITOR, STAFF[EDITOR])
    managing = Actor(browser, site, MANAGING_EDITOR, STAFF[MANAGING_EDITOR])
    cy = Actor(browser, site, "Subscriber Cy")
    try:
        with story.step(ana, "subscribes to Robustness only and confirms from the email"):
            ana.goto("/subscribe/")
            ana.page.get_by_label("Email address").fill(ANA)
            ana.page.get_by_label("Name (optional)").fill("Ana")
            ana.page.get_by_label("Monitoring").uncheck()
            ana.page.get_by_label("Alignment").uncheck()
            ana.page.get_by_role("button", name="Subscribe").click()
            expect(ana.page.get_by_role("heading", name="Check your inbox")).to_be_visible()
            (confirmation,) = site.wait_for_message(ANA, "Confirm your subscription")
            text, _ = text_and_html(confirmation)
            confirm_url = re.search(rf"{re.escape(base)}/subscribe/confirm/\S+", text).group(0)
            ana.goto(confirm_url)
            ana.page.get_by_role("button", name="Confirm my subscription").click()
            expect(ana.page.get_by_role("heading", name="You are subscribed")).to_be_visible()
            assert subscriber_row(site, ANA)[0] == "active"
            assert chosen_sections(site, ANA) == {"Robustness"}

        page = writer.page
        with story.step(writer, "drafts issue #1 with three summaries and an uploaded figure, submits it"):
            writer.log_in("/admin/newsletter/issue/add/")
            page.fill("#id_number", "1")
            page.fill("#id_title", ISSUE_TITLE)
            page.fill("#id_subject", ISSUE_SUBJECT)
            page.fill("#id_preheader", "Adversarial training for ViTs, probes for latent knowledge.")
            page.fill("#id_intro", "Welcome to the **first** issue of the newsletter.")
            for index, summary in enumerate(SUMMARIES):
                fill_summary(page, index, summary)
            page.set_input_files(
                "#id_summaries-0-figure",
                files=[{"name": "pyramid-accuracy.png", "mimeType": "image/png", "buffer": figure_png()}],
            )
            page.fill("#id_summaries-0-figure_caption", FIGURE_CAPTION)  # the alt text is forgotten
            page.click("input[name=_continue]")
            expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
            expect(writer.state()).to_have_text("Draft")
            issue_pk = int(re.search(r"/issue/(\d+)/change/", page.url).group(1))
            expect(page.locator("#summaries-0 .figure-thumb")).to_be_visible()
            # Every pre-publish check passes but the one the editor will flag.
            expect(page.locator(".editorial-checks .check-fail")).to_have_count(1)
            expect(page.locator(".editorial-checks [data-check=alt_text]")).to_have_class("check-fail")
            page.click("button[data-action=submit]")
            expect(writer.state()).to_have_text("In review")
            expect(page.locator("button[data-action=approve]")).to_have_count(0)

        page = editor.page
        with story.step(editor, "comments on the figure and requests changes"):
            editor.log_in()
            expect(page.locator("#dashboard-review")).to_contain_text(ISSUE_TITLE)
            page.click(f"#dashboard-review a:has-text('{ISSUE_TITLE}')")
            expect(editor.state()).to_have_text("In review")
            page.select_option("#id_comment_summary", label=SUMMARIES[0]["headline"])
            page.fill("#id_comment_body", COMMENT)
            page.click(".editorial-comment-form button[type=submit]")
            expect(page.locator(".editorial-thread")).to_contain_text(COMMENT)
            page.fill(
                ".editorial-action-form:has(button[data-action=request_changes]) input[name=comment]",
                "One fix, please: see the comment on the figure.",
            )
            page.click("button[data-action=request_changes]")
            expect(editor.state()).to_have_text("Changes requested")

        page = writer.page
        with story.step(writer, "sees the comment, adds the alt text, replies and resubmits"):
            writer.goto("/admin/")
            expect(page.locator("#dashboard-my-drafts")).to_contain_text("1 open comment for you")
            page.click(f"#dashboard-my-drafts a:has-text('{ISSUE_TITLE}')")
            expect(page.locator(".editorial-thread")).to_contain_text(COMMENT)
            expect(page.locator("#id_summaries-0-headline")).to_have_value(SUMMARIES[0]["headline"])
            page.fill("#id_summaries-0-figure_alt", FIGURE_ALT)
            page.click("input[name=_continue]")
            expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
            expect(page.locator("#summaries-0 .figure-thumb")).to_be_visible()  # the figure stayed
            page.fill(".editorial-reply-form input[name=body]", "Added the alt text.")
            page.click(".editorial-reply-form button[type=submit]")
            expect(page.locator(".editorial-reply")).to_contain_text("Added the alt text.")
            page.click("button[data-action=submit]")
            expect(writer.state()).to_have_text("In review")
            expect(page.locator(".editorial-checks [data-check=alt_text]")).to_have_class("check-pass")

        page = editor.page
        with story.step(editor, "sees what changed, resolves the comment and approves"):
            editor.goto(f"/admin/newsletter/issue/{issue_pk}/change/")
            expect(page.locator("#editorial-review-changes")).to_contain_text("raises ImageNet accuracy")
            page.click(".editorial-thread-actions button:has-text('Resolve')")
            expect(page.locator(".editorial-thread")).to_contain_text(f"resolved by {STAFF[EDITOR]}")
            page.click("button[data-action=approve]")
            expect(editor.state()).to_have_text("Approved")
            expect(page.locator("button[data-action=publish]")).to_have_count(0)  # not for editors

        page = managing.page
        with story.step(managing, "publishes, starts the send from the admin form, watches it finish"):
            managing.log_in(f"/admin/newsletter/issue/{issue_pk}/change/")
            expect(page.locator(".editorial-checks .check-fail")).to_have_count(0)
            page.click("button[data-action=publish]")
            expect(managing.state()).to_have_text("Published")
            page.get_by_role("link", name="Send to subscribers").click()
            page.wait_for_load_state("load")
            # The issue published a moment ago, on this long-running server, is offered and picked.
            issue_choice = page.locator(f"#id_issue option[value='{issue_pk}']")
            expect(issue_choice).to_have_count(1)
            expect(page.locator("#id_issue")).to_have_value(str(issue_pk))
            page.get_by_label("Yes, send this issue now").check()
            progress_polls: list[int] = []
            page.on("response", lambda r: "/progress.json" in r.url and progress_polls.append(r.status))
            page.click("input[type=submit][value='Start sending']")
            expect(page.locator(".messagelist .success")).to_contain_text("Sending started: 3 recipients.")
            # The bar moves by itself (static/js/send-progress.js polls the JSON progress URL), with
            # no reload: the page was drawn while the send had only started.
            watch_progress_to_the_end(site, page, progress_polls, recipients=3)
            expect(page.locator("[data-field=sent]")).to_have_text("3")
            expect(page.locator("[data-field=failed]")).to_have_text("0")
            expect(page.locator("[data-field=remaining]")).to_have_text("0")
            managing.goto("/admin/subscribers/send/")
            expect(page.locator("#result_list")).to_contain_text(ISSUE_TITLE)
            managing.goto("/admin/subscribers/subscriber/")
            for address in (ANA, BEA, CY):
                expect(page.locator("#result_list")).to_contain_text(address)

        issue_emails: dict[str, tuple[str, str, object]] = {}
        with story.step(None, "every subscriber got exactly one copy, with only their sections"):
            for address in CHOSEN:
                site.wait_for_message(address, ISSUE_SUBJECT)
            time.sleep(0.5)  # a duplicate would have arrived by now: the send is finished
            for address, sections in CHOSEN.items():
                copies = [m for m in site.messages_to(address) if ISSUE_SUBJECT in str(m["Subject"])]
                assert len(copies) == 1, f"{address} got {len(copies)} copies of the issue"
                (message,) = copies
                text, html = text_and_html(message)
                assert text and html, f"{address}: the email lacks a text or an HTML part"
                for name in SECTIONS:
                    in_text = f"\n{name}\n{'-' * len(name)}\n" in text
                    in_html = f">{name}</h2>" in html
                    expected = name in sections
                    assert in_text == expected, f"{address}: section {name} in the text part is {in_text}"
                    assert in_html == expected, f"{address}: section {name} in the HTML part is {in_html}"
                figure = re.search(rf'<img[^>]+src="({re.escape(base)}/media/[^"]+)"', html)
                assert bool(figure) == ("Robustness" in sections), f"{address}: figure in the email: {figure}"
                if figure:
                    assert FIGURE_ALT in html, f"{address}: the figure's alt text is not in the email"
                    with urllib.request.urlopen(figure.group(1), timeout=10) as response:
                        assert response.status == 200
                        assert response.headers["Content-Type"].startswith("image/")
                assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
                issue_emails[address] = (text, html, message)
            deliveries = site.query("SELECT status, count(*) FROM subscribers_delivery GROUP BY status")
            assert deliveries == [("sent", 3)], deliveries

        page = ana.page
        with story.step(ana, "reads the issue on the web from the email's link, figure and all"):
            text, _, _ = issue_emails[ANA]
            ana.goto(link_after(text, "Read it on the web:"))
            expect(page.locator("h1")).to_have_text(ISSUE_TITLE)
            for summary in SUMMARIES:
                expect(page.locator("body")).to_contain_text(summary["headline"])
            figure = page.get_by_alt_text(FIGURE_ALT)
            expect(figure).to_be_visible()
            figure.scroll_into_view_if_needed()
            page.wait_for_function(
                "(img) => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
            )

        with story.step(ana, "opens the preferences link from the email and adds a section"):
            text, _, _ = issue_emails[ANA]
            ana.goto(link_after(text, "Choose sections or format:"))
            expect(page.get_by_label("Robustness")).to_be_checked()
            expect(page.get_by_label("Monitoring")).not_to_be_checked()
            page.get_by_label("Monitoring").check()
            page.get_by_role("button", name="Save preferences").click()
            expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
            assert chosen_sections(site, ANA) == {"Robustness", "Monitoring"}
            assert subscriber_row(site, ANA)[0] == "active"

        with story.step(None, "Bea's mail client unsubscribes her in one click (RFC 8058 POST, no cookies)"):
            _, _, message = issue_emails[BEA]
            target = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
            assert target.startswith(f"{base}/unsubscribe/"), target
            assert "<mailto:" in message["List-Unsubscribe"]
            request = urllib.request.Request(
                target,
                data=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, response.status
            assert subscriber_row(site, BEA) == ("unsubscribed", "one_click")

        page = cy.page
        with story.step(cy, "opens the unsubscribe link from the email and presses the button"):
            text, _, _ = issue_emails[CY]
            cy.goto(link_after(text, "Unsubscribe:"))
            assert subscriber_row(site, CY)[0] == "active"  # opening the page changes nothing
            page.get_by_role("button", name="Unsubscribe").click()
            expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
            assert subscriber_row(site, CY) == ("unsubscribed", "link")

        with story.step(None, "each move of the issue was made by the role it belongs to", who="History"):
            moves = site.query(
                "SELECT t.from_status, t.to_status, u.username FROM editorial_transition t"
                " LEFT JOIN auth_user u ON u.id = t.actor_id ORDER BY t.id"
            )
            assert moves == [
                ("draft", "in_review", STAFF[WRITER]),
                ("in_review", "changes_requested", STAFF[EDITOR]),
                ("changes_requested", "in_review", STAFF[WRITER]),
                ("in_review", "approved", STAFF[EDITOR]),
                ("approved", "published", STAFF[MANAGING_EDITOR]),
            ], moves
            superusers = site.query("SELECT count(*) FROM auth_user WHERE is_superuser")
            assert superusers == [(0,)], f"the story must run without a superuser: {superusers}"
        print("\n".join(f"{seconds:5.1f} s  {label}" for label, seconds in story.timings))
    finally:
        for actor in (ana, writer, editor, managing, cy):
            actor.close()
