"""Test fixtures: every database test runs on SQLite and on PostgreSQL (real servers, no mocks)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
REAL_LAPOR = SHARED / "real" / "lapor_export_kab_bandung_2024.xlsx"
REAL_BOUNDARIES = SHARED / "real" / "surabaya_kecamatan_boundaries_utm49s.geojson"
POSTGRES_ADMIN_URL = os.environ.get("SIGAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Charts are drawn from specs made without Altair's schema validation (ui/charts.py); the tests validate them.
os.environ.setdefault("SIGAP_VALIDATE_CHARTS", "1")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"{type(exc).__name__}: {exc}"


@contextmanager
def throwaway_postgres(prefix: str = "sigap_test"):
    """The URL of a new, empty PostgreSQL database, dropped on exit (skipped without a server, failed in CI)."""
    problem = _postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {problem}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from models.db import reset_engines

        reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL database for this test session, dropped afterwards."""
    with throwaway_postgres() as url:
        yield url


def _clear(engine) -> None:
    import models  # noqa: F401

    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty database URL, once per backend."""
    from models.db import get_engine, migrate, reset_engines

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sigap.db'}"
        migrate(get_engine(url))
        yield url
        reset_engines()
    else:
        url = request.getfixturevalue("postgres_url")
        engine = get_engine(url)
        migrate(engine)
        _clear(engine)
        yield url


@pytest.fixture
def engine(db_url):
    from models.db import get_engine

    return get_engine(db_url)


@pytest.fixture
def surabaya():
    from regions import load_region

    return load_region("surabaya")


@pytest.fixture(scope="session")
def seeded_url(tmp_path_factory):
    """A SQLite database seeded with small-scale sample data through the real import path."""
    from tests.browser import seeded_database

    return seeded_database(tmp_path_factory.mktemp("seeded") / "sigap.db")


@pytest.fixture(scope="session")
def dashboard(seeded_url):
    from tests.browser import Dashboard

    app = Dashboard(seeded_url)
    yield app
    app.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
