"""Every figure the dashboards show, as SQL aggregates. Definitions: docs/METRICS.md.

Functions take an engine, Filters and the current moment (so tests can fix time) and return plain
Python data or small DataFrames; nothing here imports Streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from metrics import daily
from metrics.filters import C, Filters
from metrics.sql import share
from models import OPEN_STATUSES, RESPONDED_STATUSES, Agency, District, Kind

OPEN = tuple(s.value for s in OPEN_STATUSES)
RESOLVED = ("resolved", "closed")
NOT_ACTIONABLE = ("archived", "rejected")  # incomplete or blocked reports: not counted against an agency
A = Agency.__table__.c
D = District.__table__.c


def is_open():
    return C.status.in_(OPEN)


RESPONDED = tuple(s.value for s in RESPONDED_STATUSES)


def is_unanswered():
    """No answer yet. A complaint first seen already answered has no response time but was answered."""
    return and_(C.first_response_at.is_(None), C.status.notin_(RESPONDED))


def open_now(filters: Filters, dialect: str) -> list:
    """Still-open complaints matching the dimension filters. On SQLite the dimension columns are compared, not
    searched: with an agency filter the planner picked the (agency_code, received_at) index and visited every
    complaint of the agency (1.7 s at 1M rows) instead of the open-now covering index (0.06 s)."""
    return [*filters.dimension_clauses(unindexed=dialect == "sqlite"), is_open()]


def is_overdue(now: datetime):
    """Open, and past its resolution deadline, or unanswered past its response deadline."""
    return and_(is_open(), or_(C.resolve_due_at < now, and_(is_unanswered(), C.response_due_at < now)))


def effective_due():
    """The deadline that matters now: the response deadline while unanswered, else the resolution deadline."""
    return case((and_(is_unanswered(), C.response_due_at.isnot(None)), C.response_due_at),
                else_=func.coalesce(C.resolve_due_at, C.response_due_at))


def count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sla_counts(now: datetime, done_at, due_at):
    """(met, missed): met = done by the deadline; missed = done late, or not done and the deadline passed.

    Complaints still inside their deadline, and those done at an unknown moment, are in neither.
    """
    not_done = is_unanswered() if done_at is C.first_response_at else done_at.is_(None)
    met = count_if(and_(done_at.isnot(None), due_at.isnot(None), done_at <= due_at))
    missed = count_if(and_(due_at.isnot(None), or_(done_at > due_at, and_(not_done, is_open(), due_at < now))))
    return met, missed


@dataclass(frozen=True)
class PeriodFigures:
    """What the period's complaints did, from the daily rollup alone (no open-set pass): enough to compare a
    period with the one before."""
    received: int
    resolved: int
    actionable: int
    response_median_h: float | None
    response_p90_h: float | None
    resolution_median_h: float | None
    resolution_p90_h: float | None

    @property
    def resolution_rate(self) -> float | None:
        return share(self.resolved, self.actionable)


@dataclass(frozen=True)
class Headline(PeriodFigures):
    """The period's figures with the live ones: open and overdue now, SLA shares counting complaints that
    missed a deadline while still open."""
    received_today: int
    open_now: int
    overdue_now: int
    response_sla: float | None
    resolution_sla: float | None


def open_missed(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo, group=None) -> dict:
    """{group value: (response missed, resolution missed)} of complaints received in the period that are still
    open and past a deadline now: the part of "SLA missed" that changes with the clock alone, so the daily
    rollup leaves it out and it is counted live (from the open-now index)."""
    columns = [group] if group is not None else []
    begin, finish = filters.bounds(tz)
    with engine.connect() as conn:
        rows = conn.execute(select(
            *columns, count_if(and_(is_unanswered(), C.response_due_at < now)),
            count_if(and_(C.resolved_at.is_(None), C.resolve_due_at < now)),
        ).where(*open_now(filters, conn.dialect.name), C.received_at >= begin, C.received_at < finish)
            .group_by(*columns)).all()
    return {tuple(r[:-2])[0] if columns else None: (int(r[-2]), int(r[-1])) for r in rows}


def period_figures(engine: Engine, filters: Filters, tz: ZoneInfo) -> PeriodFigures:
    return PeriodFigures(**_period_fields(daily.totals(daily.period_facts(engine, filters, tz))))


def _period_fields(total: daily.Summary) -> dict:
    response = daily.percentiles_from(total.response)
    resolution = daily.percentiles_from(total.resolution)
    return dict(received=total.counts["n"], resolved=total.counts["resolved"], actionable=total.counts["actionable"],
                response_median_h=response[0], response_p90_h=response[1],
                resolution_median_h=resolution[0], resolution_p90_h=resolution[1])


def headline(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> Headline:
    today = now.astimezone(tz).date().isoformat()
    facts = daily.period_facts(engine, filters, tz)
    received_today = int(facts.rows.loc[facts.rows["day"] == today, "n"].sum())
    total = daily.totals(facts)
    begin, finish = filters.bounds(tz)
    in_period = and_(C.received_at >= begin, C.received_at < finish)
    with engine.connect() as conn:  # one pass over the open complaints: open, overdue, and missed while open
        open_count, overdue_count, response_open, resolution_open = conn.execute(select(
            func.count(), count_if(is_overdue(now)),
            count_if(and_(in_period, is_unanswered(), C.response_due_at < now)),
            count_if(and_(in_period, C.resolved_at.is_(None), C.resolve_due_at < now)),
        ).where(*open_now(filters, conn.dialect.name))).one()
    response_missed = total.counts["response_late"] + response_open
    resolution_missed = total.counts["resolution_late"] + resolution_open
    return Headline(
        **_period_fields(total), received_today=received_today, open_now=open_count, overdue_now=overdue_count,
        response_sla=share(total.counts["response_met"], total.counts["response_met"] + response_missed),
        resolution_sla=share(total.counts["resolution_met"], total.counts["resolution_met"] + resolution_missed),
    )


def received_by_channel(engine: Engine, filters: Filters, tz: ZoneInfo) -> pd.Series:
    """Complaints received in the period per channel, busiest first (from the rollup alone: no open-set pass)."""
    received = {daily.value_or_none(v): g.counts["n"]
                for v, g in daily.by_value(daily.period_facts(engine, filters, tz, "channel", durations=False)).items()}
    series = pd.Series(received, name="received", dtype="int64").rename_axis("channel")
    return series.sort_values(ascending=False, kind="stable")


def by_channel(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> pd.DataFrame:
    """Per channel: received in the period, open and overdue now."""
    with engine.connect() as conn:
        current = conn.execute(select(C.channel, func.count(), count_if(is_overdue(now)))
                               .where(*open_now(filters, conn.dialect.name)).group_by(C.channel)).all()
    frame = received_by_channel(engine, filters, tz).to_frame()
    now_frame = pd.DataFrame(current, columns=["channel", "open", "overdue"]).set_index("channel")
    return frame.join(now_frame, how="outer").fillna(0).astype(int).sort_values("received", ascending=False)


def daily_trend(engine: Engine, filters: Filters, tz: ZoneInfo) -> pd.DataFrame:
    """Complaints received per local day of the period, by channel."""
    summed = daily.period_facts(engine, filters, tz, "channel", durations=False).grouped(["day", "value"]).rows
    frame = pd.DataFrame({"day": summed["day"], "channel": summed["value"].map(daily.value_or_none),
                          "count": summed["n"].astype(int)}, columns=["day", "channel", "count"])
    frame = frame[frame["count"] > 0].sort_values(["day", "channel"], ignore_index=True)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def most_overdue(engine: Engine, filters: Filters, now: datetime, limit: int = 10) -> pd.DataFrame:
    """The open complaints furthest past their deadline. No text fields: titles may carry personal data."""
    due = effective_due()
    # The ids first, from the open-now index alone (it ends with id), then only those rows: on PostgreSQL at
    # 10M rows reading every overdue complaint's row to sort them took ~2 s (bench/README.md).
    top = (select(C.id).where(*open_now(filters, engine.dialect.name), is_overdue(now)).order_by(due, C.id).limit(limit)
           .scalar_subquery())
    with engine.connect() as conn:
        rows = conn.execute(
            select(C.id, C.channel, C.source_id, C.category, C.district_code, C.agency_code, C.status,
                   C.received_at, due.label("due_at"))
            .where(C.id.in_(top)).order_by(due, C.id)
        ).mappings().all()
    frame = pd.DataFrame(rows, columns=["id", "channel", "source_id", "category", "district_code", "agency_code",
                                        "status", "received_at", "due_at"])
    if not frame.empty:
        frame["overdue_h"] = [(now - d).total_seconds() / 3600 for d in frame["due_at"]]
        frame["age_h"] = [(now - r).total_seconds() / 3600 for r in frame["received_at"]]
    return frame


def wilson_lower_bound(successes: int, total: int, z: float = 1.96) -> float:
    """Lower end of the 95% Wilson score interval: 2 of 2 ranks below 480 of 500."""
    if total == 0:
        return 0.0
    p = successes / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre - margin) / (1 + z * z / total)


def agency_ranking(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> pd.DataFrame:
    """The league table: one row per agency with complaints in the period, best first."""
    groups = daily.by_value(daily.period_facts(engine, filters, tz, "agency"))
    previous = {code: g.counts["n"] for code, g in
                daily.by_value(daily.period_facts(engine, filters.previous(), tz, "agency", durations=False)).items()}
    missed_open = open_missed(engine, filters, now, tz, C.agency_code)
    with engine.connect() as conn:
        overdue = dict(conn.execute(select(C.agency_code, func.count())
                                    .where(*open_now(filters, conn.dialect.name), is_overdue(now))
                                    .group_by(C.agency_code)).all())
        names = dict(conn.execute(select(A.code, func.coalesce(A.short_name, A.name))).all())
    records = []
    for code, g in groups.items():
        if not code or not g.counts["n"]:
            continue
        resolved, actionable, met = g.counts["resolved"], g.counts["actionable"], g.counts["resolution_met"]
        missed = g.counts["resolution_late"] + missed_open.get(code, (0, 0))[1]
        records.append({
            "agency_code": code, "agency": names.get(code, code), "received": g.counts["n"], "resolved": resolved,
            "actionable": actionable, "resolution_rate": share(resolved, actionable),
            "score": wilson_lower_bound(resolved, actionable), "sla_compliance": share(met, met + missed),
            "median_response_h": daily.percentiles_from(g.response, (0.5,))[0], "overdue_now": overdue.get(code, 0),
            "received_previous": previous.get(code, 0),
        })
    table = pd.DataFrame(records)
    if table.empty:
        return table
    table["trend"] = table["received"] - table["received_previous"]
    table = table.sort_values(["score", "received"], ascending=[False, False]).reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def emergency_calls(engine: Engine, filters: Filters, tz: ZoneInfo) -> dict:
    """112 figures, apart from complaints: calls by type, and the non-emergency share."""
    calls = replace(filters, kinds=(Kind.emergency_call.value, Kind.non_emergency_call.value))
    groups = daily.by_value(daily.period_facts(engine, calls, tz, "source_type", durations=False), ("kind", "value"))
    rows = [(kind, source_type or "?", g.counts["n"]) for (kind, source_type), g in groups.items()]
    by_type: dict[str, int] = {}
    for _, source_type, n in rows:
        by_type[source_type] = by_type.get(source_type, 0) + n
    emergency = sum(n for kind, _, n in rows if kind == Kind.emergency_call.value)
    other = sum(n for kind, _, n in rows if kind == Kind.non_emergency_call.value)
    return {"total": emergency + other, "emergency": emergency, "non_emergency": other,
            "non_emergency_share": share(other, emergency + other), "by_type": by_type}


def district_counts(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> pd.DataFrame:
    """Per district: received in the period, per 10,000 residents, open and overdue now."""
    facts = daily.period_facts(engine, filters, tz, "district", durations=False)
    received = {daily.value_or_none(code): g.counts["n"] for code, g in daily.by_value(facts).items()}
    with engine.connect() as conn:
        current = {code: (n, late) for code, n, late in conn.execute(
            select(C.district_code, func.count(), count_if(is_overdue(now)))
            .where(*open_now(filters, conn.dialect.name)).group_by(C.district_code)).all()}
        districts = conn.execute(select(D.code, D.name, D.population, D.lat, D.lon)).all()
    rows = []
    for code, name, population, lat, lon in districts:
        n = received.get(code, 0)
        still_open, overdue = current.get(code, (0, 0))
        rows.append({"district_code": code, "district": name, "lat": lat, "lon": lon, "received": n,
                     "per_10k": n / population * 10_000 if population else None, "open": still_open,
                     "overdue": overdue, "overdue_share": share(overdue, still_open)})
    unknown = received.get(None, 0)
    frame = pd.DataFrame(rows)
    frame.attrs["unknown_district"] = unknown
    return frame


def last_update(engine: Engine) -> datetime | None:
    """When data last arrived from any channel (the newest finished successful import)."""
    from models import ImportRun

    runs = ImportRun.__table__.c
    with engine.connect() as conn:
        return conn.execute(select(func.max(runs.finished_at)).where(runs.state == "succeeded")).scalar_one()


def category_labels(engine: Engine, language: str) -> dict[str, str]:
    from models import Category

    table = Category.__table__.c
    column = table.label_en if language == "en" else table.label_id
    with engine.connect() as conn:
        return dict(conn.execute(select(table.code, column)).all())


def agency_names(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(A.code, func.coalesce(A.short_name, A.name))).all())


def district_names(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(D.code, D.name)).all())

