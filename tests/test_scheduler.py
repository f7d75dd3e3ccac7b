"""Scheduled polling: drop folders, leases, crash safety, the scheduler, the CLI, channel health and quarantine
re-processing, on SQLite and PostgreSQL."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from connectors.base import SourceError
from connectors.drop_folder import scan, skip_reason
from connectors.scheduler import (
    INTERRUPTED,
    acquire_lease,
    build_scheduler,
    lease_holder,
    poll_channel,
    release_lease,
    reprocess_quarantine,
)
from metrics.channels import channel_health, health_state, open_quarantine, redact_raw
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord
from tests.conftest import PROJECT_ROOT
from tests.crash import kill_when, writing
from tests.lapor_files import OFFICIAL_PREAMBLE, report, write_csv, write_xlsx

WIB = ZoneInfo("Asia/Jakarta")


# --- helpers -------------------------------------------------------------------------------------------------

def with_channels(region, **channels):
    """The region with its channels.toml replaced (tables given as dicts)."""
    return dataclasses.replace(region, channels=channels)


def lapor_region(region, folder: Path, **extra):
    return with_channels(region, lapor={"enabled": True, "interval_minutes": 60, "stale_after_minutes": 2880,
                                        "drop_folder": str(folder), **extra})


def export(path: Path, rows: list[dict], generated: str | None) -> Path:
    preamble = None if generated is None else {**OFFICIAL_PREAMBLE, "Tanggal Generate": generated}
    return write_xlsx(path, rows, preamble=preamble)


def set_mtime(path: Path, moment: float) -> None:
    os.utime(path, (moment, moment))


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def runs(engine, channel: str | None = None):
    table = ImportRun.__table__
    query = select(table).order_by(table.c.id)
    if channel:
        query = query.where(table.c.channel == channel)
    with engine.connect() as conn:
        return conn.execute(query).mappings().all()


def end_of(day: int):
    return datetime(2025, 11, day, 23, 59, 59, 999999, tzinfo=WIB).astimezone(timezone.utc)


def cli_main(argv: list[str]) -> int:
    """A stand-in for `python -m connectors` with the poll commands added (as __main__.py will)."""
    from connectors.cli_poll import add_commands
    from regions import RegionError

    parser = argparse.ArgumentParser(prog="python -m connectors")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (SourceError, RegionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def region_folder(tmp_path: Path, channels_toml: str) -> Path:
    """A copy of the Surabaya region folder with its own channels.toml, for commands given --region PATH."""
    folder = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", folder)
    (folder / "channels.toml").write_text(channels_toml, encoding="utf-8")
    return folder


# --- the drop folder -----------------------------------------------------------------------------------------

def test_drop_folder_imports_each_file_once_in_export_order_with_status_history(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    row = dict(tracking_id=3000001, date="3 Nov 2025", time="01:00:00")
    # The later export has the older file time and the first name: only its own date orders it right.
    later = export(folder / "a_laporan.xlsx", [report(status="Ditindaklanjuti", **row), report(3000002)], "2025-11-05")
    earlier = export(folder / "b_laporan.xlsx", [report(status="Belum Terverifikasi", **row)], "2025-11-03")
    set_mtime(later, time.time() - 3600)
    set_mtime(earlier, time.time() - 60)

    first = poll_channel("lapor", region, engine, settle_seconds=0)
    assert first.state == "succeeded", first.as_dict()
    assert [Path(r.source).name for r in first.runs] == ["b_laporan.xlsx", "a_laporan.xlsx"]
    assert [(r.inserted, r.updated) for r in first.runs] == [(1, 0), (1, 1)]

    # nothing new: nothing imported, nothing recorded; a renamed copy of an imported file is the same file
    shutil.copy(later, folder / "copy_of_a.xlsx")
    again = poll_channel("lapor", region, engine, settle_seconds=0)
    assert again.state == "succeeded" and again.runs == [] and again.already_imported == 3
    assert len(runs(engine, "lapor")) == 2

    closed = export(folder / "c_laporan.xlsx", [report(status="Ditutup oleh Sistem", **row)], "2025-11-20")
    third = poll_channel("lapor", region, engine, settle_seconds=0)
    assert [Path(r.source).name for r in third.runs] == [closed.name] and third.runs[0].updated == 1

    with engine.connect() as conn:
        complaint_id = conn.execute(select(Complaint.id).where(Complaint.source_id == "3000001")).scalar_one()
        events = conn.execute(select(ComplaintStatusEvent.previous_status, ComplaintStatusEvent.status,
                                     ComplaintStatusEvent.observed_at)
                              .where(ComplaintStatusEvent.complaint_id == complaint_id)
                              .order_by(ComplaintStatusEvent.id)).all()
        stored = conn.execute(select(Complaint.first_response_at, Complaint.resolved_at)
                              .where(Complaint.id == complaint_id)).one()
    assert [(e.previous_status, e.status) for e in events] == [(None, "new"), ("new", "in_progress"),
                                                             ("in_progress", "resolved")]
    assert [e.observed_at for e in events] == [end_of(3), end_of(5), end_of(20)]
    assert stored.first_response_at == end_of(5) and stored.resolved_at == end_of(20)
    recorded = runs(engine, "lapor")
    assert all(r["state"] == "succeeded" and r["source_sha256"] for r in recorded)
    assert len({r["source_sha256"] for r in recorded}) == 3


def test_files_without_an_export_date_go_by_modification_time_then_name(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    base = time.time() - 600
    for name, offset, tracking in (("z.csv", 0, 1), ("a.csv", 100, 2), ("m.csv", 0, 3)):
        set_mtime(write_csv(folder / name, [report(5100000 + tracking)]), base + offset)
    listing = scan("lapor", region, engine, settle_seconds=0)
    assert [c.name for c in listing.pending] == ["m.csv", "z.csv", "a.csv"]
    assert all(c.exported_at is None for c in listing.pending)


def test_links_outside_files_and_partial_files_are_skipped_with_a_reason(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    (folder / "archive").mkdir(parents=True)
    region = lapor_region(surabaya, folder)
    outside = write_xlsx(tmp_path / "outside.xlsx", [report(5200001)])
    write_xlsx(folder / "good.xlsx", [report(5200002)])
    (folder / "link.xlsx").symlink_to(outside)
    (folder / "up.xlsx").symlink_to(Path("..") / "outside.xlsx")
    (folder / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    for name in ("~$good.xlsx", ".hidden.xlsx", "export.xlsx.part", "download.csv.crdownload"):
        shutil.copy(outside, folder / name)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "empty.csv").write_bytes(b"")

    assert skip_reason(folder, folder / ".." / "outside.xlsx", settle_seconds=0) == "outside the drop folder"
    assert skip_reason(folder, folder / "good.xlsx", settle_seconds=0) is None
    # a file changed within the settle time is still being written: left for the next poll
    assert "still being written" in skip_reason(folder, folder / "good.xlsx", settle_seconds=30)

    result = poll_channel("lapor", region, engine, settle_seconds=0)
    assert result.state == "succeeded"
    assert [Path(r.source).name for r in result.runs] == ["good.xlsx"]
    reasons = dict(result.skipped)
    assert reasons["link.xlsx"].startswith("symbolic link") and reasons["up.xlsx"].startswith("symbolic link")
    assert reasons["linked_dir"].startswith("symbolic link")
    assert reasons["~$good.xlsx"] == "editor lock or backup file"
    assert reasons[".hidden.xlsx"] == "hidden file"
    assert reasons["export.xlsx.part"].startswith("partial") and reasons["download.csv.crdownload"].startswith("partial")
    assert reasons["notes.pdf"].startswith("not a data file")
    assert reasons["empty.csv"] == "empty file"
    assert reasons["archive"].startswith("folder")
    with engine.connect() as conn:
        assert conn.execute(select(Complaint.source_id)).scalars().all() == ["5200002"]

    write_csv(folder / "growing.csv", [report(5200003)])  # just written: maybe still being copied
    growing = poll_channel("lapor", region, engine, settle_seconds=30)
    assert growing.runs == [] and "still being written" in dict(growing.skipped)["growing.csv"]
    assert poll_channel("lapor", region, engine, settle_seconds=0).runs[0].inserted == 1  # settled: imported


def test_a_failed_file_is_retried_next_poll_and_holds_back_later_files(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    broken = folder / "laporan_1.xlsx"
    broken.write_bytes(b"<html><body>Session expired</body></html>")
    later = write_csv(folder / "laporan_2.csv", [report(5300001)])
    set_mtime(broken, time.time() - 300)
    set_mtime(later, time.time() - 200)

    for attempt in (1, 2):
        result = poll_channel("lapor", region, engine, settle_seconds=0)
        assert result.state == "failed" and "web page" in result.error
        assert result.waiting == ["laporan_2.csv"]
        assert [r["state"] for r in runs(engine, "lapor")] == ["failed"] * attempt
        assert count(engine) == 0

    write_xlsx(broken, [report(5300002)])  # the administrator drops a good export under the same name
    set_mtime(broken, time.time() - 300)
    fixed = poll_channel("lapor", region, engine, settle_seconds=0)
    assert fixed.state == "succeeded" and [Path(r.source).name for r in fixed.runs] == ["laporan_1.xlsx",
                                                                                       "laporan_2.csv"]
    assert count(engine) == 2


def test_a_missing_drop_folder_is_recorded_as_the_channels_failure(engine, tmp_path, surabaya):
    region = lapor_region(surabaya, tmp_path / "not-mounted")
    result = poll_channel("lapor", region, engine)
    assert result.state == "failed" and "does not exist" in result.error
    assert [(r["state"], r["channel"]) for r in runs(engine)] == [("failed", "lapor")]
    with pytest.raises(SourceError, match="unknown channel"):
        poll_channel("nope", region, engine)


# --- the lease -----------------------------------------------------------------------------------------------

def test_exactly_one_of_many_concurrent_workers_gets_the_lease(engine):
    for round_no in range(8):
        channel = f"race{round_no}"
        barrier = threading.Barrier(4)
        won: list[str] = []

        def contend(owner: str) -> None:
            barrier.wait()
            if acquire_lease(engine, channel, owner, 60):
                won.append(owner)

        threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(won) == 1, (round_no, won)
        assert lease_holder(engine, channel)[0] == won[0]
        assert not acquire_lease(engine, channel, "late", 60)
        release_lease(engine, channel, won[0])
        assert acquire_lease(engine, channel, "late", 60)


def test_two_concurrent_polls_of_one_channel_run_once(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    write_csv(folder / "big.csv", [report(5400000 + i) for i in range(2500)])
    barrier = threading.Barrier(2)
    results = []

    def poll() -> None:
        barrier.wait()
        results.append(poll_channel("lapor", region, engine, settle_seconds=0))

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(r.state for r in results) == ["busy", "succeeded"], [r.as_dict() for r in results]
    assert "being polled by" in next(r for r in results if r.state == "busy").message
    assert len(runs(engine, "lapor")) == 1 and count(engine) == 2500
    assert lease_holder(engine, "lapor") == (None, None)


def test_a_held_lease_skips_and_an_expired_one_is_taken_over(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    write_csv(folder / "one.csv", [report(5500001)])
    assert acquire_lease(engine, "lapor", "otherhost:1:dead", 1.0)
    with engine.begin() as conn:  # the run that worker left behind when it died
        conn.execute(insert(ImportRun.__table__), {"channel": "lapor", "source": "x.xlsx", "state": "running",
                                                   "started_at": datetime.now(timezone.utc) - timedelta(seconds=5)})

    busy = poll_channel("lapor", region, engine, settle_seconds=0)
    assert busy.state == "busy" and "otherhost:1:dead" in busy.message and busy.runs == []
    assert len(runs(engine, "lapor")) == 1 and count(engine) == 0

    time.sleep(1.1)
    taken = poll_channel("lapor", region, engine, settle_seconds=0)
    assert taken.state == "succeeded" and count(engine) == 1
    states = [(r["state"], r["error"]) for r in runs(engine, "lapor")]
    assert states == [("failed", INTERRUPTED), ("succeeded", None)]
    assert lease_holder(engine, "lapor") == (None, None)


KILL_SCRIPT = """
import dataclasses, sys
from connectors.scheduler import poll_channel
from models.db import get_engine
from regions import load_region
region = load_region("surabaya")
region = dataclasses.replace(region, channels={"lapor": {"enabled": True, "drop_folder": sys.argv[2]}})
poll_channel("lapor", region, get_engine(sys.argv[1]), lease_seconds=2, settle_seconds=0)
print("finished", flush=True)
"""


def test_killing_a_worker_mid_poll_loses_and_doubles_nothing(db_url, engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    rows = 12000
    big = write_csv(folder / "laporan_besar.csv", [report(6000000 + i) for i in range(rows)])
    region = lapor_region(surabaya, folder)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    worker = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, db_url, str(folder)], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # killed while it writes: a fixed pause would let a fast machine finish the file first
    kill_when(worker, lambda: any(r["state"] == "running" for r in runs(engine, "lapor")) and writing(db_url),
              "the worker writing the file")
    assert b"finished" not in worker.stdout.read()
    assert count(engine) == 0  # the file's transaction died with the worker
    assert lease_holder(engine, "lapor")[0] is not None  # and its lease is still there, until it expires

    deadline = time.monotonic() + 15
    while True:
        result = poll_channel("lapor", region, engine, settle_seconds=0)
        if result.state != "busy":
            break
        assert time.monotonic() < deadline, "the dead worker's lease never expired"
        time.sleep(0.5)
    assert result.state == "succeeded", result.as_dict()
    with engine.connect() as conn:
        assert conn.execute(select(func.count(func.distinct(Complaint.source_id)))).scalar_one() == rows
        last_runs = set(conn.execute(select(Complaint.last_run_id)).scalars())
    assert count(engine) == rows
    recorded = runs(engine, "lapor")
    assert [(r["state"], r["error"]) for r in recorded] == [("failed", INTERRUPTED), ("succeeded", None)]
    succeeded = recorded[-1]
    assert succeeded["inserted"] == rows and succeeded["read"] == rows and last_runs == {succeeded["id"]}
    from connectors.drop_folder import sha256_of

    assert succeeded["source_sha256"] == sha256_of(big)
    # the next poll agrees that the file is done
    assert poll_channel("lapor", region, engine, settle_seconds=0).runs == []
    assert count(engine) == rows


# --- the scheduler and the commands ---------------------------------------------------------------------------

def test_scheduler_has_one_safe_job_per_enabled_channel_and_a_broken_one_blocks_nobody(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    write_csv(folder / "one.csv", [report(7000001)])
    region = with_channels(
        surabaya,
        lapor={"enabled": True, "interval_minutes": 60, "drop_folder": str(folder), "settle_seconds": 0},
        call112={"enabled": True, "interval_minutes": 5, "drop_folder": str(tmp_path / "missing")},
        social={"enabled": True, "interval_minutes": 15, "url": "http://127.0.0.1:9/x"},  # files only: not scheduled
        jss={"enabled": False, "interval_minutes": 5, "url": "http://127.0.0.1:9/jss"},
    )
    scheduler = build_scheduler(region, engine, first_run_within=0.5)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"poll:lapor", "poll:call112", "rollup:refresh"}  # one per channel, and the rollup's
    lapor_job = jobs["poll:lapor"]
    assert lapor_job.coalesce and lapor_job.max_instances == 1 and lapor_job.misfire_grace_time >= 60
    assert lapor_job.trigger.interval == timedelta(minutes=60) and lapor_job.trigger.jitter
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while {r["channel"] for r in runs(engine)} != {"lapor", "call112"}:
            assert time.monotonic() < deadline, runs(engine)
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while any(r["state"] == "running" for r in runs(engine)):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    states = {r["channel"]: (r["state"], r["error"]) for r in runs(engine)}
    assert states["lapor"] == ("succeeded", None)
    assert states["call112"][0] == "failed" and "does not exist" in states["call112"][1]
    assert count(engine) == 1


CHANNELS_TOML = """
[lapor]
enabled = true
interval_minutes = 60
stale_after_minutes = 2880
drop_folder = "{folder}"
settle_seconds = 0

