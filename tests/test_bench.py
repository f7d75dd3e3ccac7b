"""The benchmark suite keeps working: a tiny run end to end, checking the JSON's shape and sanity (no timings)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "bench", "--rows", "2000", "--repeat", "1", "--json",
                           "--workdir", str(workdir)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, "stdout must hold exactly one JSON object with --json"
    return json.loads(lines[0]), done.stderr, workdir


def test_json_has_every_measurement(tiny_run):
    result, _, _ = tiny_run
    for key in ("ingest_ratio", "reimport_ratio", "file_import_ratio", "pages", "map_bytes", "peak_rss_mb", "raw"):
        assert key in result, key
    for key in ("ingest_ratio", "reimport_ratio", "file_import_ratio"):
        assert isinstance(result[key], float) and result[key] > 0, (key, result[key])
    assert result["map_bytes"] > 1000  # a deck with district polygons at least
    assert 50 < result["peak_rss_mb"] < 8000


def test_every_page_is_timed_cold_and_warm(tiny_run):
    result, _, _ = tiny_run
    pages = result["pages"]
    assert {"overview", "map"} <= set(pages), sorted(pages)
    for name, page in pages.items():
        assert page["cold_s"] > 0 and page["warm_s"] > 0 and page["cold_cpu_s"] > 0, name  # AppTest, real page
        assert "problem" not in page, (name, page.get("problem"))
        if page.get("functions"):
            assert page["metrics_cold_s"] > 0 and page["metrics_warm_s"] >= 0, name
            assert all(f["function"].startswith("metrics.") for f in page["functions"]), name
    overview = {f["function"] for f in pages["overview"]["functions"]}
    assert {"metrics.queries.headline", "metrics.queries.by_channel", "metrics.queries.daily_trend"} <= overview


def test_every_record_lands_once_and_reimports_unchanged(tiny_run):
    result, _, _ = tiny_run
    counts = result["raw"]["ingest_sqlite_counts"]
    assert counts["first"]["inserted"] == 2000 and counts["first"]["quarantined"] == 0
    assert counts["reimport"]["unchanged"] == 2000
    summary = result["raw"]["file_import_summary"]
    assert summary["read"] == 2000 and summary["quarantined"] == 0
    assert summary["inserted"] + summary["unchanged"] == 2000  # ids repeated within the file supersede


def test_raw_timings_and_table(tiny_run):
    result, table, workdir = tiny_run
    raw = result["raw"]["ingest_sqlite"]
    assert set(raw) == {"pipeline_first", "pipeline_reimport", "bare_first", "bare_reimport"}
    assert all(len(t["wall_s"]) == 1 and t["min_s"] <= t["median_s"] <= t["max_s"] for t in raw.values())
    assert "ingest_ratio" in table and "overview" in table
    assert not any(workdir.iterdir()), "the work folder is cleaned up"


def test_generated_112_csv_imports_cleanly(tmp_path, surabaya):
    from bench.data import write_call112_csv
    from connectors.call112 import Call112Connector

    path = write_call112_csv(tmp_path / "calls.csv", 500, surabaya, datetime(2026, 3, 1, tzinfo=timezone.utc))
    connector = Call112Connector(path, region=surabaya)
    records = [connector.parse(raw) for raw in connector.fetch(None)]
    assert len(records) == 500
    assert {r.kind for r in records} == {"emergency_call", "non_emergency_call"}
    assert sum(r.district_code is not None for r in records) > 150
