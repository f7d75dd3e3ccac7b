"""The worker importing continuously while dashboard sessions read the same SQLite file: no session sees an error
("database is locked" or any other), and the imports all succeed. A short run of bench/concurrency.py; the longer
run whose latencies docs/OPERATIONS.md reports is `python -m bench.concurrency`."""
from __future__ import annotations

from bench.concurrency import measure, percentile, seed_database

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
