"""kill -9 mid-run, then restart: the database is consistent, the cursor and the data agree, and the re-run
neither loses nor duplicates, on SQLite and PostgreSQL.

Covered here: a file import through `python -m connectors import` (one transaction: killed mid-write, nothing
is stored) and the worker polling an API channel (each batch committed with its cursor: killed after a
checkpoint, exactly the checkpointed records are stored and the restart resumes from the cursor). The worker
killed while importing a drop-folder file is tests/test_scheduler.py::test_killing_a_worker_mid_poll_…
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors import connector_for
from connectors.pipeline import read_cursor
from connectors.sample_server import SampleHttpServer, SampleStore
from connectors.scheduler import INTERRUPTED, poll_channel
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord
from tests.conftest import PROJECT_ROOT
from tests.crash import kill_when, writing
from tests.lapor_files import report, write_csv

ENV = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
FILE_ROWS = 6000
WARGAKU_PAGE = 100
BATCH = 2000  # the pipeline's default batch: what the worker commits at a time


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def distinct_sources(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count(func.distinct(Complaint.source_id)))).scalar_one()


def runs(engine, channel: str):
    table = ImportRun.__table__
    with engine.connect() as conn:
        return conn.execute(select(table).where(table.c.channel == channel).order_by(table.c.id)).mappings().all()


def assert_intact(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def processes_reading(path) -> list[int]:
    """Ids of the processes whose command line names `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return found


def import_cli(db_url: str, path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "connectors", "import", "lapor", str(path), "--json"],
                            cwd=PROJECT_ROOT, env={**ENV, "DATABASE_URL": db_url, "SIGAP_LEASE_SECONDS": "2"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_kill_9_of_a_file_import_mid_write_stores_nothing_and_the_rerun_stores_everything_once(
        db_url, engine, tmp_path):
    big = write_csv(tmp_path / "laporan-besar.csv", [report(7000000 + i) for i in range(FILE_ROWS)])
    importer = import_cli(db_url, big)
    kill_when(importer, lambda: any(r["state"] == "running" for r in runs(engine, "lapor")) and writing(db_url),
              "the import writing its rows")

    assert_intact(db_url)
    # nothing of the killed import lives on: its forked parser ends at its next send to the dead process
    deadline = time.monotonic() + 20
    while processes_reading(big):
        assert time.monotonic() < deadline, f"processes still reading the file: {processes_reading(big)}"
        time.sleep(0.2)
    # the dead process's transaction is gone, its locks with it (PostgreSQL's backend aborts it as soon as it
    # notices the closed connection, which can take a moment while it is still executing a statement)
    deadline = time.monotonic() + 30
    while writing(db_url):
        assert time.monotonic() < deadline, "the killed import's transaction never ended"
        time.sleep(0.2)
    for model in (Complaint, ComplaintStatusEvent, QuarantinedRecord):
        assert count(engine, model) == 0
    [killed] = runs(engine, "lapor")
    assert killed["finished_at"] is None
    assert (killed["read"], killed["inserted"], killed["quarantined"]) == (0, 0, 0)  # it claims nothing stored

    rerun = import_cli(db_url, big)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (FILE_ROWS, FILE_ROWS, 0)
    assert count(engine) == distinct_sources(engine) == FILE_ROWS
    assert count(engine, ComplaintStatusEvent) == FILE_ROWS  # one creation event each, none twice
    # the re-run waited for the dead import's lease to expire, then marked its run interrupted
    assert [(r["state"], r["error"]) for r in runs(engine, "lapor")] == [("failed", INTERRUPTED), ("succeeded", None)]


# --- the worker polling an API channel --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wargaku_dir(tmp_path_factory):
    from sample_data import generate

    out = tmp_path_factory.mktemp("wargaku")
    generate(out, date(2025, 11, 14), seed=7, scale=1.3, months=2, channels=["wargaku"])
    return out


WORKER_SCRIPT = """
import dataclasses, json, sys
from connectors.scheduler import poll_channel
from models.db import get_engine
from regions import load_region
region = dataclasses.replace(load_region("surabaya"), channels={"wargaku": json.loads(sys.argv[2])})
poll_channel("wargaku", region, get_engine(sys.argv[1]), lease_seconds=2)
print("finished", flush=True)
"""


def test_kill_9_of_the_worker_polling_an_api_keeps_each_committed_batch_with_its_cursor(
        db_url, engine, wargaku_dir, surabaya):
    import dataclasses

    server = SampleHttpServer(SampleStore.from_dir(wargaku_dir)).start()
    try:
        settings = {"enabled": True, "url": server.url + "/wargaku/complaints", "page_size": WARGAKU_PAGE,
                    "timeout": 10, "attempts": 2, "backoff": 0.01}
        # pages after the first batch come slowly: the worker is killed between two committed batches
        server.faults.delay, server.faults.delay_after_pages = 0.5, BATCH // WARGAKU_PAGE
        connector = connector_for("wargaku", surabaya, settings=settings)
        items = [item for page in sorted(wargaku_dir.glob("wargaku/page-*.json"))
                 for item in json.loads(page.read_text(encoding="utf-8"))["data"]]
        in_change_order = sorted(items, key=lambda i: (connector.cursor_of(i), str(i["id"])))
        total = len(items)
        assert total > BATCH + WARGAKU_PAGE

        worker = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, db_url, json.dumps(settings)],
                                  cwd=PROJECT_ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        kill_when(worker, lambda: cursor(engine) is not None, "its first committed batch")
        assert b"finished" not in worker.stdout.read()

        # the cursor and the data agree: exactly the first batch in change order, and the cursor at its newest
        assert_intact(db_url)
        first = in_change_order[:BATCH]
        with engine.connect() as conn:
            stored = set(conn.execute(select(Complaint.source_id)).scalars())
        assert stored == {str(i["id"]) for i in first}
        assert cursor(engine) == connector.cursor_of(first[-1])
        [killed] = runs(engine, "wargaku")
        assert (killed["state"], killed["read"], killed["inserted"]) == ("running", BATCH, BATCH)

        server.faults.delay = 0
        result = restart(surabaya, settings, engine, dataclasses)
        assert result.state == "succeeded", result.as_dict()
    finally:
        server.close()

    assert count(engine) == distinct_sources(engine) == total
    assert count(engine, ComplaintStatusEvent) == total  # one creation event each, none twice
    recorded = runs(engine, "wargaku")
    assert [r["state"] for r in recorded] == ["failed", "succeeded"] and recorded[0]["error"] == INTERRUPTED
    assert sum(r["inserted"] for r in recorded) == total  # the two runs' counts add up to what is stored
    assert recorded[1]["inserted"] == total - BATCH
    assert cursor(engine) == connector.cursor_of(in_change_order[-1])


def cursor(engine) -> str | None:
    with engine.connect() as conn:
        return read_cursor(conn, "wargaku")


def restart(region, settings, engine, dataclasses):
    """The worker again, once the dead one's lease has expired."""
    region = dataclasses.replace(region, channels={"wargaku": settings})
    deadline = time.monotonic() + 30
    while True:
        result = poll_channel("wargaku", region, engine)
        if result.state != "busy":
            return result
        assert time.monotonic() < deadline, "the dead worker's lease never expired"
        time.sleep(0.3)
