"""Backup and restore of the Sigap database, safe while the dashboard and the worker keep running.

    python -m models.backup create PATH [--database-url URL]
    python -m models.backup restore PATH [--database-url URL] [--replace]

The database is DATABASE_URL (or the embedded SQLite file), like everywhere else.

SQLite: `create` copies the live file with SQLite's online backup API in one step, a consistent snapshot taken
while the worker writes (in WAL mode a reader blocks no writer), into a single self-contained file (no -wal),
checked with `PRAGMA integrity_check`. `restore` copies a backup into the database file through the same API
(holding the write lock, so running sessions see the old or the new database, never half of it).

PostgreSQL: `create` runs `pg_dump --format=custom` (one consistent snapshot; writers are not blocked);
`restore` runs `pg_restore` into the database (which must be empty, unless --replace). The PostgreSQL client
tools must be installed, of the server's major version or newer; credentials come from the URL and are handed
to the tools through the environment, never the command line.

`restore` refuses a database that holds any rows in the main tables unless --replace is given; both print the
row counts of the main tables (for PostgreSQL, `restore` only) so an operator can compare them.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from models.db import database_url, get_engine

COUNTED_TABLES = ("complaint", "complaint_status_event", "reporter_contact", "quarantined_record", "import_run",
                  "channel_state", "app_user", "audit_log")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says what to do."""


# --- SQLite --------------------------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """All pages in one step: the copy is one snapshot, never a mix of before and after a concurrent write."""
    source.execute("PRAGMA busy_timeout=30000")
    target.execute("PRAGMA busy_timeout=30000")
    source.backup(target, pages=-1)


def _integrity(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a usable SQLite backup ({exc})") from exc
    if result != "ok":
        raise BackupError(f"{path}: the copy fails SQLite's integrity check: {result}")


def sqlite_backup(database: Path, backup: Path) -> None:
    if not database.is_file():
        raise BackupError(f"{database}: no such database file")
    backup.parent.mkdir(parents=True, exist_ok=True)
    partial = backup.with_name(backup.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database)  # read-write: a read-only one cannot open a WAL file without its -shm
    target = sqlite3.connect(partial)
    try:
        _sqlite_copy(source, target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()
    _integrity(partial)
    partial.replace(backup)  # a backup file is whole or absent, never half-written


def sqlite_restore(backup: Path, database: Path) -> None:
    _integrity(backup)
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    try:
        _sqlite_copy(source, target)
        target.execute("PRAGMA journal_mode=WAL")  # what models.db runs the live database in
    finally:
        target.close()
        source.close()


# --- PostgreSQL ----------------------------------------------------------------------------------------------

def _libpq_environment(url: str) -> tuple[dict[str, str], str]:
    """The environment that points pg_dump / pg_restore at `url` (password included), and the database name."""
    parsed = make_url(url)
    if not parsed.database:
        raise BackupError(f"{parsed.render_as_string(hide_password=True)}: the URL names no database")
    settings = {"PGHOST": parsed.host, "PGPORT": parsed.port, "PGUSER": parsed.username,
                "PGPASSWORD": parsed.password, "PGDATABASE": parsed.database}
    for key, value in parsed.query.items():  # sslmode=require and friends
        settings["PG" + key.upper().replace("_", "")] = value if isinstance(value, str) else value[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({k: str(v) for k, v in settings.items() if v is not None})
    return env, parsed.database


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client tools of the server's major "
                          f"version or newer (Debian/Ubuntu: apt-get install postgresql-client)")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed (exit {done.returncode}): "
                          f"{' / '.join(detail[-3:]) or 'no message'}")


def postgres_backup(url: str, backup: Path) -> None:
    env, database = _libpq_environment(url)
    backup.parent.mkdir(parents=True, exist_ok=True)
    partial = backup.with_name(backup.name + ".partial")
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", database],
         env)
    partial.replace(backup)


def postgres_restore(backup: Path, url: str, clean: bool) -> None:
    env, database = _libpq_environment(url)
    options = ["--clean", "--if-exists"] if clean else []
    _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          *options, f"--dbname={database}", str(backup)], env)


# --- both ----------------------------------------------------------------------------------------------------

def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in the main tables that exist (a fresh database has none of them)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in COUNTED_TABLES if name in present}


def _sqlite_counts(path: Path) -> dict[str, int]:
    """table_counts of a backup file, read-only (an engine would turn the file into a WAL database)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in COUNTED_TABLES if name in present}


def create_backup(backup: str | Path, url: str | None = None) -> dict[str, int]:
    """Back up the database at `url` (default: the configured one) to `backup`; the counts it holds."""
    url = url or database_url()
    backup = Path(backup)
    database = sqlite_path(url)
    if database is not None:
        sqlite_backup(database, backup)
        return _sqlite_counts(backup)
    postgres_backup(url, backup)
    return {}  # a dump is not a database to count in; `restore` prints the counts


def restore_backup(backup: str | Path, url: str | None = None, replace: bool = False) -> dict[str, int]:
    """Restore `backup` into the database at `url`; refuses one that holds data unless `replace`."""
    url = url or database_url()
    backup = Path(backup)
    if not backup.is_file():
        raise BackupError(f"{backup}: no such backup file")
    database = sqlite_path(url)
    _check_format(backup, "sqlite" if database is not None else "postgresql")
    engine = get_engine(url)
    before = table_counts(engine)
    holding = {name: count for name, count in before.items() if count}
    if holding and not replace:
        raise BackupError(f"the database is not empty ({_describe(holding)}); restore into an empty database, "
                          f"or pass --replace to overwrite it")
    engine.dispose()  # no pooled connection keeps the old schema or file open across the restore
    if database is not None:
        sqlite_restore(backup, database)
    else:  # empty tables of a started (migrated) database are dropped and restored too
        postgres_restore(backup, url, clean=bool(before))
    return table_counts(engine)


MAGIC = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}


def _check_format(backup: Path, backend: str) -> None:
    """A backup of the other backend, or no backup at all, is refused before the database is touched."""
    with backup.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(MAGIC[backend]):
        return
    other = next((name for name, magic in MAGIC.items() if head.startswith(magic)), None)
    if other:
        raise BackupError(f"{backup}: a {other} backup cannot be restored into {backend}; restore it into a "
                          f"{other} database (python -m models.backup create/restore move data within one kind)")
    raise BackupError(f"{backup}: not a usable {'SQLite backup' if backend == 'sqlite' else 'pg_dump custom-format file'}")


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "row counts not read"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.backup", description="Back up or restore Sigap's database")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL, else the embedded SQLite file")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write a backup of the live database to PATH")
    create.add_argument("path")
    restore = commands.add_parser("restore", help="restore the backup at PATH into the database")
    restore.add_argument("path")
    restore.add_argument("--replace", action="store_true", help="overwrite a database that holds data")
    args = parser.parse_args(argv)
    url = args.database_url or database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        if args.command == "create":
            counts = create_backup(args.path, url)
            print(f"backed up {shown} to {args.path}: {_describe(counts)}")
        else:
            counts = restore_backup(args.path, url, args.replace)
            print(f"restored {args.path} into {shown}: {_describe(counts)}")
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
