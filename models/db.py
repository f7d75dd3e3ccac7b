"""The database: one engine per URL, SQLite (WAL) by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "sigap.db"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _normalise_url(url: str) -> str:
    # Accept the URLs people paste from hosting providers; psycopg 3 is the driver we ship.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _tune_sqlite(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers and the poller share one file: wait for a lock instead of failing.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


WAL_CHECKPOINT_BYTES = 32 * 1024 * 1024


def _checkpoint_after_writes(engine: Engine, wal: Path) -> None:
    """Keep the WAL from growing without bound while sessions read all the time.

    SQLite's automatic checkpoint is passive: with a reader always active it never completes, the WAL is never
    rewound, and it grows by every import (150 MB in two minutes of 16 sessions reading). A connection that
    committed a write runs a TRUNCATE checkpoint when it goes back to the pool and the WAL is over the limit: it
    waits (busy_timeout) for the readers of older snapshots to finish, then empties the WAL. Only writers wait;
    readers never do.
    """

    @event.listens_for(engine, "commit")
    def _wrote(conn) -> None:
        conn.connection.info["wrote"] = True

    @event.listens_for(engine, "checkin")
    def _checkpoint(dbapi_conn, record) -> None:
        if dbapi_conn is None or not record.info.pop("wrote", False):
            return
        try:
            big = wal.stat().st_size > WAL_CHECKPOINT_BYTES
        except OSError:
            return
        if big:
            dbapi_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for `url` (default: DATABASE_URL, else the embedded SQLite file)."""
    return _engine_for(_normalise_url(url or database_url()))


_ENGINES: dict[str, Engine] = {}


def _engine_for(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = _create_engine(url)
    return _ENGINES[url]


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        if str(path) != ":memory:":
            _checkpoint_after_writes(engine, Path(f"{path}-wal"))
        return engine
    # JIT off: PostgreSQL compiled every large dashboard aggregate to machine code first, ~0.75 s of a 2.6 s
    # query at 10M complaints (EXPLAIN ANALYZE), more than it ever saved on these short queries.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"options": "-c jit=off"})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


PREPARE_LOCK_KEY = 0x5167A9  # pg_advisory_lock key held while one process migrates the shared database


@contextmanager
def one_process_at_a_time(engine: Engine):
    """On PostgreSQL, processes that start together (dashboards and workers sharing one database) take turns:
    two concurrent CREATE TABLEs of the first migration would make all but one of them fail."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARE_LOCK_KEY})


def prepare_database(engine: Engine | None = None, region=None) -> Engine:
    """Migrate the schema and load the region's reference tables; safe to call on every start, also from
    several processes at once."""
    from models.reference import sync_reference_data
    from regions import load_region

    engine = engine or get_engine()
    with one_process_at_a_time(engine):
        migrate(engine)
        sync_reference_data(engine, region or load_region())
    return engine


def reset_engines() -> None:
    """Dispose every cached engine (tests, and after forking a worker process)."""
    for engine in list(_ENGINES.values()):
        engine.dispose()
    _ENGINES.clear()
