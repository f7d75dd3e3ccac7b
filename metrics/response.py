"""Response and resolution times: distributions, percentiles by week and by group, open-complaint age.

Everything is aggregated in SQL (hour buckets, grouped percentiles); only counts and a few rows per group
come back. Definitions: docs/METRICS.md, "Response-times page".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.engine import Engine

from metrics.filters import C, Filters
from metrics import daily
from metrics.queries import count_if, is_overdue, open_missed, open_now
from metrics.sql import fetch_columns, share
from models import RESPONDED_STATUSES
from regions import Region
from regions.sla import SlaBook

MEASURES = ("response", "resolution")
DIMENSIONS = {"channel": C.channel, "agency": C.agency_code, "category": C.category}
ALL = "*"  # the group key of "every complaint" next to the per-group rows
RESPONDED = tuple(s.value for s in RESPONDED_STATUSES)

# Bucket edges in hours, roughly doubling: equal-width bars on a log-like axis. Last bucket is open-ended.
DURATION_EDGES_H = (0, 1, 2, 4, 8, 12, 24, 48, 96, 168, 336, 720, 1440)
# Open-complaint age in days.
AGE_EDGES_D = (0, 1, 3, 7, 14, 30, 60, 90, 180)
# A working day in calendar hours, weekends only (7 calendar days hold 5 working days); holidays ignored.
WORKING_DAY_H = 24 * 7 / 5
# SQLite computes durations through julianday floats: 24 h may come back as 23.9999999 h.
_EPSILON_H = 1e-6


def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")


def _bucket_frame(counts: dict[int, int], edges, unit_h: float = 1.0) -> pd.DataFrame:
    """Every bucket, empty ones included, with its bounds in hours (the last one drawn as wide as a doubling)."""
    rows = []
    for i, lower in enumerate(edges):
        upper = edges[i + 1] if i + 1 < len(edges) else None
        rows.append({"bucket": i, "lower_h": lower * unit_h,
                     "upper_h": (upper if upper is not None else lower * 2) * unit_h,
                     "open_ended": upper is None, "count": int(counts.get(i, 0))})
    return pd.DataFrame(rows)


def distribution(engine: Engine, filters: Filters, measure: str, tz: ZoneInfo) -> pd.DataFrame:
    """Complaints received in the period with a known time, counted per duration bucket (hours)."""
    _check_measure(measure)
    histogram = daily.totals(daily.period_facts(engine, filters, tz)).histogram(measure)
    # the rollup's fine buckets nest inside these (metrics/daily.py keeps every edge here as one of its edges)
    coarse = np.searchsorted(DURATION_EDGES_H, daily.EDGES_H, side="right") - 1
    counts = np.bincount(coarse, weights=histogram[:daily.BUCKETS], minlength=len(DURATION_EDGES_H))
    frame = _bucket_frame(dict(enumerate(counts)), DURATION_EDGES_H)
    frame["share"] = frame["count"] / max(int(frame["count"].sum()), 1)
    return frame


def percentiles_by(engine: Engine, filters: Filters, measure: str, dimension: str, now: datetime,
                   tz: ZoneInfo) -> pd.DataFrame:
    """Per group (channel, agency or category): n with a known time, median, p90, and SLA met / missed."""
    group = DIMENSIONS[dimension]
    _check_measure(measure)
    groups = daily.by_value(daily.period_facts(engine, filters, tz, dimension))
    missed_open = open_missed(engine, filters, now, tz, group)
    rows = []
    for value, g in groups.items():
        histogram = g.histogram(measure)
        n = daily.known(histogram)
        if not n:
            continue
        p50, p90 = daily.percentiles_from(histogram)
        key = daily.value_or_none(value)
        m = g.counts[f"{measure}_met"]
        x = g.counts[f"{measure}_late"] + missed_open.get(key, (0, 0))[MEASURES.index(measure)]
        rows.append({"group": key, "n": n, "p50_h": p50, "p90_h": p90, "sla_met": m, "sla_missed": x,
                     "sla_share": share(m, m + x)})
    columns = ["group", "n", "p50_h", "p90_h", "sla_met", "sla_missed", "sla_share"]
    frame = pd.DataFrame(rows, columns=columns).sort_values(["n", "p90_h"], ascending=[False, False],
                                                            ignore_index=True)
    frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)  # pandas made it NaN
    return frame


def weekly_percentiles(engine: Engine, filters: Filters, measure: str, dimension: str, tz: ZoneInfo,
                       top: int = 5) -> pd.DataFrame:
    """Median and p90 per local week of receipt: for all complaints (group ALL) and the `top` largest groups."""
    _check_measure(measure)
    facts = daily.period_facts(engine, filters, tz, dimension)
    days = pd.to_datetime(facts.rows["day"])
    facts.rows["week"] = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    sizes = {value: daily.known(g.histogram(measure)) for value, g in daily.by_value(facts).items() if value}
    largest = [g for g, n in sorted(sizes.items(), key=lambda item: (-item[1], item[0])) if n][:top]
    rows = []
    for (group, keys) in ((ALL, ("week",)), (None, ("value", "week"))):
        source = facts if group == ALL else facts.where(facts.rows["value"].isin(largest).to_numpy())
        for key, g in daily.by_value(source, keys).items():
            histogram = g.histogram(measure)
            if not daily.known(histogram):
                continue
            p50, p90 = daily.percentiles_from(histogram)
            rows.append({"group": ALL if group == ALL else key[0], "week": key if group == ALL else key[1],
                         "n": daily.known(histogram), "p50_h": p50, "p90_h": p90})
    frame = pd.DataFrame(rows, columns=["group", "week", "n", "p50_h", "p90_h"])
    frame["week"] = pd.to_datetime(frame["week"])
    frame.attrs["groups"] = [ALL, *largest]
    return frame.sort_values(["group", "week"], ignore_index=True)


@dataclass(frozen=True)
class OpenAge:
    """Still-open complaints (whatever the period, like "open now"), by age and whether they are overdue."""

    open_now: int
    overdue_now: int
    median_h: float | None
    p90_h: float | None
    oldest_h: float | None
    buckets: pd.DataFrame  # bucket, lower_h, upper_h, open_ended, count, overdue, within


def open_age(engine: Engine, filters: Filters, now: datetime) -> OpenAge:
    """Grouped in SQL by whole hours of age, each group with its count, overdue count, and oldest and newest
    receipt: a few thousand rows come back whatever the backlog (reading every open complaint's age took 1.3 s
    at 400,000 open complaints on PostgreSQL, most of it in the driver). Buckets are exact (their edges are
    whole hours); percentiles are exact where a rank falls in a group of one or two complaints, and otherwise
    within that group's hour."""
    with engine.connect() as conn:
        dialect = conn.dialect.name
        hours = _whole_hours_before(now, dialect)
        columns = fetch_columns(conn, select(
            hours, func.count(), count_if(is_overdue(now)), func.min(C.received_at), func.max(C.received_at),
        ).where(*open_now(filters, dialect)).group_by(hours), 5)
    whole_hours, counts, overdue = (np.asarray(c, dtype=np.int64) for c in columns[:3])
    oldest, newest = (_age_hours(c, now, dialect) for c in columns[3:])
    edges_h = np.asarray(AGE_EDGES_D, dtype=np.int64) * 24
    buckets = np.clip(np.searchsorted(edges_h, whole_hours, side="right") - 1, 0, None)
    rows = [(b, int(counts[buckets == b].sum()), int(overdue[buckets == b].sum())) for b in np.unique(buckets)]
    p50, p90 = _grouped_percentiles(newest, oldest, counts, (0.5, 0.9))
    return _open_age(rows, p50, p90, float(oldest.max()) if oldest.size else None)


