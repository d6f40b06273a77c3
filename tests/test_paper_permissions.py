"""Who changes a paper, and who sees it. A paper is shared by every summary of it, so the issues
that use it decide: a writer changes a paper only when their own drafts alone use it (or nobody
does yet), an editor one that only issues still being edited use, and a paper on the public site
is corrected by a managing editor (the admin's history keeps who changed what). A writer's paper
list and "summarised in" never show what exists only in other writers' drafts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from editorial import roles
from newsletter.models import Issue, Paper
from tests.factories import make_issue, make_paper, make_section, make_summary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "writer": make_user("wanda", "Writer"),
        "other": make_user("otto", "Writer"),
        "editor": make_user("edith", "Editor"),
        "managing": make_user("max", "Managing editor"),
    }


@pytest.fixture
def papers(people):
    section = make_section()
    published = make_issue(1, title="Out already")
    own = make_issue(2, published=False, created_by=people["writer"])
    theirs = make_issue(3, published=False, created_by=people["other"])
    found = {
        "own": make_paper("Only in my draft", url="https://arxiv.org/abs/2201.00001"),
        "theirs": make_paper("Only in Otto's draft", url="https://arxiv.org/abs/2201.00002"),
        "shared": make_paper("In both drafts", url="https://arxiv.org/abs/2201.00003"),
        "public": make_paper("On the public site", url="https://arxiv.org/abs/2201.00004"),
        "unused": make_paper("Not summarised yet", url="https://arxiv.org/abs/2201.00005"),
    }
    make_summary(own, section, headline="My take", paper=found["own"])
    make_summary(theirs, section, headline="Otto's secret headline", paper=found["theirs"])
    make_summary(own, section, headline="My shared take", paper=found["shared"])
    make_summary(theirs, section, headline="Otto's shared take", paper=found["shared"])
    make_summary(own, section, headline="My take on a public paper", paper=found["public"])
    make_summary(published, section, headline="The published summary", paper=found["public"])
    return found


def change(client, paper: Paper, title: str):
    data = {
        "title": title,
        "url": paper.url,
        "authors": "",
        "venue": "",
        "year": "",
        "arxiv_id": "",
        "doi": "",
    }
    return client.post(reverse("admin:newsletter_paper_change", args=[paper.pk]), data)


def title_of(paper: Paper) -> str:
    return Paper.objects.get(pk=paper.pk).title


@pytest.mark.parametrize("which", ["own", "unused"])
def test_a_writer_changes_a_paper_only_their_drafts_use(client, people, papers, which):
    client.force_login(people["writer"])

    response = change(client, papers[which], "Corrected title")

    assert response.status_code == 302
    assert title_of(papers[which]) == "Corrected title"


@pytest.mark.parametrize(
    ("which", "reason", "title"),
    [
        pytest.param(
            "public",
            "which is on the public site: only a managing editor corrects it",
            "On the public site",
            id="a-paper-on-the-public-site",
        ),
        pytest.param(
            "shared", "also summarised in #3", "In both drafts", id="a-paper-another-writers-draft-uses"
        ),
    ],
)
def test_a_writer_may_not_change(client, people, papers, which, reason, title):
    client.force_login(people["writer"])

    response = change(client, papers[which], "Rewritten")

    assert response.status_code == 403
    assert reason in response.content.decode()
    assert title_of(papers[which]) == title


def test_the_page_of_a_paper_a_writer_may_not_change_says_why_and_is_read_only(client, people, papers):
    client.force_login(people["writer"])

    response = client.get(reverse("admin:newsletter_paper_change", args=[papers["public"].pk]))

    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "only a managing editor corrects it" in response.content.decode()


def test_an_editor_changes_a_paper_only_drafts_use(client, people, papers):
    client.force_login(people["editor"])

    assert change(client, papers["shared"], "Fixed by the editor").status_code == 302
    assert title_of(papers["shared"]) == "Fixed by the editor"
    assert change(client, papers["public"], "Rewritten").status_code == 403


def test_an_editor_may_not_change_a_paper_of_a_scheduled_issue(client, people, papers):
    Issue.objects.filter(number=3).update(
        status=Issue.Status.SCHEDULED, scheduled_for=timezone.now() + timedelta(days=1)
    )
    client.force_login(people["editor"])

    response = change(client, papers["theirs"], "Rewritten")

    assert response.status_code == 403
    assert "which is scheduled" in response.content.decode()


def test_a_managing_editor_corrects_a_public_paper_and_the_history_keeps_it(client, people, papers):
    client.force_login(people["managing"])

    assert change(client, papers["public"], "Corrected title").status_code == 302

    assert title_of(papers["public"]) == "Corrected title"
    entry = LogEntry.objects.get(object_id=str(papers["public"].pk))
    assert entry.user == people["managing"] and "Title" in entry.get_change_message()


def test_a_writers_paper_list_leaves_out_papers_only_other_drafts_use(client, people, papers):
    client.force_login(people["writer"])

    response = client.get(reverse("admin:newsletter_paper_changelist"))

    listed = {paper.title: paper.summary_count for paper in response.context["cl"].result_list}
    # Counts are of the summaries the writer may know of: not Otto's draft's.
    assert listed == {
        "In both drafts": 1,
        "Not summarised yet": 0,
        "On the public site": 2,
        "Only in my draft": 1,
    }


def test_an_editor_sees_every_paper(client, people, papers):
    client.force_login(people["editor"])

    response = client.get(reverse("admin:newsletter_paper_changelist"))

    assert response.context["cl"].result_count == 5


def test_summarised_in_shows_a_writer_only_what_they_may_see(client, people, papers):
    client.force_login(people["writer"])

    page = client.get(reverse("admin:newsletter_paper_change", args=[papers["shared"].pk])).content.decode()

    assert "My shared take" in page
    assert "Otto&#x27;s shared take" not in page and "Otto's shared take" not in page


def test_summarised_in_links_a_public_summary_to_the_public_page_for_a_writer(client, people, papers):
    client.force_login(people["writer"])

    page = client.get(reverse("admin:newsletter_paper_change", args=[papers["public"].pk])).content.decode()

    assert 'href="/issues/1/#summary-' in page
    assert "My take on a public paper" in page


def test_a_writer_opening_a_paper_only_another_draft_uses_is_refused(client, people, papers):
    client.force_login(people["writer"])

    response = client.get(reverse("admin:newsletter_paper_change", args=[papers["theirs"].pk]))

    assert response.status_code == 403
    assert "Otto&#x27;s secret headline" not in response.content.decode()
    assert "used only in other writers&#x27; drafts" in response.content.decode()


def test_the_rule_itself(people, papers):
    writer, editor, managing = people["writer"], people["editor"], people["managing"]

    assert [name for name in papers if roles.can_change_paper(writer, papers[name])] == ["own", "unused"]
    assert [name for name in papers if roles.can_change_paper(editor, papers[name])] == [
        "own",
        "theirs",
        "shared",
        "unused",
    ]
    assert all(roles.can_change_paper(managing, paper) for paper in papers.values())
