"""The figures an agency's own view and the monthly scorecard need, as SQL aggregates (no Streamlit).

Lists here never carry free text or reporter identity: a title or a body may hold personal data, so
only codes, dates and durations leave this module. Complaint detail and reporter contact have their own
functions, which only pages that checked the viewer's rights call.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from metrics import queries
from metrics.filters import C, Filters
from metrics.queries import Headline, is_overdue
from metrics.sql import local_date
from models import Complaint, ReporterContact

DIMENSION_COLUMNS = {"channel": C.channel, "category": C.category, "district": C.district_code,
                     "agency": C.agency_code}
R = ReporterContact.__table__.c


def month_filters(month: str, **dims) -> Filters:
    """'2026-10' -> the whole of October 2026 in local dates."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise ValueError(f"month must look like 2026-10, got {month!r}") from exc
    return Filters(start=date(year, number, 1), end=date(year, number, last), **dims)


def previous_month(month: str) -> str:
    start = month_filters(month).start - timedelta(days=1)
    return f"{start.year:04d}-{start.month:02d}"


def for_agency(filters: Filters, agency: str | None) -> Filters:
    return replace(filters, agencies=(agency,)) if agency else filters


def _daily(engine: Engine, column, filters: Filters, tz: ZoneInfo) -> pd.Series:
    begin, finish = filters.bounds(tz)
    with engine.connect() as conn:
        day = local_date(conn.dialect.name, column, tz)
        rows = conn.execute(select(day, func.count()).where(*filters.dimension_clauses(), column >= begin,
                                                            column < finish).group_by(day)).all()
    series = pd.Series({pd.Timestamp(d): n for d, n in rows}, dtype="int64")
    days = pd.date_range(filters.start, filters.end, freq="D")
    return series.reindex(days, fill_value=0)


def daily_flow(engine: Engine, filters: Filters, tz: ZoneInfo) -> pd.DataFrame:
    """Per local day of the period: complaints received, and complaints resolved that day."""
    received = _daily(engine, C.received_at, filters, tz)
    resolved = _daily(engine, C.resolved_at, filters, tz)
    frame = pd.DataFrame({"received": received, "resolved": resolved})
    frame.index.name = "day"
    return frame.reset_index()


def weekly_flow(engine: Engine, filters: Filters, tz: ZoneInfo) -> pd.DataFrame:
    """Per week (starting Monday): received and resolved; partial first/last weeks are marked."""
    daily = daily_flow(engine, filters, tz)
    daily["week"] = daily["day"] - pd.to_timedelta(daily["day"].dt.day_of_week, unit="D")
    weekly = daily.groupby("week", as_index=False).agg(received=("received", "sum"), resolved=("resolved", "sum"),
                                                       days=("day", "count"))
    weekly["partial"] = weekly["days"] < 7
    return weekly.drop(columns="days")


def arrivals(engine: Engine, filters: Filters, tz: ZoneInfo, dimension: str) -> pd.DataFrame:
    """Complaints received in the period by channel, category, district or agency, most first."""
    column = DIMENSION_COLUMNS[dimension]
    with engine.connect() as conn:
        rows = conn.execute(select(column, func.count()).where(*filters.period_clauses(tz))
                            .group_by(column).order_by(func.count().desc())).all()
    return pd.DataFrame(rows, columns=["code", "count"])


def overdue_list(engine: Engine, filters: Filters, now: datetime, limit: int | None = None,
                 received_before: datetime | None = None) -> pd.DataFrame:
    """Open complaints past their deadline at `now`, longest overdue first. Codes and times only."""
    due = func.coalesce(C.resolve_due_at, C.response_due_at)
    where = [*filters.dimension_clauses(), is_overdue(now)]
    if received_before is not None:
        where.append(C.received_at < received_before)
    statement = (select(C.id, C.channel, C.source_id, C.kind, C.category, C.district_code, C.agency_code, C.status,
                        C.received_at, due.label("due_at"), C.is_confidential)
                 .where(*where).order_by(due, C.id))
    if limit:
        statement = statement.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(statement).mappings().all()
    columns = ["id", "channel", "source_id", "kind", "category", "district_code", "agency_code", "status",
               "received_at", "due_at", "is_confidential"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["age_days"] = [(now - r).total_seconds() / 86400 for r in frame["received_at"]]
    frame["overdue_days"] = [(now - d).total_seconds() / 86400 for d in frame["due_at"]]
    return frame


def overdue_count(engine: Engine, filters: Filters, now: datetime, received_before: datetime | None = None) -> int:
    where = [*filters.dimension_clauses(), is_overdue(now)]
    if received_before is not None:
        where.append(C.received_at < received_before)
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(*where)).scalar_one()


def complaint_detail(engine: Engine, complaint_id: int) -> dict | None:
    """One complaint's own fields (text included). Callers decide what the viewer may see of it."""
    with engine.connect() as conn:
        row = conn.execute(select(Complaint.__table__).where(C.id == complaint_id)).mappings().first()
    return dict(row) if row else None


def reporter_contact(engine: Engine, complaint_id: int) -> dict | None:
    """The reporter's identity. Only for viewers with personal-data rights on this complaint; audit the view."""
    with engine.connect() as conn:
        row = conn.execute(select(R.name, R.nik, R.phone, R.email, R.address)
                           .where(R.complaint_id == complaint_id)).mappings().first()
    return dict(row) if row and any(row.values()) else None


def monthly_history(engine: Engine, filters: Filters, tz: ZoneInfo, now: datetime, months: int = 6) -> pd.DataFrame:
    """The last `months` calendar months up to the filter's month: received and resolution rate."""
    rows = []
    month = f"{filters.end.year:04d}-{filters.end.month:02d}"
    for _ in range(months):
        period = replace(month_filters(month), channels=filters.channels, districts=filters.districts,
                         agencies=filters.agencies, categories=filters.categories, kinds=filters.kinds)
        figures = queries.headline(engine, period, now, tz)
        rows.append({"month": month, "start": period.start, "received": figures.received,
                     "resolved": figures.resolved, "resolution_rate": figures.resolution_rate})
        month = previous_month(month)
    return pd.DataFrame(rows[::-1])


@dataclass(frozen=True)
class AgencyStanding:
    """Where one agency stands among all agencies in a period, and the city figures beside it."""

    rank: int | None
    of: int
    row: dict | None
    city: Headline


def standing(engine: Engine, filters: Filters, agency: str, now: datetime, tz: ZoneInfo,
             ranking: pd.DataFrame | None = None) -> AgencyStanding:
    city_filters = replace(filters, agencies=())
    ranking = queries.agency_ranking(engine, city_filters, now, tz) if ranking is None else ranking
    city = queries.headline(engine, city_filters, now, tz)
    if ranking.empty:
        return AgencyStanding(None, 0, None, city)
    mine = ranking[ranking["agency_code"] == agency]
    row = mine.iloc[0].to_dict() if not mine.empty else None
    return AgencyStanding(int(row["rank"]) if row else None, len(ranking), row, city)