def _whole_hours_before(now: datetime, dialect: str):
    """Whole hours from receipt to `now`, per row. Floating-point epochs on both: PostgreSQL's EXTRACT gives
    numeric, which made the grouping twice as slow; SQLite's julianday() may land a hair under a whole hour."""
    if dialect == "sqlite":
        now_jd = now.timestamp() / 86400 + 2440587.5
        return cast((literal(now_jd) - func.julianday(C.received_at)) * 24 + _EPSILON_H, Integer)
    return func.floor((literal(now.timestamp()) - func.date_part("epoch", C.received_at)) / 3600)


def _age_hours(moments, now: datetime, dialect: str) -> np.ndarray:
    """Hours from each receipt moment (SQLite text, PostgreSQL datetime) to now."""
    if dialect == "sqlite":
        parsed = pd.to_datetime(pd.Series(moments, dtype=object), utc=True, format="ISO8601")
        return ((now - parsed).dt.total_seconds() / 3600).to_numpy(dtype=float)
    return np.array([(now - moment).total_seconds() / 3600 for moment in moments], dtype=float)


def _grouped_percentiles(low: np.ndarray, high: np.ndarray, counts: np.ndarray, fractions) -> list[float | None]:
    """percentile_cont of values known only as disjoint groups (smallest, largest, count): inside a group the
    values are taken as evenly spaced from its smallest to its largest, so groups of one or two are exact."""
    total = int(counts.sum())
    if not total:
        return [None for _ in fractions]
    order = np.argsort(low, kind="stable")
    low, high, counts = low[order], high[order], counts[order]
    cumulative = np.cumsum(counts)

    def value_at(position: int) -> float:  # the position-th smallest value (0-based)
        group = int(np.searchsorted(cumulative, position, side="right"))
        count, inside = counts[group], position - (cumulative[group] - counts[group])
        return float(low[group] if count == 1 else low[group] + inside / (count - 1) * (high[group] - low[group]))

    return daily.interpolated(value_at, total, fractions)


