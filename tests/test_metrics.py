"""Metric definitions (docs/METRICS.md) against small hand-built fixtures, on SQLite and PostgreSQL.

Every expected number is worked out by hand in the comment next to it; none is copied from output.
Times: WIB = UTC+7, so 23:30 WIB on day X is 16:30 UTC on day X.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from metrics import Filters, daily, queries, response
from models import Complaint

WIB = ZoneInfo("Asia/Jakarta")
UTC = timezone.utc
_ids = itertools.count(1)
_OPTIONAL = [c.name for c in Complaint.__table__.columns if c.nullable and c.name != "last_run_id"]


def wib(y, mo, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=WIB)


def utc(y, mo, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def row(received_at: datetime, *, response_h: float | None = None, resolution_h: float | None = None,
        **fields) -> dict:
    """One complaint with every required column; durations in hours after receipt."""
    data = dict.fromkeys(_OPTIONAL)
    data.update(channel="wargaku", source_id=f"T{next(_ids)}", received_at=received_at, kind="complaint",
                status="new", row_hash="0" * 32, first_seen_at=received_at, last_changed_at=received_at,
                is_anonymous=False, is_confidential=False)
    if response_h is not None:
        data["first_response_at"] = received_at + timedelta(hours=response_h)
    if resolution_h is not None:
        data["resolved_at"] = received_at + timedelta(hours=resolution_h)
    data.update(fields)
    return data


@pytest.fixture(autouse=True, params=["rollup", "complaints"])
def read_path(request):
    """Every figure twice: from the daily rollup, and from the complaint table (days not rebuilt yet)."""
    global READ_PATH
    READ_PATH = request.param
    yield request.param


READ_PATH = "rollup"


def add(engine, *rows: dict) -> None:
    """Rows written around the import pipeline (no day marks): the rollup finds them above its watermark."""
    with engine.begin() as conn:
        conn.execute(insert(Complaint.__table__), list(rows))
    if READ_PATH == "rollup":
        daily.refresh(engine, WIB)


# --------------------------------------------------------------------------------------------------
# Median and p90: linear interpolation between the two nearest ranks (percentile_cont), position p*(n-1)
# --------------------------------------------------------------------------------------------------

NOV_WEEK = Filters(date(2025, 11, 3), date(2025, 11, 9))
NOW = wib(2025, 11, 24, 12)


def _percentile_fixture(engine):
    at = wib(2025, 11, 5, 9)
    add(engine,
        # wargaku: response 1, 2, 3, 4, 10 h (odd n); resolution 10, 20, 40, 100 h and one unknown (even n)
        row(at, response_h=1, resolution_h=10, status="resolved"),
        row(at, response_h=2, resolution_h=20, status="resolved"),
        row(at, response_h=3, resolution_h=40, status="resolved"),
        row(at, response_h=4, resolution_h=100, status="resolved"),
        row(at, response_h=10, status="in_progress"),
        # lapor: response 6 and 8 h (even n), never resolved
        row(at, channel="lapor", response_h=6, status="in_progress"),
        row(at, channel="lapor", response_h=8, status="in_progress"),
        # no known time: not in any percentile
        row(at, status="archived"),
        # outside the period (00:30 WIB on 10 Nov): a huge value that must not count
        row(wib(2025, 11, 10, 0, 30), response_h=1000, resolution_h=2000, status="resolved"))


def test_headline_median_and_p90_interpolate(engine):
    _percentile_fixture(engine)
    figures = queries.headline(engine, NOV_WEEK, NOW, WIB)
    # response, all 7: 1 2 3 4 6 8 10. median: position 0.5*6 = 3 -> 4.
    assert figures.response_median_h == pytest.approx(4.0, abs=1e-6)
    # p90: position 0.9*6 = 5.4 -> 8 + 0.4*(10-8) = 8.8
    assert figures.response_p90_h == pytest.approx(8.8, abs=1e-6)
    # resolution, 4 known: 10 20 40 100. median: position 1.5 -> 20 + 0.5*(40-20) = 30
    assert figures.resolution_median_h == pytest.approx(30.0, abs=1e-6)
    # p90: position 0.9*3 = 2.7 -> 40 + 0.7*(100-40) = 82
    assert figures.resolution_p90_h == pytest.approx(82.0, abs=1e-6)
    assert figures.received == 8


def test_grouped_percentiles_match_per_channel_hand_values(engine):
    _percentile_fixture(engine)
    table = response.percentiles_by(engine, NOV_WEEK, "response", "channel", NOW, WIB).set_index("group")
    # wargaku 1 2 3 4 10: median position 2 -> 3; p90 position 3.6 -> 4 + 0.6*(10-4) = 7.6
    assert table.loc["wargaku", "n"] == 5
    assert table.loc["wargaku", "p50_h"] == pytest.approx(3.0, abs=1e-6)
    assert table.loc["wargaku", "p90_h"] == pytest.approx(7.6, abs=1e-6)
    # lapor 6 8: median position 0.5 -> 7; p90 position 0.9 -> 6 + 0.9*2 = 7.8
    assert table.loc["lapor", "n"] == 2
    assert table.loc["lapor", "p50_h"] == pytest.approx(7.0, abs=1e-6)
    assert table.loc["lapor", "p90_h"] == pytest.approx(7.8, abs=1e-6)
    resolution = response.percentiles_by(engine, NOV_WEEK, "resolution", "channel", NOW, WIB).set_index("group")
    # only wargaku has resolution times: 10 20 40 100 -> 30 and 82 as above; lapor has none, so no row
    assert list(resolution.index) == ["wargaku"]
    assert resolution.loc["wargaku", "p50_h"] == pytest.approx(30.0, abs=1e-6)
    assert resolution.loc["wargaku", "p90_h"] == pytest.approx(82.0, abs=1e-6)


def test_duration_distribution_buckets(engine):
    at = wib(2025, 11, 5, 9)
    add(engine, *[row(at, response_h=h) for h in (0.5, 1.5, 3, 23.5, 24, 24.5, 200, 2000)])
    frame = response.distribution(engine, NOV_WEEK, "response", WIB).set_index("lower_h")
    counts = {lower: n for lower, n in frame["count"].items() if n}
    # [0,1): 0.5 | [1,2): 1.5 | [2,4): 3 | [12,24): 23.5 | [24,48): 24 (an edge belongs above) and 24.5
    # [168,336): 200 | [1440, ...): 2000
    assert counts == {0: 1, 1: 1, 2: 1, 12: 1, 24: 2, 168: 1, 1440: 1}
    assert len(frame) == len(response.DURATION_EDGES_H)  # empty buckets are kept, so the axis is stable
    assert frame["share"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# Working days: weekends and Indonesian public holidays (SKB 3 Menteri) are skipped
# --------------------------------------------------------------------------------------------------

def test_holiday_calendar_has_the_official_2025_dates(surabaya):
    from regions.sla import WorkingCalendar

    calendar = WorkingCalendar(WIB, surabaya.holidays_country)
    # SKB 3 Menteri 2025: Idul Fitri 1446 H on Monday 31 March and Tuesday 1 April; Nyepi Saturday 29 March;
    # Christmas Thursday 25 December; New Year 2026 on Thursday 1 January.
    for day in (date(2025, 3, 31), date(2025, 4, 1), date(2025, 12, 25), date(2026, 1, 1)):
        assert calendar.holiday_name(day) and not calendar.is_working_day(day)
    assert calendar.holiday_name(date(2025, 3, 29))
    # Joint leave (cuti bersama, e.g. Friday 26 December 2025) is not a public holiday: still a working day.
    assert calendar.is_working_day(date(2025, 12, 26))
    assert not calendar.is_working_day(date(2025, 11, 22))  # a Saturday


def test_sla_due_times_skip_weekends_and_holidays(surabaya):
    from regions.sla import SlaBook

    book = SlaBook(surabaya)
    # Wargaku, Friday 21 Nov 2025 10:00: response 24 clock hours -> Saturday 10:00;
    # resolve 5 working days: Mon 24, Tue 25, Wed 26, Thu 27, Fri 28 -> Friday 28 Nov 10:00
    assert book.due_times(wib(2025, 11, 21, 10), "wargaku", "complaint") == (
        wib(2025, 11, 22, 10), wib(2025, 11, 28, 10))
    # Media Center ("Umum": 3 / 5 working days), Friday before Christmas, 19 Dec 2025 10:00:
    # response Mon 22 (1), Tue 23 (2), Wed 24 (3) -> Wed 24 Dec 10:00;
    # resolve ... Wed 24 (3), Thu 25 Christmas skipped, Fri 26 (4, joint leave counts), Mon 29 (5) -> 29 Dec 10:00
    assert book.due_times(wib(2025, 12, 19, 10), "mediacenter", "complaint") == (
        wib(2025, 12, 24, 10), wib(2025, 12, 29, 10))
    # Idul Fitri 2025: Thursday 27 Mar 10:00. Response: Fri 28 (1), Sat 29 / Sun 30 weekend, Mon 31 and Tue 1 Apr
    # Idul Fitri skipped, Wed 2 Apr (2), Thu 3 Apr (3) -> 3 Apr 10:00. Resolve: Fri 4 (4), Mon 7 (5) -> 7 Apr 10:00
    assert book.due_times(wib(2025, 3, 27, 10), "mediacenter", "complaint") == (
        wib(2025, 4, 3, 10), wib(2025, 4, 7, 10))
    # LAPOR (8 working days to respond), Friday 19 Dec 2025 10:00: Mon 22, Tue 23, Wed 24, (Thu 25), Fri 26,
    # Mon 29, Tue 30, Wed 31 = 7, Thu 1 Jan 2026 New Year skipped, Fri 2 Jan = 8 -> 2 Jan 2026 10:00
    response_due, _ = book.due_times(wib(2025, 12, 19, 10), "lapor", "complaint")
    assert response_due == wib(2026, 1, 2, 10)


def test_working_days_count_from_the_local_date(surabaya):
    from regions.sla import SlaBook

    book = SlaBook(surabaya)
    # Saturday 22 Nov 06:00 WIB is still Friday 23:00 UTC. Counted from the local Saturday: Mon 24 .. Fri 28
    # -> Friday 28 Nov 06:00 WIB. Counting from the UTC Friday would give Friday 28 23:00 UTC = Saturday 06:00 WIB.
    _, resolve_due = book.due_times(utc(2025, 11, 21, 23), "wargaku", "complaint")
    assert resolve_due == wib(2025, 11, 28, 6)


# --------------------------------------------------------------------------------------------------
# SLA compliance: met / missed / excluded
# --------------------------------------------------------------------------------------------------

def test_sla_compliance_counts_met_missed_and_excludes_the_rest(engine):
    monday = wib(2025, 11, 17, 9)
    # Wargaku from Monday 17 Nov 09:00: response due Tue 18 09:00 (24 h); resolve due 5 working days later,
    # Tue 18 .. Mon 24 -> Mon 24 Nov 09:00. "Now" is Mon 24 Nov 12:00, so both deadlines have passed.
    due = dict(response_due_at=wib(2025, 11, 18, 9), resolve_due_at=wib(2025, 11, 24, 9))
    add(engine,
        row(monday, response_h=23, resolution_h=48, status="resolved", **due),         # A: both met
        row(monday, response_h=25, resolution_h=169, status="resolved", **due),        # B: both missed (Mon 10:00)
        row(monday, status="new", **due),                                              # C: open, both missed
        row(wib(2025, 11, 23, 20), status="new", response_due_at=wib(2025, 11, 24, 20),
            resolve_due_at=wib(2025, 11, 28, 20)),                                      # D: still within both
        row(monday, status="resolved", **due),                                         # E: done, times unknown
        row(monday, status="archived", **due),                                         # F: archived, never done
        row(monday, channel="x", status="new"),                                        # G: no SLA rule
        row(monday, response_h=1, status="in_progress", **due))                        # H: answered, not resolved
    figures = queries.headline(engine, Filters(date(2025, 11, 17), date(2025, 11, 23)), NOW, WIB)
    # response: met A, H; missed B, C; D E F G excluded -> 2 / 4
    assert figures.response_sla == pytest.approx(0.5)
    # resolution: met A; missed B (late), C and H (open past due); D E F G excluded -> 1 / 4
    assert figures.resolution_sla == pytest.approx(0.25)
    # open now: C D G H; overdue: C and H (resolution deadline passed). D is inside both deadlines.
    assert (figures.open_now, figures.overdue_now) == (4, 2)


# --------------------------------------------------------------------------------------------------
# Local-day bucketing in the region's zone
# --------------------------------------------------------------------------------------------------

def test_days_are_local_days_near_midnight(engine):
    add(engine,
        row(utc(2025, 11, 19, 16, 30)),       # 23:30 WIB, 19 Nov
        row(utc(2025, 11, 19, 17, 30)),       # 00:30 WIB, 20 Nov
        row(utc(2025, 11, 20, 16, 30)),       # 23:30 WIB, 20 Nov
        row(utc(2025, 11, 20, 16, 59, 59)),   # 23:59:59 WIB, 20 Nov
        row(utc(2025, 11, 20, 17, 0)))        # 00:00 WIB, 21 Nov
    trend = queries.daily_trend(engine, Filters(date(2025, 11, 19), date(2025, 11, 21)), WIB)
    per_day = {d.date(): n for d, n in trend.groupby("day")["count"].sum().items()}
    assert per_day == {date(2025, 11, 19): 1, date(2025, 11, 20): 3, date(2025, 11, 21): 1}
    one_day = Filters(date(2025, 11, 20), date(2025, 11, 20))
    assert queries.headline(engine, one_day, NOW, WIB).received == 3
    # "today" at 00:30 WIB on 21 Nov (17:30 UTC on the 20th) holds only the 00:00 WIB complaint
    two_days = Filters(date(2025, 11, 20), date(2025, 11, 21))
    assert queries.headline(engine, two_days, utc(2025, 11, 20, 17, 30), WIB).received_today == 1


def test_weeks_are_local_weeks_starting_monday(engine):
    add(engine,
        row(utc(2025, 11, 23, 16, 30), response_h=2),   # Sunday 23 Nov 23:30 WIB -> week of Mon 17 Nov
        row(utc(2025, 11, 23, 17, 30), response_h=4),   # Monday 24 Nov 00:30 WIB -> week of Mon 24 Nov
        row(utc(2025, 11, 24, 2, 0), response_h=8))     # Monday 24 Nov 09:00 WIB -> week of Mon 24 Nov
    weekly = response.weekly_percentiles(engine, Filters(date(2025, 11, 17), date(2025, 11, 30)), "response",
                                         "channel", WIB)
    overall = weekly[weekly["group"] == response.ALL].set_index("week")
    assert list(overall.index.date) == [date(2025, 11, 17), date(2025, 11, 24)]
    assert list(overall["n"]) == [1, 2]
    # week of 24 Nov: 4 and 8 h -> median 6, p90 4 + 0.9*4 = 7.6
    assert overall.loc["2025-11-24", "p50_h"] == pytest.approx(6.0, abs=1e-6)
    assert overall.loc["2025-11-24", "p90_h"] == pytest.approx(7.6, abs=1e-6)
    # the single channel is also its own top group, with the same numbers
    assert weekly.attrs["groups"] == [response.ALL, "wargaku"]
    assert len(weekly[weekly["group"] == "wargaku"]) == 2


# --------------------------------------------------------------------------------------------------
# Open now / overdue now: the current backlog, whatever the period
# --------------------------------------------------------------------------------------------------

def test_open_and_overdue_now_ignore_the_period(engine):
    old = wib(2025, 1, 6, 9)
    add(engine,
        row(old, status="in_progress", response_h=2, resolve_due_at=wib(2025, 1, 13, 9)),  # open, long overdue
        row(old, status="resolved", resolution_h=5),                                        # closed long ago
        row(wib(2025, 11, 21, 9), status="new", response_due_at=wib(2025, 11, 26, 9),
            resolve_due_at=wib(2025, 11, 28, 9)),                                           # open, in time
        row(wib(2025, 11, 21, 9), channel="call112", kind="emergency_call", status="new",
            resolve_due_at=wib(2025, 11, 22, 9)))                                           # 112: not a complaint
    period = Filters(date(2025, 11, 17), date(2025, 11, 23))
    figures = queries.headline(engine, period, NOW, WIB)
    assert (figures.received, figures.open_now, figures.overdue_now) == (1, 2, 1)
    channels = queries.by_channel(engine, period, NOW, WIB)
    assert channels.loc["wargaku"].to_dict() == {"received": 1, "open": 2, "overdue": 1}
    assert "call112" not in channels.index
    # the rollup-only count the pages use to order channels agrees with by_channel's
    assert queries.received_by_channel(engine, period, WIB).to_dict() == {"wargaku": 1}

    ages = response.open_age(engine, period, NOW)
    # ages at Mon 24 Nov 12:00 WIB: 21 Nov 09:00 -> 3 d 3 h = 75 h; 6 Jan 09:00 -> day 328 - day 6 = 322 d + 3 h
    # = 7731 h. Median of two: (75 + 7731) / 2 = 3903; p90: 75 + 0.9*(7731-75) = 6965.4
    assert (ages.open_now, ages.overdue_now) == (2, 1)
    assert ages.median_h == pytest.approx(3903, abs=1e-3)
    assert ages.p90_h == pytest.approx(6965.4, abs=1e-3)
    assert ages.oldest_h == pytest.approx(7731, abs=1e-3)
    buckets = ages.buckets.set_index("lower_h")
    # 75 h = 3.1 d -> [3, 7) d bucket (from 72 h), within its deadlines; 322 d -> [180 d, ...) bucket, overdue
    assert buckets.loc[72, ["count", "overdue", "within"]].tolist() == [1, 0, 1]
    assert buckets.loc[180 * 24, ["count", "overdue", "within"]].tolist() == [1, 1, 0]
    assert buckets["count"].sum() == 2


def test_open_age_percentiles_stay_within_the_receipt_hour_of_exact(engine):
    """Ages are read grouped by hour of receipt: crowded hours give percentiles within that hour, buckets and the
    oldest age stay exact."""
    import random

    import numpy as np

    draw = random.Random(11)
    moments = [NOW - timedelta(minutes=draw.randrange(10, 60 * 24 * 200)) for _ in range(120)]
    moments += [wib(2025, 11, 20, 9, minute) for minute in (1, 7, 13, 44, 58)]  # one crowded hour
    add(engine, *(row(m, status="in_progress", response_h=1) for m in moments))
    ages = np.array([(NOW - m).total_seconds() / 3600 for m in moments])
    figures = response.open_age(engine, Filters(date(2025, 11, 17), date(2025, 11, 23)), NOW)
    assert figures.open_now == len(moments)
    assert figures.median_h == pytest.approx(np.percentile(ages, 50), abs=1.0)
    assert figures.p90_h == pytest.approx(np.percentile(ages, 90), abs=1.0)
    assert figures.oldest_h == pytest.approx(ages.max(), abs=1e-3)
    edges = np.array(response.AGE_EDGES_D) * 24
    expected = np.bincount(np.searchsorted(edges, ages, side="right") - 1, minlength=len(edges))
    assert figures.buckets["count"].tolist() == expected.tolist()


def test_received_by_channel_counts_the_period_busiest_first(engine):
    inside, outside = wib(2025, 11, 20, 9), wib(2025, 11, 10, 9)
    add(engine, *(row(inside, channel="lapor") for _ in range(3)), row(inside, channel="wargaku"),
        *(row(outside, channel="wargaku") for _ in range(5)),                      # before the period
        row(inside, channel="call112", kind="emergency_call"))                    # 112 calls: not complaints
    period = Filters(date(2025, 11, 17), date(2025, 11, 23))
    received = queries.received_by_channel(engine, period, WIB)
    assert list(received.items()) == [("lapor", 3), ("wargaku", 1)]
    assert received.to_dict() == queries.by_channel(engine, period, NOW, WIB)["received"].to_dict()
    calls = queries.received_by_channel(engine, replace(period, kinds=("emergency_call",)), WIB)
    assert calls.to_dict() == {"call112": 1}


# --------------------------------------------------------------------------------------------------
# Resolution rate, agency ranking, previous period
# --------------------------------------------------------------------------------------------------

def test_resolution_rate_excludes_archived_and_rejected(engine):
    at = wib(2025, 11, 5, 9)
    statuses = ["resolved"] * 5 + ["closed", "archived", "archived", "rejected", "in_progress", "new"]
    add(engine, *[row(at, status=s, agency_code="DSDABM") for s in statuses])
    figures = queries.headline(engine, NOV_WEEK, NOW, WIB)
    # resolved: 5 resolved + 1 closed = 6; denominator: 11 - 2 archived - 1 rejected = 8 -> 6/8
    assert (figures.received, figures.resolved, figures.actionable) == (11, 6, 8)
    assert figures.resolution_rate == pytest.approx(0.75)
    ranking = queries.agency_ranking(engine, NOV_WEEK, NOW, WIB)
    assert ranking.loc[0, "resolution_rate"] == pytest.approx(0.75)


def test_wilson_lower_bound_by_hand():
    # (p + z²/2n - z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96, z² = 3.8416
    # 480/500: p = .96; centre .96 + .0038416 = .9638416; root sqrt(.0000768 + .0000038416) = .0089801;
    # margin 1.96 * .0089801 = .0176009; (.9638416 - .0176009) / 1.0076832 = .939027
    assert queries.wilson_lower_bound(480, 500) == pytest.approx(0.939027, abs=5e-6)
    # 2/2: p = 1; centre 1 + .9604 = 1.9604; margin 1.96 * sqrt(3.8416/16) = 1.96 * .49 = .9604;
    # (1.9604 - .9604) / (1 + 1.9208) = 1 / 2.9208 = .342372
    assert queries.wilson_lower_bound(2, 2) == pytest.approx(0.342372, abs=5e-6)
    # 9/9: centre 1 + 3.8416/18 = 1.2134222; margin 1.96 * sqrt(3.8416/324) = 1.96 * .1088889 = .2134222;
    # 1 / (1 + 3.8416/9) = 1 / 1.4268444 = .700848
    assert queries.wilson_lower_bound(9, 9) == pytest.approx(0.700848, abs=5e-6)
    assert queries.wilson_lower_bound(0, 0) == 0.0


def test_agency_ranking_puts_480_of_500_above_2_of_2(engine):
    at = wib(2025, 11, 5, 9)
    add(engine,
        *[row(at, agency_code="DSDABM", status="resolved" if i < 480 else "new") for i in range(500)],
        *[row(at, agency_code="DLH", status="resolved") for _ in range(2)],
        *[row(at, agency_code="DISHUB", status="resolved" if i < 9 else "archived") for i in range(10)])
    ranking = queries.agency_ranking(engine, NOV_WEEK, NOW, WIB)
    # scores from the hand computation above: DSDABM .939 > DISHUB (9 of 9 actionable) .701 > DLH .342
    assert list(ranking["agency_code"]) == ["DSDABM", "DISHUB", "DLH"]
    assert list(ranking["rank"]) == [1, 2, 3]
    table = ranking.set_index("agency_code")
    assert table.loc["DLH", "resolution_rate"] == 1.0 > table.loc["DSDABM", "resolution_rate"] == 0.96
    assert (table.loc["DISHUB", "received"], table.loc["DISHUB", "actionable"]) == (10, 9)
    assert table.loc["DSDABM", "score"] == pytest.approx(0.939027, abs=5e-6)


def test_previous_period_has_equal_length_and_gives_the_trend(engine):
    current = Filters(date(2025, 11, 11), date(2025, 11, 20))
    assert current.previous() == Filters(date(2025, 11, 1), date(2025, 11, 10))  # 10 days before 10 days
    add(engine,
        row(utc(2025, 11, 10, 17, 0), agency_code="DSDABM"),    # 00:00 WIB 11 Nov: current
        row(wib(2025, 11, 15, 12), agency_code="DSDABM"),       # current
        row(utc(2025, 11, 20, 16, 30), agency_code="DSDABM"),   # 23:30 WIB 20 Nov: current
        row(utc(2025, 10, 31, 17, 30), agency_code="DSDABM"),   # 00:30 WIB 1 Nov: previous
        row(utc(2025, 11, 10, 16, 30), agency_code="DSDABM"),   # 23:30 WIB 10 Nov: previous
        row(utc(2025, 10, 31, 16, 30), agency_code="DSDABM"),   # 23:30 WIB 31 Oct: neither
        row(wib(2025, 11, 5, 9), agency_code="DLH"))            # previous only
    assert queries.headline(engine, current, NOW, WIB).received == 3
    assert queries.headline(engine, current.previous(), NOW, WIB).received == 3  # 2 DSDABM + 1 DLH
    # the pages compare with the previous period's rollup figures, which match the headline's own
    before = queries.headline(engine, current.previous(), NOW, WIB)
    compared = queries.period_figures(engine, current.previous(), WIB)
    assert compared == queries.PeriodFigures(**{f: getattr(before, f) for f in compared.__dataclass_fields__})
    assert (compared.received, compared.resolution_rate) == (3, before.resolution_rate)
    ranking = queries.agency_ranking(engine, current, NOW, WIB).set_index("agency_code")
    assert list(ranking.index) == ["DSDABM"]  # DLH had nothing this period
    assert ranking.loc["DSDABM", ["received", "received_previous", "trend"]].tolist() == [3, 2, 1]


# --------------------------------------------------------------------------------------------------
# 112 calls: reported apart from complaints
# --------------------------------------------------------------------------------------------------

def test_112_calls_stay_out_of_complaint_figures(engine):
    at = wib(2025, 11, 5, 9)
    calls = [("emergency_call", "emergency")] * 2 + [("non_emergency_call", t) for t in
                                                      ("prank", "prank", "prank", "ghost", "silent", "silent",
                                                       "information")]
    add(engine,
        *[row(at, channel="call112", kind=k, source_type=t, status="new") for k, t in calls],
        row(at, status="new"), row(at, channel="mediacenter", status="resolved"))
    figures = queries.headline(engine, NOV_WEEK, NOW, WIB)
    assert (figures.received, figures.open_now) == (2, 1)
    assert set(queries.daily_trend(engine, NOV_WEEK, WIB)["channel"]) == {"wargaku", "mediacenter"}
    result = queries.emergency_calls(engine, NOV_WEEK, WIB)
    # 9 calls: 2 emergency, 7 not (3 prank, 1 ghost, 2 silent, 1 information) -> 7/9
    assert (result["total"], result["emergency"], result["non_emergency"]) == (9, 2, 7)
    assert result["non_emergency_share"] == pytest.approx(7 / 9)
    assert result["by_type"] == {"emergency": 2, "prank": 3, "ghost": 1, "silent": 2, "information": 1}
    # prank + ghost + silent = 6 of 9 calls
    fake = sum(result["by_type"][t] for t in ("prank", "ghost", "silent"))
    assert fake / result["total"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------------------------------
# Response-times page: SLA target lines and coverage
# --------------------------------------------------------------------------------------------------

def test_sla_target_lines_come_from_the_region_rules(surabaya):
    # Wargaku: 24 clock hours; 5 working days ~ 5 * 33.6 h = 168 h (a working day = 7/5 calendar days)
    assert response.sla_target(surabaya, "wargaku", "response").hours == 24
    target = response.sla_target(surabaya, "wargaku", "resolution")
    assert (target.hours, target.working_days, target.rule) == (pytest.approx(168), 5, "Wargaku")
    # LAPOR without a classification: 8 working days = 268.8 h; resolve 14 working days = 470.4 h
    assert response.sla_target(surabaya, "lapor", "response").hours == pytest.approx(268.8)
    assert response.sla_target(surabaya, "lapor", "resolution").hours == pytest.approx(470.4)
    # 112 emergencies: 15 minutes; 112 non-emergency calls have no target
    assert response.sla_target(surabaya, "call112", "response", kind="emergency_call").hours == 0.25
    assert response.sla_target(surabaya, "call112", "response", kind="non_emergency_call") is None


def test_coverage_counts_answers_with_unknown_times(engine):
    at = wib(2025, 11, 5, 9)
    add(engine,
        row(at, response_h=2, resolution_h=9, status="resolved"),
        row(at, channel="lapor", status="in_progress"),   # first seen already in progress: moment unknown
        row(at, channel="lapor", status="closed"),        # first seen already closed: both unknown
        row(at, status="new"))
    cover = response.coverage(engine, NOV_WEEK, WIB)
    assert cover == response.Coverage(received=4, response_known=1, resolution_known=1,
                                      responded_time_unknown=2, resolved_time_unknown=1)


# --------------------------------------------------------------------------------------------------
# Regressions: deadlines when only the response is late, and answers seen without a time.
# --------------------------------------------------------------------------------------------------

def test_most_overdue_measures_from_the_missed_deadline(engine):
    # Wargaku, Sunday 23 Nov 06:00 WIB, unanswered. Response due Mon 24 06:00; resolve due (from the local
    # Sunday) Fri 28 06:00. At Mon 24 12:00 it is overdue by 6 h (response), not -90 h.
    add(engine, row(wib(2025, 11, 23, 6), status="new", response_due_at=wib(2025, 11, 24, 6),
                    resolve_due_at=wib(2025, 11, 28, 6)))
    late = queries.most_overdue(engine, NOV_WEEK, NOW)
    assert late["overdue_h"].tolist() == [pytest.approx(6.0)]


def test_answered_at_an_unknown_moment_is_neither_overdue_nor_missed(engine):
    # LAPOR, 3 Nov 09:00 WIB, already 'Ditindaklanjuti' in the first export we saw. Response due 8 working days
    # later (Thu 13 Nov, passed at 24 Nov); the resolve deadline is set far ahead so only the response one matters.
    add(engine, row(wib(2025, 11, 3, 9), channel="lapor", status="in_progress",
                    response_due_at=wib(2025, 11, 13, 9), resolve_due_at=wib(2026, 1, 30, 9)))
    figures = queries.headline(engine, NOV_WEEK, NOW, WIB)
    assert figures.overdue_now == 0      # answered; resolution deadline still ahead
    assert figures.response_sla is None  # response moment unknown: neither met nor missed
