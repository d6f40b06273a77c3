"""Backups that restore: a consistent snapshot of the database plus the media, in one folder each.

`take(destination, keep)` writes `backup-<UTC time>/` under `destination`
(backup-20261201T031500.123456Z):

- `database.sqlite3`, made with SQLite's online backup API (pages copied while other processes go on
  writing; the copy is one consistent moment), or `database.dump`, `pg_dump`'s custom format, taken
  in a snapshot exported from a REPEATABLE READ transaction, in which the row counts are read too;
- `media.tar.gz`, the uploaded files (when they are on the local disk; object storage keeps its
  own copies);
- `manifest.json`: when, which engine, each file's size and SHA-256, the applied migrations and the
  row count of every table, as of the snapshot.

The folder is written as `.backup-<time>.partial` and renamed when complete, so a backup cut off
halfway is never mistaken for one; then all but the newest `keep` backups are deleted.
A destination `s3://bucket/prefix` (any S3-compatible store: BACKUP_S3_ENDPOINT_URL and the usual
AWS_* credentials) gets the same folder, uploaded file by file with the manifest last, so there
too a backup without its manifest does not count; rotation deletes the older ones' objects.

`restore(source, force)` (a folder; `fetched` first downloads one from S3) checks every file
against the manifest before touching anything, refuses a database that already holds a publication
(issues, subscribers or sends) unless `force`, replaces the database with the snapshot (`sqlite3`
backup API, or `pg_restore --clean`), unpacks the media, and compares every table's row count with
the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection

FORMAT = 1
NAME = re.compile(r"backup-\d{8}T\d{6}(\.\d+)?Z")
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
MEDIA_FILE = "media.tar.gz"


class BackupError(Exception):
    """A backup or restore we will not (or could not) do; the message says why."""


@dataclass
class RestoreReport:
    source: Path
    engine: str
    tables: int
    rows: int
    media_files: int
    migrations_to_apply: list[str] = field(default_factory=list)


# Taking a backup ----------------------------------------------------------------------------------


def take(destination: Path, keep: int) -> Path:
    """Write a complete backup under `destination`, keep the newest `keep`; the backup's folder."""
    if keep < 1:
        raise BackupError("Keep at least one backup.")
    destination.mkdir(parents=True, exist_ok=True)
    moment = datetime.now(UTC)
    # To the microsecond: two backups never share a name, here or in a bucket.
    name = f"backup-{moment:%Y%m%dT%H%M%S.%f}Z"
    partial = destination / f".{name}.partial"
    partial.mkdir()
    try:
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": moment.isoformat(), "files": {}}
        manifest.update(_dump_database(partial))
        media = _pack_media(partial / MEDIA_FILE)
        manifest["media_files"] = media
        for path in sorted(partial.iterdir()):
            manifest["files"][path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        final = destination / name
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    rotate(destination, keep)
    return final


def backups(destination: Path) -> list[Path]:
    """The complete backups under `destination`, oldest first."""
    if not destination.is_dir():
        return []
    found = [p for p in destination.iterdir() if NAME.fullmatch(p.name) and (p / MANIFEST).is_file()]
    return sorted(found, key=_taken_at)


def _taken_at(path: Path) -> datetime:
    stamp = path.name.removeprefix("backup-").removesuffix("Z")
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f" if "." in stamp else "%Y%m%dT%H%M%S")


def rotate(destination: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; the deleted folders."""
    old = backups(destination)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


def _dump_database(folder: Path) -> dict[str, Any]:
    if connection.vendor == "sqlite":
        return _dump_sqlite(folder / SQLITE_FILE)
    if connection.vendor == "postgresql":
        return _dump_postgres(folder / POSTGRES_FILE)
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")


def _dump_sqlite(target: Path) -> dict[str, Any]:
    connection.ensure_connection()
    source = connection.connection
    copy = sqlite3.connect(target)
    try:
        with connection.wrap_database_errors:
            source.backup(copy)
        # Counted in the copy: the same moment as the data.
        rows = _sqlite_counts(copy)
        migrations = [
            f"{app}.{name}" for app, name in copy.execute("SELECT app, name FROM django_migrations")
        ]
    finally:
        copy.close()
    return {"engine": "sqlite", "database": target.name, "rows": rows, "migrations": sorted(migrations)}


def _sqlite_counts(database: sqlite3.Connection) -> dict[str, int]:
    tables = {name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {
        table: database.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        for table in _model_tables()
        if table in tables
    }


def _dump_postgres(target: Path) -> dict[str, Any]:
    import psycopg

    pg_dump = _tool("pg_dump")
    with psycopg.connect(**_libpq_params()) as snapshot:
        # The dump and the counts see one moment: pg_dump joins this transaction's snapshot.
        snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        (snapshot_id,) = snapshot.execute("SELECT pg_export_snapshot()").fetchone() or ("",)
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot_id}",
                f"--file={target}",
                _database_name(),
            ],
            env=_libpq_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[-500:]}")
        existing = {
            name
            for (name,) in snapshot.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        rows = {}
        for table in _model_tables():
            if table in existing:
                (count,) = snapshot.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone() or (0,)
                rows[table] = count
        migrations = [
            f"{app}.{name}" for app, name in snapshot.execute("SELECT app, name FROM django_migrations")
        ]
        snapshot.rollback()
    return {"engine": "postgresql", "database": target.name, "rows": rows, "migrations": sorted(migrations)}


def _pack_media(target: Path) -> int | None:
    """Tar the local media folder; None when uploads live in object storage."""
    if not isinstance(default_storage, FileSystemStorage):
        return None
    root = Path(settings.MEDIA_ROOT)
    count = 0
    with tarfile.open(target, "w:gz") as archive:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=str(path.relative_to(root)), recursive=False)
                    count += 1
    return count


# Restoring ----------------------------------------------------------------------------------------


def restore(source: Path, *, force: bool = False) -> RestoreReport:
    manifest = read_manifest(source)
    engine = manifest["engine"]
    if engine != connection.vendor:
        raise BackupError(f"This backup is of a {engine} database; this site uses {connection.vendor}.")
    if not force and _holds_a_publication():
        raise BackupError(
            "This database already holds a publication (issues, subscribers or sends). Restore into a "
            "fresh install, or pass --force to replace everything in it."
        )
    if engine == "sqlite":
        _restore_sqlite(source / manifest["database"])
    else:
        _restore_postgres(source / manifest["database"])
    media = 0
    if manifest.get("media_files") is not None and (source / MEDIA_FILE).is_file():
        media = _unpack_media(source / MEDIA_FILE)
    rows = _check_counts(manifest["rows"])
    return RestoreReport(
        source=source,
        engine=engine,
        tables=len(manifest["rows"]),
        rows=rows,
        media_files=media,
        migrations_to_apply=_unapplied_migrations(set(manifest["migrations"])),
    )


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is there with its size and checksum."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} is not a backup: it has no {MANIFEST}.")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} was written by another version of the backup format.")
    for name, expected in manifest["files"].items():
        file = source / name
        if not file.is_file():
            raise BackupError(f"The backup is incomplete: {name} is missing.")
        if file.stat().st_size != expected["bytes"] or _sha256(file) != expected["sha256"]:
            raise BackupError(f"The backup is damaged: {name} does not match its checksum.")
    return manifest


def _holds_a_publication() -> bool:
    tables = set(connection.introspection.table_names())
    models = [apps.get_model("newsletter", "Issue"), apps.get_model("subscribers", "Subscriber")]
    models.append(apps.get_model("subscribers", "Send"))
    return any(model._meta.db_table in tables and model._default_manager.exists() for model in models)


def _restore_sqlite(dump: Path) -> None:
    target = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    snapshot = sqlite3.connect(dump)
    live = sqlite3.connect(target)
    try:
        snapshot.backup(live)  # replaces every page of the live database
    finally:
        live.close()
        snapshot.close()


def _restore_postgres(dump: Path) -> None:
    pg_restore = _tool("pg_restore")
    connection.close()
    result = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_database_name()}",
            str(dump),
        ],
        env=_libpq_env(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-500:]}")


def _unpack_media(archive_path: Path) -> int:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path, "r:gz") as archive:
        members = [member for member in archive.getmembers() if member.isfile()]
        # The "data" filter refuses absolute paths, `..`, links out of the folder and device files.
        archive.extractall(root, members=members, filter="data")
    return len(members)


def _check_counts(expected: dict[str, int]) -> int:
    connection.close()  # a fresh connection sees the restored database
    tables = set(connection.introspection.table_names())
    wrong = []
    total = 0
    with connection.cursor() as cursor:
        for table, count in sorted(expected.items()):
            if table not in tables:
                wrong.append(f"{table} is missing")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            (found,) = cursor.fetchone()
            total += found
            if found != count:
                wrong.append(f"{table} has {found} rows, the backup {count}")
    if wrong:
        raise BackupError("The restored database differs from the backup: " + "; ".join(wrong) + ".")
    return total


def _unapplied_migrations(applied: set[str]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.disk_migrations if f"{app}.{name}" not in applied)


# Helpers ------------------------------------------------------------------------------------------


def _model_tables() -> list[str]:
    """Every table a model of this site keeps (auto-created many-to-many tables included)."""
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    tables.add("django_migrations")
    return sorted(tables)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _database_name() -> str:
    return str(connection.settings_dict["NAME"])


def _libpq_params() -> dict[str, Any]:
    database = connection.settings_dict
    params = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    return {key: value for key, value in params.items() if value}


def _libpq_env() -> dict[str, str]:
    """The connection for pg_dump and pg_restore, in libpq's variables (a password never in argv)."""
    names = {"user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST", "port": "PGPORT"}
    environment = dict(os.environ)
    for key, value in _libpq_params().items():
        if key in names:
            environment[names[key]] = str(value)
    return environment


# S3-compatible storage -----------------------------------------------------------------------------

S3_SCHEME = "s3://"


def is_s3(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def take_to_s3(location: str, keep: int) -> str:
    """Take a backup and upload it under `location` (s3://bucket/prefix), keeping the newest
    `keep` there; the backup's s3:// address."""
    if keep < 1:
        raise BackupError("Keep at least one backup.")
    bucket, prefix = _split_s3(location)
    client = _s3_client()
    with tempfile.TemporaryDirectory(prefix="newsletter-backup-") as scratch:
        folder = take(Path(scratch), keep=1)
        key_prefix = f"{prefix}{folder.name}/"
        # The manifest goes last: until it is there, the upload is not a backup.
        files = sorted(folder.iterdir(), key=lambda path: path.name == MANIFEST)
        for path in files:
            client.upload_file(str(path), bucket, key_prefix + path.name)
    for old in _s3_backups(client, bucket, prefix)[:-keep]:
        _delete_s3_prefix(client, bucket, f"{prefix}{old}/")
    return f"{S3_SCHEME}{bucket}/{key_prefix}"


@contextmanager
def fetched(location: str) -> Iterator[Path]:
    """The backup at `location` as a local folder: itself, or downloaded from s3://bucket/prefix
    (a backup's own prefix, or the prefix of backups for the newest) into a temporary folder."""
    if not is_s3(location):
        yield _newest_or_itself(Path(location))
        return
    bucket, prefix = _split_s3(location)
    client = _s3_client()
    name = prefix.rstrip("/").rpartition("/")[2]
    if not NAME.fullmatch(name):
        found = _s3_backups(client, bucket, prefix)
        if not found:
            raise BackupError(f"There is no backup under {location}.")
        name, prefix = found[-1], f"{prefix}{found[-1]}/"
    with tempfile.TemporaryDirectory(prefix="newsletter-restore-") as scratch:
        folder = Path(scratch) / name
        folder.mkdir()
        for key in _s3_keys(client, bucket, prefix):
            file_name = key[len(prefix) :]
            if file_name and "/" not in file_name:
                client.download_file(bucket, key, str(folder / file_name))
        yield folder


def _newest_or_itself(path: Path) -> Path:
    if not (path / MANIFEST).is_file() and backups(path):
        return backups(path)[-1]
    return path


def _split_s3(location: str) -> tuple[str, str]:
    bucket, _, prefix = location.removeprefix(S3_SCHEME).partition("/")
    if not bucket:
        raise BackupError(f"{location} names no bucket: use s3://bucket/prefix.")
    return bucket, (prefix.rstrip("/") + "/") if prefix.strip("/") else ""


def _s3_client() -> Any:
    import boto3  # type: ignore[import-untyped]  # no stubs installed

    return boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None)


def _s3_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def _s3_backups(client: Any, bucket: str, prefix: str) -> list[str]:
    """The names of the complete backups under `prefix` (those with a manifest), oldest first."""
    names = {
        key[len(prefix) :].partition("/")[0]
        for key in _s3_keys(client, bucket, prefix)
        if key.endswith("/" + MANIFEST)
    }
    return sorted((name for name in names if NAME.fullmatch(name)), key=lambda name: _taken_at(Path(name)))


def _delete_s3_prefix(client: Any, bucket: str, prefix: str) -> None:
    keys = _s3_keys(client, bucket, prefix)
    for start in range(0, len(keys), 1000):
        chunk = [{"Key": key} for key in keys[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": chunk})