def _open_age(rows, p50, p90, oldest) -> OpenAge:
    frame = _bucket_frame({b: n for b, n, _ in rows}, AGE_EDGES_D, unit_h=24.0)
    overdue = {b: int(x) for b, _, x in rows}
    frame["overdue"] = [overdue.get(b, 0) for b in frame["bucket"]]
    frame["within"] = frame["count"] - frame["overdue"]
    return OpenAge(open_now=int(frame["count"].sum()), overdue_now=int(frame["overdue"].sum()), median_h=p50,
                   p90_h=p90, oldest_h=None if oldest is None else float(oldest), buckets=frame)


@dataclass(frozen=True)
class Coverage:
    """How many complaints of the period the time figures rest on."""

    received: int
    response_known: int
    resolution_known: int
    responded_time_unknown: int  # answered, but first seen already answered (e.g. a LAPOR export)
    resolved_time_unknown: int


def coverage(engine: Engine, filters: Filters, tz: ZoneInfo) -> Coverage:
    counts = daily.totals(daily.period_facts(engine, filters, tz, durations=False)).counts
    return Coverage(counts["n"], counts["response_known"], counts["resolution_known"],
                    counts["responded_time_unknown"], counts["resolved_time_unknown"])


@dataclass(frozen=True)
class Target:
    """An SLA target drawn as a line: hours (working days converted approximately) and where it came from."""

    hours: float
    working_days: float | None
    rule: str


def sla_target(region: Region, channel: str, measure: str, kind: str = "complaint") -> Target | None:
    """The target the region's first matching SLA rule sets for an ordinary complaint on `channel`.

    Rules can also depend on classification and category; the line shows the channel's general rule.
    """
    rule = SlaBook(region).rule_for(channel, kind, None, None)
    duration = None if rule is None else (rule.response if measure == "response" else rule.resolve)
    if duration is None:
        return None
    if duration.hours is not None:
        return Target(hours=float(duration.hours), working_days=None, rule=rule.name)
    return Target(hours=duration.working_days * WORKING_DAY_H, working_days=duration.working_days, rule=rule.name)
