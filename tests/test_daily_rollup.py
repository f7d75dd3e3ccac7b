"""The daily rollup (metrics/daily.py): kept up to date by imports and refreshes, and every figure read from it
equal to the same figure computed from the complaint table, on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, select, text

from bench.data import dataset
from bench.ingest import connectors_for, run_pipeline
from metrics import Filters, daily, queries, ranking, response
from models import Complaint, DailyRollup, RollupPending
from regions import load_region

REGION = load_region("surabaya")
TZ = REGION.timezone
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)
TODAY = NOW.astimezone(TZ).date()


def _import(engine, n: int, seed: int = 7, now: datetime = NOW) -> None:
    run_pipeline(engine, connectors_for(dataset(n, REGION, now, seed=seed).records))


def _facts_from_complaints(engine, filters: Filters, group: str) -> daily.Facts:
    with engine.connect() as conn:
        return daily._from_complaints(conn, filters.period_clauses(TZ), TZ, group)


def _same(a: daily.Facts, b: daily.Facts, keys=("day", "kind", "value")) -> None:
    left, right = a.grouped(list(keys)), b.grouped(list(keys))
    order_l = left.rows.sort_values(list(keys)).index.to_numpy()
    order_r = right.rows.sort_values(list(keys)).index.to_numpy()
    pd.testing.assert_frame_equal(left.rows.loc[order_l].reset_index(drop=True),
                                  right.rows.loc[order_r].reset_index(drop=True), check_dtype=False)
    for measure in daily.MEASURES:
        np.testing.assert_allclose(left.histogram(measure)[order_l], right.histogram(measure)[order_r])


def _pending(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(RollupPending.__table__)).scalar_one()


def test_imports_mark_days_and_refresh_builds_them(engine):
    _import(engine, 3000)
    with engine.connect() as conn:
        marked = daily.pending_days(conn, TZ)
        complaint_days = {m.astimezone(TZ).date().isoformat()
                          for m in conn.execute(select(Complaint.received_at)).scalars()}
    assert marked == complaint_days  # marked in the import's own transactions, one day no more, no less
    rebuilt = daily.refresh(engine, TZ)
    assert rebuilt == len(complaint_days)
    assert _pending(engine) == 0
    with engine.connect() as conn:
        assert daily.pending_days(conn, TZ) == set()
        for dim in daily.DIMENSIONS:  # every dimension adds up to every complaint exactly once
            total = conn.execute(select(func.sum(DailyRollup.n)).where(DailyRollup.dim == dim)).scalar_one()
            assert total == 3000, dim
    assert daily.refresh(engine, TZ) == 0  # nothing left to do


def test_rollup_equals_complaint_table_for_every_dimension(engine):
    _import(engine, 3000)
    daily.refresh(engine, TZ)
    for group, days in itertools.product(daily.DIMENSIONS, (1, 7, 30, 400)):
        filters = replace(Filters.last_days(days, TODAY), kinds=())
        _same(daily.period_facts(engine, filters, TZ, group), _facts_from_complaints(engine, filters, group))


def test_filtered_figures_equal_complaint_table(engine):
    """One dimension filter is answered by the rollup, two (or one grouped by another) by the complaints:
    the figures must not depend on which."""
    _import(engine, 3000)
    daily.refresh(engine, TZ)
    base = Filters.last_days(60, TODAY)
    with engine.connect() as conn:
        channel, district, agency = conn.execute(
            select(Complaint.channel, Complaint.district_code, Complaint.agency_code)
            .where(Complaint.district_code.isnot(None), Complaint.agency_code.isnot(None)).limit(1)).one()
    cases = [replace(base, channels=(channel,)), replace(base, districts=(district,)),
             replace(base, agencies=(agency,)), replace(base, channels=(channel,), agencies=(agency,))]
    for filters, group in itertools.product(cases, ["all", "channel", "agency", "district"]):
        _same(daily.period_facts(engine, filters, TZ, group), _facts_from_complaints(engine, filters, group))


def test_update_that_moves_a_complaint_to_another_day_rebuilds_both_days(engine):
    records = dataset(200, REGION, NOW, seed=3).records
    run_pipeline(engine, connectors_for(records))
    daily.refresh(engine, TZ)
    channel, items = next(iter(records.items()))
    moved = items[0]
    old_day = moved.received_at.astimezone(TZ).date()
    new_at = moved.received_at - timedelta(days=40)
    changed = moved.model_copy(update={"received_at": new_at})
    run_pipeline(engine, connectors_for({channel: [changed]}))
    with engine.connect() as conn:
        marked = daily.pending_days(conn, TZ)
    assert {old_day.isoformat(), new_at.astimezone(TZ).date().isoformat()} <= marked
    daily.refresh(engine, TZ)
    filters = replace(Filters(old_day - timedelta(days=60), old_day + timedelta(days=1)), kinds=())
    _same(daily.period_facts(engine, filters, TZ, "channel"), _facts_from_complaints(engine, filters, "channel"))


def test_rows_written_around_the_pipeline_are_found_above_the_watermark(engine):
    _import(engine, 500)
    daily.refresh(engine, TZ)
    filters = replace(Filters.last_days(30, TODAY), kinds=())
    before = daily.totals(daily.period_facts(engine, filters, TZ)).counts["n"]
    at = NOW - timedelta(hours=3)
    with engine.begin() as conn:  # a fixture or bulk load: no day marks
        conn.execute(insert(Complaint.__table__), [{
            "channel": "wargaku", "source_id": f"direct-{i}", "received_at": at, "kind": "complaint",
            "status": "new", "row_hash": "x", "first_seen_at": at, "last_changed_at": at,
            "is_anonymous": False, "is_confidential": False} for i in range(7)])
    assert _pending(engine) == 0
    # before any refresh the pages already count them (their day is read from the complaints) ...
    assert daily.totals(daily.period_facts(engine, filters, TZ)).counts["n"] == before + 7
    # ... and the refresh folds them into the rollup
    assert daily.refresh(engine, TZ) == 1
    with engine.connect() as conn:
        assert daily.pending_days(conn, TZ) == set()
    assert daily.totals(daily.period_facts(engine, filters, TZ)).counts["n"] == before + 7


def test_a_mark_committed_during_a_refresh_is_kept_for_the_next(engine, monkeypatch):
    _import(engine, 300)
    real_base_frame = daily.base_frame
    late_day = (TODAY - timedelta(days=2)).isoformat()

    def base_frame_with_a_concurrent_import(conn, where):
        with engine.begin() as other:  # another process's import commits while the refresh reads
            daily.mark_days(other, [late_day])
        monkeypatch.setattr(daily, "base_frame", real_base_frame)
        return real_base_frame(conn, where)

    monkeypatch.setattr(daily, "base_frame", base_frame_with_a_concurrent_import)
    if engine.dialect.name == "sqlite":
        # SQLite has one writer: the concurrent import commits before the refresh's write transaction
        daily.refresh(engine, TZ, chunk_days=10_000)
    else:
        daily.refresh(engine, TZ)
    with engine.connect() as conn:
        assert daily.pending_days(conn, TZ) == {late_day}


def test_migrating_a_database_with_complaints_reads_them_until_the_first_refresh(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE rollup_watermark SET complaint_id = 0"))
    _import(engine, 200)
    with engine.begin() as conn:
        conn.execute(RollupPending.__table__.delete())
        conn.execute(DailyRollup.__table__.delete())
        conn.execute(text("UPDATE rollup_watermark SET complaint_id = 0"))
    filters = replace(Filters.last_days(400, TODAY), kinds=())
    assert daily.totals(daily.period_facts(engine, filters, TZ)).counts["n"] == 200
    daily.refresh(engine, TZ)
    assert daily.totals(daily.period_facts(engine, filters, TZ)).counts["n"] == 200


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 5000])
def test_histogram_percentiles_within_a_bucket_of_the_exact_value(n):
    rng = np.random.default_rng(n)
    values = rng.lognormal(mean=2.5, sigma=1.4, size=n)
    histogram = np.zeros(2 * daily.BUCKETS)
    buckets = daily.bucket_of(values)
    np.add.at(histogram, buckets, 1)
    np.add.at(histogram, daily.BUCKETS + buckets, values)
    fractions = (0.1, 0.5, 0.9, 0.99)
    estimated = daily.percentiles_from(histogram, fractions)
    exact = np.percentile(values, [f * 100 for f in fractions], method="linear")
    for got, want in zip(estimated, exact):
        assert got == pytest.approx(want, rel=0.05)  # buckets are at most 5% wide
    if n <= 3:  # every value alone in its bucket: exact
        assert estimated == pytest.approx(list(exact), rel=1e-9)


def test_bucket_edges_hold_the_response_page_edges():
    for edge in response.DURATION_EDGES_H:
        assert edge in daily.EDGES_H
    assert np.all(np.diff(daily.EDGES_H[1:]) / daily.EDGES_H[1:-1] <= 0.0501)


def test_pages_figures_on_a_refreshed_and_a_stale_rollup_agree(engine):
    """The metric functions give the same answer before and after a refresh (pending days read live)."""
    _import(engine, 3000)
    filters = Filters.last_days(30, TODAY)

    def figures():
        return (queries.headline(engine, filters, NOW, TZ), queries.by_channel(engine, filters, NOW, TZ),
                queries.district_counts(engine, filters, NOW, TZ), ranking.league_table(engine, filters, NOW, TZ),
                response.percentiles_by(engine, filters, "response", "agency", NOW, TZ),
                response.weekly_percentiles(engine, filters, "resolution", "channel", TZ),
                queries.emergency_calls(engine, filters, TZ))

    stale = figures()
    daily.refresh(engine, TZ)
    fresh = figures()
    assert stale[0] == fresh[0]
    for a, b in zip(stale[1:-1], fresh[1:-1]):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert stale[-1] == fresh[-1]


def test_scheduler_refreshes_and_a_broken_refresh_never_raises(engine, caplog):
    from connectors.scheduler import build_scheduler, refresh_rollups

    _import(engine, 100)
    assert refresh_rollups(REGION, engine) > 0
    scheduler = build_scheduler(REGION, engine, channels=[])
    assert "rollup:refresh" in [job.id for job in scheduler.get_jobs()]

    class Broken:
        dialect = engine.dialect

        def connect(self):
            raise RuntimeError("database gone")

    with caplog.at_level(logging.ERROR):
        assert refresh_rollups(REGION, Broken()) is None
    assert "daily rollup refresh failed" in caplog.text
