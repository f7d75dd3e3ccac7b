"""Dashboard reads while the worker writes, on the embedded SQLite file.

    python -m bench.concurrency [--seconds 120] [--readers 16] [--rows 20000] [--file-rows 2000] [--json]

A worker process imports Command Center 112 CSV exports back to back (the real file import path: parse,
validate, upsert, status events, run summary, one transaction per file) while READERS threads, each one
dashboard session, call the metric functions the overview, map and channels pages call, uncached, in a loop;
every tenth round a session also writes an audit row, as viewing reporter data does. Reports the read latency
(p50 / p95 / p99 / max, per call and per function) with the writer and, as the reference, for a while
before it starts without it, every error a session saw (a "database is locked" would
reach a user), the imports done meanwhile and the largest WAL file seen. tests/test_concurrency.py runs it
briefly; the figures in docs/OPERATIONS.md come from a longer run.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from models.db import PROJECT_ROOT

AUDIT_EVERY = 10  # rounds of page reads per audit-log write of one session


# --- the worker: imports files back to back -------------------------------------------------------------------

def write_continuously(url: str, folder: Path, seconds: float, file_rows: int) -> int:
    """Import `file_rows`-row 112 exports until `seconds` pass or SIGTERM; one JSON line per import on stdout.

    Each export is drawn with a new seed: its calls overlap earlier ones (updates) and add new ones (inserts)."""
    from bench.data import write_call112_csv
    from connectors import connector_for
    from connectors.pipeline import run_import
    from models.db import get_engine, prepare_database
    from regions import load_region

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    region = load_region("surabaya")
    engine = prepare_database(get_engine(url), region)
    deadline = time.monotonic() + seconds
    round_no = 0
    while not stop.is_set() and time.monotonic() < deadline:
        path = write_call112_csv(folder / f"call112-{round_no}.csv", file_rows, region, seed=100 + round_no)
        started = time.perf_counter()
        summary = run_import(connector_for("call112", region, source=path), engine, source=str(path))
        print(json.dumps({"round": round_no, "seconds": round(time.perf_counter() - started, 3),
                          **{k: v for k, v in summary.as_dict().items() if k != "quarantine_reasons"}}), flush=True)
        path.unlink()
        round_no += 1
    return 0


def start_writer(url: str, folder: Path, seconds: float, file_rows: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bench.concurrency", "writer", url, str(folder), "--seconds", str(seconds),
         "--file-rows", str(file_rows)], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def stop_writer(writer: subprocess.Popen) -> tuple[list[dict], str]:
    """Ask the writer to stop after its current import; its import lines and its stderr."""
    if writer.poll() is None:
        writer.send_signal(signal.SIGTERM)
    try:
        out, err = writer.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        writer.kill()
        out, err = writer.communicate()
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


# --- the dashboard sessions --------------------------------------------------------------------------------------

def page_calls(region):
    """(name, call(engine, now)) for what the overview, map and channels pages ask, with their default filters."""
    from metrics import channels, geo, queries
    from metrics.filters import Filters

    tz = region.timezone

    def filters(now):
        return Filters.last_days(30, now.astimezone(tz).date())

    return [
        ("headline", lambda e, now: queries.headline(e, filters(now), now, tz)),
        ("headline_previous", lambda e, now: queries.headline(e, filters(now).previous(), now, tz)),
        ("by_channel", lambda e, now: queries.by_channel(e, filters(now), now, tz)),
        ("daily_trend", lambda e, now: queries.daily_trend(e, filters(now), tz)),
        ("most_overdue", lambda e, now: queries.most_overdue(e, filters(now), now, 10)),
        ("district_counts", lambda e, now: queries.district_counts(e, filters(now), now, tz)),
        ("density_grid", lambda e, now: geo.density_grid(e, filters(now), tz)),
        ("last_update", lambda e, now: queries.last_update(e)),
        ("channel_health", lambda e, now: channels.channel_health(e, region, now)),
    ]


@dataclass
class SessionLog:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    write_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rounds: int = 0


def session(url: str, region, stop: threading.Event, log: SessionLog, number: int) -> None:
    """One dashboard session: the pages' reads in a loop, an audit write every AUDIT_EVERY rounds."""
    from models.auth import audit
    from models.db import get_engine

    engine = get_engine(url)
    calls = page_calls(region)
    while not stop.is_set():
        now = datetime.now(timezone.utc)
        for name, call in calls:
            started = time.perf_counter()
            try:
                call(engine, now)
            except Exception as exc:  # noqa: BLE001 - every error a user would see is the measurement
                log.errors.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0][:300])
                continue
            log.latencies.setdefault(name, []).append(time.perf_counter() - started)
        log.rounds += 1
        if log.rounds % AUDIT_EVERY == number % AUDIT_EVERY:
            started = time.perf_counter()
            try:
                audit(engine, f"session{number}", "view_reporter", detail="concurrency benchmark")
            except Exception as exc:  # noqa: BLE001
                log.errors.append(f"audit: {type(exc).__name__}: {exc}".splitlines()[0][:300])
            else:
                log.write_latencies.append(time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(values: list[float]) -> dict:
    return {"n": len(values), **{f"p{q}_ms": round(percentile(values, q) * 1000, 1) if values else None
                                 for q in (50, 95, 99)},
            "max_ms": round(max(values) * 1000, 1) if values else None}


def seed_database(url: str, rows: int) -> None:
    """A migrated database with `rows` complaints across the channels (bench/data.py), as the sessions' data."""
    from bench.data import dataset
    from bench.ingest import connectors_for, run_pipeline
    from models.db import get_engine, prepare_database
    from regions import load_region

    engine = prepare_database(get_engine(url), load_region("surabaya"))
    run_pipeline(engine, connectors_for(dataset(rows).records))


def wal_bytes(url: str) -> int:
    wal = Path(url.removeprefix("sqlite:///") + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def read_for(url: str, region, seconds: float, readers: int, writer: subprocess.Popen | None = None) -> dict:
    """READERS sessions reading for `seconds` (less if the writer ends): their latencies, errors, largest WAL."""
    stop = threading.Event()
    logs = [SessionLog() for _ in range(readers)]
    threads = [threading.Thread(target=_guarded_session, args=(url, region, stop, log, i), daemon=True)
               for i, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    biggest_wal, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline and (writer is None or writer.poll() is None):
        biggest_wal = max(biggest_wal, wal_bytes(url))
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    every = [v for log in logs for values in log.latencies.values() for v in values]
    names = sorted({name for log in logs for name in log.latencies})
    return {
        "read": summary_ms(every),
        "read_by_function": {n: summary_ms([v for log in logs for v in log.latencies.get(n, [])]) for n in names},
        "audit_write": summary_ms([v for log in logs for v in log.write_latencies]),
        "page_rounds": sum(log.rounds for log in logs),
        "errors": [e for log in logs for e in log.errors],
        "max_wal_mb": round(biggest_wal / 1e6, 1),
    }


def measure(url: str, folder: Path, seconds: float, readers: int, file_rows: int,
            baseline_seconds: float = 0) -> dict:
    """Readers against a writing worker for `seconds`, after `baseline_seconds` of the same reads without it
    (the same machine in the same minutes: the ratio says what the writes cost the readers)."""
    from regions import load_region

    region = load_region("surabaya")
    baseline = read_for(url, region, baseline_seconds, readers) if baseline_seconds else None
    writer = start_writer(url, folder, seconds + 600, file_rows)
    try:
        _wait_for_first_line(writer)
        during = read_for(url, region, seconds, readers, writer)
    finally:
        imports, writer_err = stop_writer(writer)
    result = {
        "seconds": seconds, "readers": readers, "file_rows": file_rows, **during,
        "imports": len(imports), "import_failures": [i for i in imports if i["state"] != "succeeded"],
        "import_seconds": summary_ms([i["seconds"] for i in imports]),
        "records_written": sum(i["inserted"] + i["updated"] for i in imports),
        "writer_exit": writer.returncode, "writer_stderr": writer_err[-2000:],
    }
    if baseline:
        result["baseline"] = {"seconds": baseline_seconds, **baseline}
        result["errors"] = baseline["errors"] + result["errors"]
    return result


def _wait_for_first_line(writer: subprocess.Popen) -> None:
    """The worker has prepared the database and finished one import (the readers then start mid-import)."""
    line = writer.stdout.readline()
    if not line.startswith("{"):
        raise RuntimeError(f"the writer did not start: {line}{writer.stderr.read()[-2000:]}")


def _guarded_session(url: str, region, stop: threading.Event, log: SessionLog, number: int) -> None:
    try:
        session(url, region, stop, log, number)
    except Exception:  # noqa: BLE001 - a session that dies is an error, not a silent gap
        log.errors.append(traceback.format_exc(limit=3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    writer = sub.add_parser("writer", help="(internal) the writing worker")
    writer.add_argument("url")
    writer.add_argument("folder", type=Path)
    writer.add_argument("--seconds", type=float, default=60)
    writer.add_argument("--file-rows", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--baseline-seconds", type=float, default=30,
                        help="the same reads without the writer first, as the reference (0: none)")
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--rows", type=int, default=20000, help="complaints in the database before the run")
    parser.add_argument("--file-rows", type=int, default=2000, help="rows per imported 112 export")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "writer":
        return write_continuously(args.url, args.folder, args.seconds, args.file_rows)
    with tempfile.TemporaryDirectory(prefix="sigap-concurrency-") as folder:
        url = f"sqlite:///{Path(folder) / 'sigap.db'}"
        seed_database(url, args.rows)
        result = measure(url, Path(folder), args.seconds, args.readers, args.file_rows, args.baseline_seconds)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(_table(result))
    return 1 if result["errors"] or result["import_failures"] else 0


def _table(result: dict) -> str:
    lines = [f"{result['readers']} sessions reading for {result['seconds']:.0f} s while the worker imported "
             f"{result['imports']} files of {result['file_rows']} rows ({result['records_written']} records "
             f"written; import p50 {result['import_seconds']['p50_ms']} ms); largest WAL {result['max_wal_mb']} MB",
             f"errors seen by sessions: {len(result['errors'])}" + "".join(f"\n  {e}" for e in result["errors"][:10]),
             "", "| call | n | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    rows = {"all page reads": result["read"], **result["read_by_function"], "audit write": result["audit_write"]}
    if "baseline" in result:
        rows["all page reads, no writer (baseline)"] = result["baseline"]["read"]
    for name, s in rows.items():
        lines.append(f"| {name} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    if "baseline" in result:
        base, during = result["baseline"]["read"], result["read"]
        lines.append(f"\nwith the writer / without: p50 x{during['p50_ms'] / base['p50_ms']:.2f}, "
                     f"p99 x{during['p99_ms'] / base['p99_ms']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
