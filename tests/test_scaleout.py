"""Scale-out (docs/SCALING.md): one PostgreSQL database, two dashboard processes and two `python -m connectors
worker` processes, the API channels served by the local sample server on 127.0.0.1.

Shows, with real processes: every process starts against a fresh database at the same moment; the workers never
poll one channel at the same time nor more often than its interval; the dashboards never poll; SIGKILL of the
polling worker hands its channel to the other worker once the lease expires, without losing or doubling a
record; and both dashboards show the same figures, equal to the database's.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text

from connectors.sample_server import FEEDS, SampleHttpServer, SampleStore
from connectors.scheduler import INTERRUPTED, lease_holder
from models import Complaint, ImportRun
from tests.browser import SCREENSHOTS, Dashboard
from tests.conftest import PROJECT_ROOT, throwaway_postgres

CHANNELS = ("wargaku", "mediacenter")
INTERVAL_S = 6.0  # interval_minutes = 0.1, the shortest the scheduler accepts
LEASE_S = 3.0
PAGE_SIZE = 100

CHANNELS_TOML = """
[{channel}]
enabled = true
interval_minutes = {interval_minutes}
stale_after_minutes = 30
url = "{url}"
page_size = {page_size}
timeout = 5
attempts = 2
backoff = 0.1
"""


# --- the parts: database, source, region, processes ------------------------------------------------------------

@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database (not even migrated): the processes under test create the schema."""
    with throwaway_postgres("sigap_scaleout") as url:
        engine = create_engine(url)
        yield url, engine
        engine.dispose()


@pytest.fixture
def source(tmp_path):
    """The sample server with about 1,500 Wargaku and Media Center complaints up to this minute."""
    store = SampleStore.generate(tmp_path / "feeds", scale=0.5, months=2)
    server = SampleHttpServer(store).start()
    yield server
    server.close()


def region_folder(tmp_path, server):
    """The Surabaya region with only the two API channels enabled, polled every INTERVAL_S seconds."""
    folder = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", folder)
    (folder / "channels.toml").write_text("".join(
        CHANNELS_TOML.format(channel=c, url=server.url + FEEDS[c].path, interval_minutes=INTERVAL_S / 60,
                             page_size=PAGE_SIZE) for c in CHANNELS), encoding="utf-8")
    return folder


class Worker:
    """`python -m connectors worker` as a subprocess, its log in a file."""

    def __init__(self, env: dict, region, log_path):
        self.log = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "connectors", "worker", "--region",
                                             str(region)], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                                            stderr=log)
        self.pid = self.process.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


# --- reading the shared database ---------------------------------------------------------------------------------

def runs(engine, channel: str):
    table = ImportRun.__table__
    with engine.connect() as conn:
        return conn.execute(select(table).where(table.c.channel == channel).order_by(table.c.started_at)).mappings().all()