[jss]
enabled = false
interval_minutes = 5
url = "http://127.0.0.1:9/jss"
"""


def test_poll_command_once_and_due(db_url, engine, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = region_folder(tmp_path, CHANNELS_TOML.format(folder=folder))
    write_xlsx(folder / "laporan.xlsx", [report(7100001), report(7100002)], preamble=OFFICIAL_PREAMBLE)
    monkeypatch.setenv("DATABASE_URL", db_url)

    assert cli_main(["poll", "--once", "--channel", "lapor", "--region", str(region), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["state"] == "succeeded" and result["runs"][0]["inserted"] == 2

    # lapor ran just now: nothing is due
    assert cli_main(["poll", "--once", "--region", str(region)]) == 0
    assert "nothing is due" in capsys.readouterr().out
    with engine.begin() as conn:  # an hour later it is due again
        conn.execute(ImportRun.__table__.update().values(
            started_at=datetime.now(timezone.utc) - timedelta(minutes=61)))
    assert cli_main(["poll", "--once", "--region", str(region), "--json"]) == 0
    [again] = json.loads(capsys.readouterr().out)
    assert again["channel"] == "lapor" and again["already_imported"] == 1 and again["runs"] == []

    assert cli_main(["poll", "--once", "--channel", "nope", "--region", str(region)]) == 2
    assert "unknown channel" in capsys.readouterr().err

    (folder / "broken.xlsx").write_bytes(b"<html></html>")
    assert cli_main(["poll", "--once", "--channel", "lapor", "--region", str(region)]) == 1
    assert "web page" in capsys.readouterr().err


def test_worker_process_polls_and_stops_cleanly_on_sigterm(db_url, engine, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = region_folder(tmp_path, CHANNELS_TOML.format(folder=folder))
    write_csv(folder / "laporan.csv", [report(7200001)])
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": db_url, "SIGAP_FIRST_POLL_SECONDS": "1"}
    script = "import sys; from tests.test_scheduler import cli_main; sys.exit(cli_main(sys.argv[1:]))"
    worker = subprocess.Popen([sys.executable, "-c", script, "worker", "--region", str(region)], cwd=PROJECT_ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(r["state"] == "succeeded" for r in runs(engine, "lapor")):
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker never polled"
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    assert worker.returncode == 0, err
    assert "worker stopped" in err and count(engine) == 1
    assert lease_holder(engine, "lapor") == (None, None)


def test_embedded_poller_starts_once_per_process_and_only_for_the_embedded_database(tmp_path, monkeypatch):
    import models.db
    from ui import background

    folder = tmp_path / "drop"
    folder.mkdir()
    region = region_folder(tmp_path, CHANNELS_TOML.format(folder=folder))
    monkeypatch.setenv("SIGAP_REGION", str(region))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "other.db"))
    assert background.start_embedded_poller() is None  # a configured database is polled by the worker
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("SIGAP_EMBEDDED_POLLER", "0")
    assert background.start_embedded_poller() is None

    monkeypatch.setenv("SIGAP_EMBEDDED_POLLER", "1")
    monkeypatch.setenv("SIGAP_SEED", "0")
    monkeypatch.setattr(models.db, "DEFAULT_SQLITE_PATH", tmp_path / "embedded.db")
    scheduler = background.start_embedded_poller()
    try:
        assert scheduler is not None and scheduler.running
        assert sorted(job.id for job in scheduler.get_jobs()) == ["poll:lapor", "rollup:refresh"]
        assert background.start_embedded_poller() is scheduler  # every rerun and session shares it
    finally:
        scheduler.shutdown(wait=True)
        background._poller.clear()
        models.db.reset_engines()


# --- channel health -------------------------------------------------------------------------------------------

def add_run(engine, channel, state, finished, *, started=None, error=None, **counts):
    values = {"channel": channel, "state": state, "started_at": started or finished - timedelta(seconds=5),
              "finished_at": finished, "error": error, "read": 0, "inserted": 0, "updated": 0, "unchanged": 0,
              "quarantined": 0, **counts}
    with engine.begin() as conn:
        conn.execute(insert(ImportRun.__table__), values)


def test_channel_health_turns_stale_only_after_the_threshold(engine, surabaya):
    now = datetime(2025, 11, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB
    region = with_channels(
        surabaya,
        lapor={"enabled": True, "interval_minutes": 60, "stale_after_minutes": 2880, "drop_folder": "var/drop/x"},
        wargaku={"enabled": True, "interval_minutes": 2, "stale_after_minutes": 30, "url": "http://127.0.0.1:9/w"},
        mediacenter={"enabled": True, "interval_minutes": 10, "stale_after_minutes": 240, "url": "http://x/m"},
        jss={"enabled": False, "interval_minutes": 5, "stale_after_minutes": 60, "url": "http://x/j"},
    )
    add_run(engine, "lapor", "succeeded", now - timedelta(minutes=2880), read=10, inserted=7, updated=2,
            quarantined=1)
    add_run(engine, "wargaku", "succeeded", now - timedelta(minutes=10), read=5, inserted=5)
    add_run(engine, "wargaku", "failed", now - timedelta(minutes=2), error="wargaku: HTTP 503 from x after 3 attempts")

    health = channel_health(engine, region, now).set_index("channel")
    assert health.loc["lapor", "state"] == "ok"  # exactly at its threshold: not stale yet
    assert health.loc["wargaku", "state"] == "failing"
    assert health.loc["mediacenter", "state"] == "stale" and health.loc["mediacenter", "last_success_at"] is None
    assert health.loc["jss", "state"] == "disabled"
    assert (health.loc["lapor", "last_read"], health.loc["lapor", "last_inserted"],
            health.loc["lapor", "last_quarantined"]) == (10, 7, 1)
    assert health.loc["lapor", "age_minutes"] == pytest.approx(2880)
    assert health.loc["wargaku", "runs_24h"] == 2 and health.loc["wargaku", "failed_24h"] == 1
    assert health.loc["wargaku", "today_inserted"] == 5
    assert "HTTP 503" in health.loc["wargaku", "last_error"] and health.loc["wargaku", "error_is_current"]

    later = channel_health(engine, region, now + timedelta(seconds=1)).set_index("channel")
    assert later.loc["lapor", "state"] == "stale"
    much_later = channel_health(engine, region, now + timedelta(minutes=21)).set_index("channel")
    assert much_later.loc["wargaku", "state"] == "stale"
    assert much_later.loc["wargaku", "runs_24h"] == 2 and much_later.loc["lapor", "runs_24h"] == 0

    add_run(engine, "lapor", "succeeded", now + timedelta(minutes=5))  # a new export arrives
    assert channel_health(engine, region, now + timedelta(minutes=6)).set_index("channel").loc["lapor", "state"] == "ok"
    assert health_state(True, now, 60, now + timedelta(minutes=60)) == "ok"
    assert health_state(True, now, 60, now + timedelta(minutes=60, microseconds=1)) == "stale"


def test_quarantine_is_shown_newest_first_with_personal_data_masked():
    raw = json.dumps({"tracking_id": "1", "nama_pelapor": "Budi Santoso", "isi_laporan": "NIK 3578012345678901, "
                      "hubungi 0812-3456-7890 atau budi@mail.com", "kecamatan": "GENTENG"})
    shown = redact_raw(raw)
    assert "Budi" not in shown and "3578012345678901" not in shown and "0812" not in shown
    assert "budi@mail.com" not in shown and "GENTENG" in shown and "tracking_id" in shown


# --- re-processing the quarantine -----------------------------------------------------------------------------

def test_reprocessing_quarantine_after_a_mapping_fix_stores_the_records(engine, tmp_path, surabaya):
    folder = tmp_path / "drop"
    folder.mkdir()
    region = lapor_region(surabaya, folder)
    first = export(folder / "laporan_1.xlsx", [
        report(8000001), report(8000002, status="Dalam Proses"), report(8000003, status="Dalam Proses"),
        report(8000004, status="Dalam Proses"), report(8000005, date="31 Foo 2023"),
    ], "2025-11-03")
    set_mtime(first, time.time() - 120)
    assert poll_channel("lapor", region, engine, settle_seconds=0).state == "succeeded"
    # a later export already has 8000004 in a known status: its old quarantined row must not overwrite it
    export(folder / "laporan_2.xlsx", [report(8000004, status="Ditutup oleh Admin")], "2025-11-05")
    assert poll_channel("lapor", region, engine, settle_seconds=0).state == "succeeded"
    assert count(engine) == 2 and count(engine, QuarantinedRecord) == 4
    before = open_quarantine(engine, "lapor")
    assert list(before["source_id"]) == ["8000005", "8000004", "8000003", "8000002"]  # newest first (by id)

    unchanged = reprocess_quarantine("lapor", engine, region)
    assert (unchanged.considered, unchanged.still_quarantined, unchanged.reprocessed) == (4, 4, 0)
    assert count(engine) == 2

    mapping = tmp_path / "lapor_fixed.toml"
    mapping.write_text((PROJECT_ROOT / "connectors/mappings/lapor.toml").read_text(encoding="utf-8").replace(
        "[status]\n", '[status]\n"Dalam Proses" = "in_progress"\n'), encoding="utf-8")
    fixed_region = lapor_region(surabaya, folder, mapping=str(mapping))
    done = reprocess_quarantine("lapor", engine, fixed_region)
    assert done.reconciles and done.error is None
    assert (done.considered, done.inserted, done.superseded, done.still_quarantined) == (4, 2, 1, 1)
    assert done.runs and all(r.reconciles for r in done.runs)

    with engine.connect() as conn:
        stored = dict(conn.execute(select(Complaint.source_id, Complaint.status)).all())
        still_open = conn.execute(select(QuarantinedRecord.source_id, QuarantinedRecord.reason)
                                  .where(QuarantinedRecord.reprocessed_at.is_(None))).all()
        events = conn.execute(select(func.count()).select_from(ComplaintStatusEvent)).scalar_one()
    assert stored == {"8000001": "resolved", "8000002": "in_progress", "8000003": "in_progress",
                      "8000004": "closed"}
    assert [r.source_id for r in still_open] == ["8000005"] and "not a date" in still_open[0].reason
    assert events == 4
    health = channel_health(engine, fixed_region, datetime.now(timezone.utc)).set_index("channel")
    assert health.loc["lapor", "open_quarantine"] == 1
    # nothing left to do twice
    again = reprocess_quarantine("lapor", engine, fixed_region)
    assert (again.considered, again.reprocessed) == (1, 0) and count(engine) == 4
