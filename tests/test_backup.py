"""Backup while the worker writes, restore into a fresh database, on SQLite and PostgreSQL, through
`python -m models.backup` (see docs/OPERATIONS.md)."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from bench.concurrency import start_writer, stop_writer
from models import Complaint, ImportRun
from models.backup import COUNTED_TABLES, BackupError, create_backup, restore_backup
from models.db import get_engine
from tests.conftest import POSTGRES_ADMIN_URL, PROJECT_ROOT


def backup_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models.backup", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})})


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """An empty database of db_url's backend to restore into (nothing created in it, not even the schema)."""
    urls = []

    def make() -> str:
        if db_url.startswith("sqlite"):
            urls.append(f"sqlite:///{tmp_path / f'restored-{len(urls)}.db'}")
        else:
            name = f"sigap_restore_{uuid.uuid4().hex[:10]}"
            with create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls.append(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        return urls[-1]

    yield make
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    for url in urls:
        get_engine(url).dispose()
        if not url.startswith("sqlite"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def content(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows in primary-key order."""
    engine = get_engine(url)
    found = {}
    with engine.connect() as conn:
        for name in sorted(inspect(engine).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1')).all()
            found[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


def assert_consistent_snapshot(url: str) -> int:
    """What every committed state satisfies: each stored complaint was counted by exactly one finished run."""
    engine = get_engine(url)
    runs = ImportRun.__table__.c
    with engine.connect() as conn:
        complaints = conn.execute(select(func.count()).select_from(Complaint)).scalar_one()
        inserted = conn.execute(select(func.coalesce(func.sum(runs.inserted), 0))
                                .where(runs.state == "succeeded")).scalar_one()
        by_unfinished_runs = conn.execute(
            select(func.count()).select_from(Complaint).join(ImportRun, ImportRun.id == Complaint.last_run_id)
            .where(runs.state != "succeeded")).scalar_one()
    assert complaints == inserted and by_unfinished_runs == 0
    return complaints


def test_backup_while_the_worker_writes_restores_a_consistent_copy(db_url, fresh_url, tmp_path):
    writer = start_writer(db_url, tmp_path, 300, file_rows=300)
    try:
        assert writer.stdout.readline().startswith("{"), writer.stderr.read()  # one import done, more under way
        live = backup_cli("--database-url", db_url, "create", str(tmp_path / "live.backup"))
        assert writer.poll() is None  # the worker kept writing through the backup
        assert writer.stdout.readline().startswith("{")  # and finished another import after it
    finally:
        imports, err = stop_writer(writer)
    assert live.returncode == 0, live.stderr
    assert all(i["state"] == "succeeded" for i in imports), err

    # the copy taken mid-write restores into an empty database as one committed state
    restored = fresh_url()
    done = backup_cli("--database-url", restored, "restore", str(tmp_path / "live.backup"))
    assert done.returncode == 0, done.stderr
    mid_write = assert_consistent_snapshot(restored)
    assert "restored" in done.stdout and mid_write > 0
    assert "password" not in done.stdout.lower()

    # with the worker stopped, backup and restore give back exactly the same tables, row for row
    backed_up = create_backup(tmp_path / "quiet.backup", db_url)
    if db_url.startswith("sqlite"):  # one self-contained file, counted without turning it into a WAL database
        assert backed_up["complaint"] > 0 and not list(tmp_path.glob("quiet.backup-*"))
    again = fresh_url()
    counts = restore_backup(tmp_path / "quiet.backup", again)
    source, copy = content(db_url), content(again)
    assert copy == source and source["complaint"][0] == assert_consistent_snapshot(db_url)
    assert counts == {name: source[name][0] for name in COUNTED_TABLES if name in source}
    print(f"\nbackup mid-write: {mid_write} complaints restored consistent; after {2 + len(imports)} imports "
          f"{source['complaint'][0]} complaints restored identical")

    # a database holding data is not overwritten by accident
    with pytest.raises(BackupError, match="not empty.*--replace"):
        restore_backup(tmp_path / "live.backup", again)
    assert content(again) == source
    restore_backup(tmp_path / "live.backup", again, replace=True)
    assert content(again) == content(restored)


def write_sqlite(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    return path


def test_a_backup_that_is_not_a_database_is_refused(tmp_path):
    broken = tmp_path / "broken.backup"
    broken.write_bytes(b"this is not a database" * 100)
    target = tmp_path / "target.db"
    done = backup_cli("--database-url", f"sqlite:///{target}", "restore", str(broken))
    assert done.returncode == 2 and "not a usable SQLite backup" in done.stderr
    assert not target.exists()  # refused before the database was touched
    with pytest.raises(BackupError, match="no such database file"):
        create_backup(tmp_path / "x.backup", f"sqlite:///{target}")
    with pytest.raises(BackupError, match="a sqlite backup cannot be restored into postgresql"):
        restore_backup(write_sqlite(tmp_path / "real.db"), "postgresql://nobody@127.0.0.1:9/none")


def test_missing_postgresql_tools_are_named_and_the_password_is_not_shown(tmp_path):
    url = "postgresql://sigap:s3cret-pw@db.example.go.id:5432/sigap"
    env = {"PATH": str(tmp_path)}  # no pg_dump, no pg_restore
    done = backup_cli("--database-url", url, "create", str(tmp_path / "db.dump"), env=env)
    assert done.returncode == 2
    assert "pg_dump is not installed" in done.stderr and "postgresql-client" in done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert not (tmp_path / "db.dump").exists()