def stored(engine, channel: str) -> tuple[int, int]:
    """(rows, distinct source ids) of one channel's complaints."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count(), func.count(func.distinct(Complaint.source_id)))
                                  .where(Complaint.channel == channel)).one())


def wait_for(condition, seconds: float, message):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.1)


def lease_pid(engine, channel: str) -> int | None:
    owner, _ = lease_holder(engine, channel)
    return int(owner.split(":")[1]) if owner else None


def tables_exist(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("select to_regclass('import_run') is not null")).scalar_one()


# --- the test ------------------------------------------------------------------------------------------------------

def test_two_dashboards_and_two_workers_share_one_postgresql_database(fresh_postgres, source, tmp_path, browser):
    url, engine = fresh_postgres
    region = region_folder(tmp_path, source)
    env = {**os.environ, "DATABASE_URL": url, "SIGAP_REGION": str(region), "SIGAP_SEED": "0",
           "SIGAP_LEASE_SECONDS": str(LEASE_S), "SIGAP_FIRST_POLL_SECONDS": "1", "SIGAP_CACHE_SECONDS": "2"}
    env.pop("SIGAP_EMBEDDED_POLLER", None)  # the default: dashboards must stay out of polling on their own
    # all four processes start at once against a database without a schema
    workers = [Worker(env, region, tmp_path / f"worker{i}.log") for i in (1, 2)]
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(Dashboard, url, env) for _ in range(2)]
    first_sessions = []
    try:
        dashboards = [future.result() for future in starting]
        first_sessions = [overview(browser, d) for d in dashboards]  # each migrates too, while the workers poll
        for worker in workers:
            assert worker.process.poll() is None, worker.text()[-3000:]
        wait_for(lambda: tables_exist(engine), 60, lambda: [w.text()[-2000:] for w in workers])

        # 1. the first polls bring in every record of both feeds
        def complete():
            return all(stored(engine, c) == (source.store.count(c), source.store.count(c)) for c in CHANNELS)

        wait_for(complete, 45, lambda: ({c: (stored(engine, c), source.store.count(c)) for c in CHANNELS},
                                        [w.text()[-2000:] for w in workers]))
        # 2. both workers stay up: each channel is polled once per interval, not once per worker
        time.sleep(INTERVAL_S)
        for worker in workers:
            assert worker.process.poll() is None, worker.text()[-3000:]
            assert "took over the expired lease" not in worker.text()

        # 3. SIGKILL the worker that is polling Wargaku in the middle of a slow poll of new and changed records
        source.faults.delay, source.faults.delay_after_pages = 0.6, 0
        changed = [item[FEEDS["wargaku"].id_field] for item in source.store.items("wargaku")[:5]]
        for source_id in changed:
            source.store.update("wargaku", source_id, {"status": "ditolak"})
        for item in source.store.items("wargaku")[-250:]:
            source.store.add("wargaku", {**item, "id": item["id"] + "-N",
                                         "updated_at": source.store.stamp("wargaku")})
        changed_at = datetime.now(timezone.utc)
        victim_pid = wait_for(lambda: any(r["state"] == "running" and r["started_at"] >= changed_at
                                          for r in runs(engine, "wargaku")) and lease_pid(engine, "wargaku"),
                              3 * INTERVAL_S, "no worker started polling the new Wargaku records")
        victim = next(w for w in workers if w.pid == victim_pid)
        survivor = next(w for w in workers if w is not victim)
        time.sleep(0.5)
        assert victim.stop(signal.SIGKILL) == -signal.SIGKILL
        killed_at = datetime.now(timezone.utc)
        source.faults.clear()
        dead_owner, dead_until = lease_holder(engine, "wargaku")
        assert dead_owner and int(dead_owner.split(":")[1]) == victim_pid  # the dead worker's lease stays...

        def dead_work_left():  # ...until it expires and the other worker takes it over (on every channel)
            return any(lease_pid(engine, c) == victim_pid or any(
                r["state"] == "running" and r["started_at"] < killed_at for r in runs(engine, c)) for c in CHANNELS)

        wait_for(lambda: not dead_work_left() and complete(), LEASE_S + 3 * INTERVAL_S,
                 lambda: survivor.text()[-3000:])
        assert "wargaku: took over the expired lease" in survivor.text()
        wargaku_runs = runs(engine, "wargaku")
        interrupted = [r for r in wargaku_runs if r["error"] == INTERRUPTED]
        assert len(interrupted) == 1 and interrupted[0]["started_at"] >= changed_at
        after = [r for r in wargaku_runs if r["started_at"] > interrupted[0]["started_at"]]
        assert after and after[0]["state"] == "succeeded" and after[0]["started_at"] >= dead_until

        # 4. the survivor stops cleanly, nothing is left running or leased, and every record is there once
        assert survivor.stop() == 0, survivor.text()[-3000:]
        for channel in CHANNELS:
            assert lease_holder(engine, channel) == (None, None)
            channel_runs = runs(engine, channel)
            assert_polled_once_per_interval_one_at_a_time(channel_runs)
            assert {(r["state"], r["error"]) for r in channel_runs} <= {("succeeded", None), ("failed", INTERRUPTED)}
            # as many rows as the source has records, each inserted by exactly one run
            assert stored(engine, channel) == (source.store.count(channel),) * 2
            assert sum(r["inserted"] for r in channel_runs) == source.store.count(channel)
            assert all(r["read"] == r["inserted"] + r["updated"] + r["unchanged"] + r["quarantined"]
                       for r in channel_runs if r["state"] == "succeeded")
        with engine.connect() as conn:
            statuses = set(conn.execute(select(Complaint.status_raw).where(
                Complaint.channel == "wargaku", Complaint.source_id.in_(changed))).scalars())
        assert statuses == {"ditolak"}
        runs_when_workers_stopped = sum(len(runs(engine, c)) for c in CHANNELS)
        workers_stopped = time.monotonic()

        # 5. both dashboards show the same figures, and they are the database's
        pages = [overview(browser, dashboard) for dashboard in dashboards]  # both load at once
        figures = [headline_figures(page, f"dashboard{i}") for i, page in enumerate(pages, 1)]
        assert figures[0] == figures[1] and len(figures[0]) >= 6, figures
        assert number(figures[0]["Complaints received"]) == expected_received(engine, region)
        # the dashboards never poll: without workers, two more intervals pass without a run
        time.sleep(max(0.0, 2 * INTERVAL_S - (time.monotonic() - workers_stopped)))
        assert sum(len(runs(engine, c)) for c in CHANNELS) == runs_when_workers_stopped
    finally:
        for page in first_sessions:
            page.close()
        for worker in workers:
            worker.stop(signal.SIGKILL)
        for future in starting:
            if future.exception() is None:
                future.result().stop()


PREPARE_SCRIPT = """
import pathlib, sys, time
from models.db import get_engine, prepare_database
go = pathlib.Path(sys.argv[2])
pathlib.Path(sys.argv[3]).touch()  # everything imported: ready to start together
while not go.exists():
    time.sleep(0.01)
