"""The worker importing continuously while dashboard sessions read the same SQLite file: no session sees an error
("database is locked" or any other), and the imports all succeed. A short run of bench/concurrency.py; the longer
run whose latencies docs/OPERATIONS.md reports is `python -m bench.concurrency`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

import models.db
from bench.concurrency import measure, percentile, seed_database
from models.db import get_engine

READERS = 6
SECONDS = 8


def test_sessions_reading_while_the_worker_imports_see_no_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    seed_database(url, 2000)

    result = measure(url, tmp_path, SECONDS, READERS, file_rows=1000)

    print(f"\n{READERS} sessions, {SECONDS} s, {result['imports']} imports meanwhile: read p50 "
          f"{result['read']['p50_ms']} ms, p99 {result['read']['p99_ms']} ms; audit write p99 "
          f"{result['audit_write']['p99_ms']} ms; WAL up to {result['max_wal_mb']} MB")
    assert result["errors"] == []
    assert result["writer_exit"] == 0, result["writer_stderr"]
    assert result["import_failures"] == []
    # the reads really overlapped the writes: the worker imported more files while the sessions read
    assert result["imports"] >= 2 and result["records_written"] > 0
    assert result["read"]["n"] >= READERS * 9  # every session finished at least one round of every page call
    assert result["audit_write"]["n"] >= 1


def test_percentile_interpolates_between_closest_ranks():
    assert percentile([], 50) is None
    assert percentile([3.0], 99) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 99) == 99.0
    assert percentile([1.0, 2.0], 100) == 2.0


def test_a_writer_empties_a_wal_over_the_limit_when_it_returns_its_connection(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    wal = Path(f"{tmp_path / 'wal.db'}-wal")
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))

    def write() -> int:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "x" * 1000}] * 200)
        return wal.stat().st_size

    assert write() > 0  # under the limit: the WAL is left to SQLite's own passive checkpoints
    monkeypatch.setattr(models.db, "WAL_CHECKPOINT_BYTES", 1000)
    with engine.connect() as reader:  # a session reading meanwhile does not trigger a checkpoint
        reader.execute(text("SELECT count(*) FROM t")).scalar_one()
    assert wal.stat().st_size > 1000
    assert write() == 0  # the writer's connection truncated it on its way back to the pool
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 400
