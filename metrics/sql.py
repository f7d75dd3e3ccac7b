"""Dialect-aware SQL building blocks: durations, local dates, percentiles (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, cast, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement


def hours_between(dialect: str, start, end) -> ColumnElement:
    """(end - start) in hours as a float."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def utc_offset_hours(tz: ZoneInfo) -> float:
    """Indonesian zones have no daylight saving, so one offset holds all year."""
    return datetime.now(timezone.utc).astimezone(tz).utcoffset().total_seconds() / 3600


def local_date(dialect: str, column, tz: ZoneInfo) -> ColumnElement:
    """The calendar date of a UTC timestamp in the region's zone, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(tz.key, column), "YYYY-MM-DD")
    return func.date(column, f"{utc_offset_hours(tz):+g} hours")


def local_hour(dialect: str, column, tz: ZoneInfo) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.extract("hour", func.timezone(tz.key, column)), Integer)
    return cast(func.strftime("%H", column, f"{utc_offset_hours(tz):+g} hours"), Integer)


def percentiles(conn: Connection, value: ColumnElement, where: list, fractions=(0.5, 0.9)) -> list[float | None]:
    """Continuous percentiles (linear interpolation, like PostgreSQL's percentile_cont) of `value`."""
    where = [*where, value.isnot(None)]
    if conn.dialect.name == "postgresql":
        columns = [func.percentile_cont(f).within_group(value) for f in fractions]
        row = conn.execute(select(*columns).where(*where)).one()
        return [None if v is None else float(v) for v in row]
    # SQLite has no percentile function: count, then read the one or two middle rows in sorted order.
    count = conn.execute(select(func.count()).where(*where)).scalar_one()
    if not count:
        return [None for _ in fractions]
    results = []
    for fraction in fractions:
        position = fraction * (count - 1)
        lower = int(position)
        rows = conn.execute(
            select(cast(value, Float)).where(*where).order_by(value).limit(2).offset(lower)
        ).scalars().all()
        if len(rows) == 1 or position == lower:
            results.append(float(rows[0]))
        else:
            results.append(float(rows[0] + (rows[1] - rows[0]) * (position - lower)))
    return results


def share(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


def one(value) -> ColumnElement:
    return literal(value)