prepare_database(get_engine(sys.argv[1]))
"""


def test_processes_preparing_an_empty_database_together_take_turns(fresh_postgres, tmp_path):
    url, engine = fresh_postgres
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(3)]
    processes = [subprocess.Popen([sys.executable, "-c", PREPARE_SCRIPT, url, str(go), str(flag)],
                                  cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for flag in ready]
    wait_for(lambda: all(flag.exists() for flag in ready) or any(p.poll() is not None for p in processes), 60,
             "the processes never got ready")
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()[-1500:]) for p in processes]
    assert all(code == 0 for code, _ in results), results
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar_one() == 1
        assert conn.execute(text("select count(*) from district")).scalar_one() > 0


def assert_polled_once_per_interval_one_at_a_time(channel_runs) -> None:
    """Runs never overlap, and start at least 0.8 interval apart (apart from the takeover after a crash)."""
    for before, run in zip(channel_runs, channel_runs[1:]):
        assert before["finished_at"] is not None and before["finished_at"] <= run["started_at"], (before, run)
        if before["error"] != INTERRUPTED:
            gap = (run["started_at"] - before["started_at"]).total_seconds()
            assert gap >= 0.8 * INTERVAL_S, f"{run['channel']} polled twice within {gap:.1f} s"


def overview(browser, dashboard):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{dashboard.url}/?lang=en", timeout=60_000)
    return page


def headline_figures(page, name: str) -> dict[str, str]:
    """The overview's metric tiles, label -> value as shown (the first run of a process takes a while)."""
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stMetricValue]').length >= 6",
                           timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / f"scaleout-{name}.png"), full_page=True)
    labels = page.locator("[data-testid=stMetricLabel]").all_inner_texts()
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    page.close()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


def number(shown: str) -> int:
    return int(re.sub(r"[^0-9]", "", shown))


def expected_received(engine, region_path) -> int:
    """The overview's 'received' figure (the default 30-day period) straight from the database."""
    from metrics import Filters, queries
    from regions import load_region

    region = load_region(str(region_path))
    today = datetime.now(region.timezone).date()
    filters = Filters(start=today - timedelta(days=29), end=today)
    return queries.headline(engine, filters, datetime.now(timezone.utc), region.timezone).received
