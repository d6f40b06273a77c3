"""Backups restore: `manage.py backup` taken in the middle of a send, then `manage.py restore` into a
fresh install, brings back every delivery in the state it had, and the media; rotation keeps the
newest; a damaged backup, or a database that holds a publication, is refused before anything
changes. On SQLite and on PostgreSQL (pg_dump, pg_restore), whichever DATABASE_URL names."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from operations import backups
from subscribers import sending
from subscribers.models import Delivery, Send
from subscribers.sending import claims
from tests.factories import make_sections, make_subscriber
from tests.sending_fixtures import make_sendable_issue
from tests.smtp_server import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
DELIVERY_STATE = (
    "SELECT id, send_id, subscriber_id, status, attempts, claim_token, claimed_at, lease_expires_at, "
    "sent_at, esp_message_id, error FROM subscribers_delivery ORDER BY id"
)
FIGURE = b"\x89PNG\r\n\x1a\n not really a png, but a file the backup must carry"


@pytest.fixture
def mid_send(settings):
    """A send caught halfway: some deliveries sent, a batch in a worker's hands (leased), the
    rest queued; and an uploaded figure in the media folder."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.SEND_BATCH_SIZE = 3
    issue = make_sendable_issue(make_sections())
    for index in range(8):
        make_subscriber(f"reader{index}@example.org")
    send = sending.start_send(issue)
    sending.send_batch(send.pk)  # three sent
    assert claims.claim_batch(send, 2, settings.SEND_LEASE_SECONDS)  # two in a worker's hands
    figure = Path(settings.MEDIA_ROOT) / "uploads" / "figure.png"
    figure.parent.mkdir(parents=True)
    figure.write_bytes(FIGURE)
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["queued"] * 3 + ["sending"] * 2 + ["sent"] * 3
    assert Send.objects.get().status == Send.Status.SENDING
    return send


def delivery_state() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(DELIVERY_STATE)
        return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def fresh_install(tmp_path):
    """A database of its own (a new SQLite file, or a new PostgreSQL database) and a media folder:
    (its DATABASE_URL, a function running a query in it, its media folder)."""
    media = tmp_path / "fresh-media"
    if connection.vendor == "sqlite":
        path = tmp_path / "fresh.sqlite3"

        def sqlite_query(sql: str) -> list[tuple]:
            with sqlite3.connect(path) as database:
                return [tuple(str(value) for value in row) for row in database.execute(sql)]

        yield f"sqlite:///{path}", sqlite_query, media
        return
    import psycopg

    name = f"nl_restore_{secrets.token_hex(4)}"
    params = backups._libpq_params()
    admin = {**params, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{name}"

    def query(sql: str) -> list[tuple]:
        with psycopg.connect(**{**params, "dbname": name}) as fresh:
            return [tuple(str(value) for value in row) for row in fresh.execute(sql).fetchall()]

    try:
        yield url, query, media
    finally:
        with psycopg.connect(**admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_a_backup_taken_mid_send_restores_every_delivery_into_a_fresh_install(
    mid_send, tmp_path, fresh_install
):
    url, query, media = fresh_install
    before = delivery_state()
    call_command("backup", to=str(tmp_path / "backups"), keep=3)
    (backup,) = backups.backups(tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["engine"] == connection.vendor
    assert manifest["rows"]["subscribers_delivery"] == 8
    assert manifest["media_files"] == 1

    if connection.vendor == "sqlite":
        # A fresh install as the README makes one: migrated, empty.
        migrated = manage("migrate", "--no-input", DATABASE_URL=url, MEDIA_ROOT=str(media))
        assert migrated.returncode == 0, migrated.stderr
    restored = manage("restore", str(backup), DATABASE_URL=url, MEDIA_ROOT=str(media))
    assert restored.returncode == 0, restored.stderr
    assert "every table has the backup's row count" in restored.stdout

    assert query(DELIVERY_STATE) == before
    assert query("SELECT status FROM subscribers_send") == [("sending",)]
    assert (media / "uploads" / "figure.png").read_bytes() == FIGURE
    # The restored site needs no migration and passes its checks.
    assert manage("migrate", "--check", DATABASE_URL=url, MEDIA_ROOT=str(media)).returncode == 0


def test_restore_refuses_a_database_that_holds_a_publication(mid_send, tmp_path):
    call_command("backup", to=str(tmp_path / "backups"), keep=3)
    (backup,) = backups.backups(tmp_path / "backups")
    Delivery.objects.filter(status="queued").update(status="cancelled")
    with pytest.raises(CommandError, match="already holds a publication"):
        call_command("restore", str(backup))
    assert Delivery.objects.filter(status="cancelled").count() == 3  # untouched


def test_restore_with_force_replaces_what_changed_since(mid_send, tmp_path):
    before = delivery_state()
    call_command("backup", to=str(tmp_path / "backups"), keep=3)
    Delivery.objects.filter(status="queued").update(status="cancelled")
    Path(settings.MEDIA_ROOT, "uploads", "figure.png").write_bytes(b"changed")
    call_command("restore", str(tmp_path / "backups"), force=True)  # the folder of backups: the newest
    assert delivery_state() == before
    assert Path(settings.MEDIA_ROOT, "uploads", "figure.png").read_bytes() == FIGURE


def test_a_damaged_backup_is_refused_before_anything_changes(mid_send, tmp_path):
    call_command("backup", to=str(tmp_path / "backups"), keep=3)
    (backup,) = backups.backups(tmp_path / "backups")
    dump = next(path for path in backup.iterdir() if path.name.startswith("database."))
    original = dump.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(backup), force=True)
    dump.write_bytes(original)
    (backup / "media.tar.gz").unlink()
    with pytest.raises(CommandError, match="incomplete: media.tar.gz is missing"):
        call_command("restore", str(backup), force=True)
    with pytest.raises(CommandError, match="is not a backup"):
        call_command("restore", str(tmp_path))


def test_rotation_keeps_the_newest_and_ignores_a_cut_off_backup(mid_send, tmp_path):
    folder = tmp_path / "backups"
    made = [backups.take(folder, keep=2) for _ in range(3)]
    (folder / ".backup-20000101T000000Z.partial").mkdir()  # a backup that was cut off
    assert backups.backups(folder) == made[1:]
    assert not made[0].exists()
    with pytest.raises(CommandError, match="Keep at least one"):
        call_command("backup", to=str(folder), keep=0)


def test_backups_go_to_s3_compatible_storage_with_rotation_and_come_back_from_there(
    mid_send, settings, monkeypatch
):
    import boto3  # type: ignore[import-untyped]  # no stubs installed
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        settings.BACKUP_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL)
        s3.create_bucket(Bucket="backups")
        before = delivery_state()
        for _ in range(3):
            call_command("backup", to="s3://backups/newsletter", keep=2)
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket="backups")["Contents"]]
        manifests = sorted(key for key in keys if key.endswith("/manifest.json"))
        assert len(manifests) == 2 and all(key.startswith("newsletter/backup-") for key in manifests)
        assert len(keys) == 2 * 3  # each: the database, the media, the manifest

        Delivery.objects.filter(status="queued").update(status="cancelled")
        Path(settings.MEDIA_ROOT, "uploads", "figure.png").unlink()
        call_command("restore", "s3://backups/newsletter", force=True)  # the newest there
    finally:
        server.stop()
    assert delivery_state() == before
    assert Path(settings.MEDIA_ROOT, "uploads", "figure.png").read_bytes() == FIGURE
