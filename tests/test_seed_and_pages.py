"""First start: the embedded database is seeded through the real import path, and every page runs on it."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Complaint, ImportRun, QuarantinedRecord
from models.db import get_engine
from tests.conftest import PROJECT_ROOT

PAGES = sorted(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "pages").glob("*.py"))


def test_seed_fills_every_channel_through_the_pipeline(seeded_url):
    engine = get_engine(seeded_url)
    with engine.connect() as conn:
        per_channel = dict(conn.execute(select(Complaint.channel, func.count()).group_by(Complaint.channel)).all())
        runs = conn.execute(select(ImportRun.channel, ImportRun.state, ImportRun.read, ImportRun.inserted,
                                   ImportRun.updated, ImportRun.unchanged, ImportRun.quarantined)).all()
        quarantined = conn.execute(select(func.count()).select_from(QuarantinedRecord)).scalar_one()
    assert {"lapor", "call112", "wargaku", "social"} <= set(per_channel), per_channel
    assert all(r.state == "succeeded" for r in runs), [r for r in runs if r.state != "succeeded"]
    assert all(r.read == r.inserted + r.updated + r.unchanged + r.quarantined for r in runs)
    # sample data is clean: what the generator writes, the connectors must understand
    assert quarantined == 0


def test_seeding_twice_does_nothing(seeded_url):
    from regions import load_region
    from sample_data.seed import seed

    assert seed(get_engine(seeded_url), load_region("surabaya"), scale=0.05, months=1) is None


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exceptions(page, seeded_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("SIGAP_SEED", "0")
    for lang in ("id", "en"):
        app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
        app.query_params["lang"] = lang
        app.run()
        app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]
        assert Path(page).stem and (app.metric or app.dataframe or app.markdown)
