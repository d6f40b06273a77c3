"""CSV import and export, from the domain functions and from manage.py."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from subscribers import importing, suppression
from subscribers.exporting import HEADER, write_csv
from subscribers.models import Subscriber, Suppression

from .factories import make_section, make_subscriber

pytestmark = pytest.mark.django_db

BASIS = "Signed up on the old site's form in 2023, double opt-in."


@pytest.fixture
def sections():
    return [make_section("Robustness", position=0), make_section("Monitoring", position=1)]


def test_import_sorts_every_row_into_a_bucket(sections):
    make_subscriber("active@example.org", name="Kept")
    make_subscriber("noname@example.org")
    Subscriber.objects.create(email="pending@example.org")
    Subscriber.objects.create(
        email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    suppression.suppress("left@example.org", Suppression.Reason.UNSUBSCRIBED)
    suppression.suppress("bounced@example.org", Suppression.Reason.HARD_BOUNCE)
    data = (
        "Email,Name,Sections\n"
        "new@example.org,New Person,robustness\n"  # 2 created
        "NEW@example.org,Again,\n"  # 3 duplicate
        "not-an-address,Junk,\n"  # 4 invalid
        "other@example.org,,Monitoring;Robustness\n"  # 5 created, both sections = all
        "bounced@example.org,,\n"  # 6 suppressed
        "left@example.org,,\n"  # 7 suppressed (unsubscribed)
        "active@example.org,Changed,\n"  # 8 skipped: their own choices are kept
        "noname@example.org,Named,\n"  # 9 updated: name filled in
        "pending@example.org,,monitoring\n"  # 10 updated: now active
        "sect@example.org,,no-such-section\n"  # 11 invalid
    )
    report = importing.import_file(data.encode("utf-8"), consent_basis=BASIS)
    outcomes = {row.line: row.outcome for row in report.rows}
    assert outcomes == {
        2: "created",
        3: "skipped",
        4: "invalid",
        5: "created",
        6: "skipped",
        7: "skipped",
        8: "skipped",
        9: "updated",
        10: "updated",
        11: "invalid",
    }
    assert (report.created, report.updated, report.skipped, report.invalid) == (2, 2, 4, 2)
    messages = {row.line: row.message for row in report.rows}
    assert messages[3] == "Duplicate of line 2."
    assert "suppression list" in messages[6]
    assert "Unknown section" in messages[11]

    new = Subscriber.objects.get(email="new@example.org")
    assert new.status == Subscriber.Status.ACTIVE
    assert new.confirmed_at is not None
    assert new.consent_source == Subscriber.Source.IMPORT
    assert new.consent_basis == BASIS
    assert [s.slug for s in new.sections.all()] == ["robustness"]
    assert list(Subscriber.objects.get(email="other@example.org").sections.all()) == []
    assert Subscriber.objects.get(email="active@example.org").name == "Kept"
    assert Subscriber.objects.get(email="noname@example.org").name == "Named"
    assert Subscriber.objects.get(email="pending@example.org").status == Subscriber.Status.ACTIVE
    assert not Subscriber.objects.filter(email="bounced@example.org").exists()
    assert Subscriber.objects.get(email="left@example.org").status == Subscriber.Status.UNSUBSCRIBED


def test_import_requires_a_consent_basis(sections):
    with pytest.raises(importing.ImportFileError, match="consent basis"):
        importing.import_file("email\na@example.org\n", consent_basis="  ")
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"name\nAnn\n", "email"),
        ("email\nann@example.org\n".encode("utf-16"), "UTF-8"),
        (b"email\n\x00\x01\x02", "not a CSV"),
    ],
)
def test_an_unreadable_file_is_refused_clearly(data, message):
    with pytest.raises(importing.ImportFileError, match=message):
        importing.import_file(data, consent_basis=BASIS)


def test_import_reads_excel_style_files(sections):
    data = "\ufeffemail;name\r\nann@example.org;Ann\r\n".encode()
    report = importing.import_file(data, consent_basis=BASIS)
    assert report.created == 1
    assert Subscriber.objects.get().name == "Ann"


def test_a_dry_run_changes_nothing(sections):
    report = importing.import_file("email\na@example.org\nb@example.org\n", consent_basis=BASIS, dry_run=True)
    assert report.created == 2
    assert not Subscriber.objects.exists()


def test_the_import_command(tmp_path, sections):
    suppression.suppress("gone@example.org", Suppression.Reason.DELETED)
    path = tmp_path / "list.csv"
    path.write_text("email,name,sections\nann@example.org,Ann,robustness\ngone@example.org,,\nbad,,\n")
    out = io.StringIO()
    call_command("import_subscribers", str(path), "--consent", BASIS, stdout=out)
    output = out.getvalue()
    assert "1 created, 0 updated, 1 skipped, 1 invalid" in output
    assert "line 3: skipped: gone@example.org" in output
    assert "line 4: invalid: bad" in output
    ann = Subscriber.objects.get()
    assert ann.status == Subscriber.Status.ACTIVE
    assert ann.consent_basis == BASIS
    assert ann.consent_source == Subscriber.Source.IMPORT


def test_the_import_command_needs_consent_and_a_readable_file(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_subscribers", str(tmp_path / "missing.csv"), "--consent", BASIS)
    path = tmp_path / "list.csv"
    path.write_text("email\nann@example.org\n")
    with pytest.raises(CommandError, match="consent basis"):
        call_command("import_subscribers", str(path), "--consent", " ")


def test_the_export_command_writes_csv(sections):
    ann = make_subscriber("ann@example.org", name="Ann")
    ann.sections.set([sections[0]])
    Subscriber.objects.create(email="pending@example.org")
    out, err = io.StringIO(), io.StringIO()
    call_command("export_subscribers", "--status", "active", stdout=out, stderr=err)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["email"] for row in rows] == ["ann@example.org"]
    assert rows[0]["sections"] == "robustness"
    assert rows[0]["status"] == "active"
    assert list(rows[0]) == HEADER
    assert "1 subscribers written" in err.getvalue()


def test_the_export_command_filters_by_section_and_writes_files(tmp_path, sections):
    make_subscriber("all@example.org")
    chose = make_subscriber("monitor@example.org")
    chose.sections.set([sections[1]])
    target = tmp_path / "out.csv"
    call_command(
        "export_subscribers", "--section", "robustness", "--output", str(target), stderr=io.StringIO()
    )
    rows = list(csv.DictReader(target.open()))
    assert [row["email"] for row in rows] == ["all@example.org"]
    with pytest.raises(CommandError):
        call_command("export_subscribers", "--section", "nope")


def test_an_export_imports_again(sections):
    ann = make_subscriber("ann@example.org", name="Ann")
    ann.sections.set([sections[1]])
    out = io.StringIO()
    write_csv(Subscriber.objects.all(), out)
    Subscriber.objects.all().delete()
    report = importing.import_file(out.getvalue(), consent_basis=BASIS)
    assert report.created == 1
    again = Subscriber.objects.get()
    assert (again.email, again.name, [s.slug for s in again.sections.all()]) == (
        "ann@example.org",
        "Ann",
        ["monitoring"],
    )


def test_the_export_defuses_spreadsheet_formulas(sections):
    make_subscriber("ann@example.org", name='=HYPERLINK("http://evil.example")')
    out = io.StringIO()
    write_csv(Subscriber.objects.all(), out)
    row = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert row["name"].startswith("'=")
    Subscriber.objects.all().delete()
    importing.import_file(out.getvalue(), consent_basis=BASIS)
    assert Subscriber.objects.get().name.startswith("=HYPERLINK")
