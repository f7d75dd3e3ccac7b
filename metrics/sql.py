"""Dialect-aware SQL building blocks: durations, local dates, percentiles of fetched values (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Integer, cast, func, literal
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


def linear_percentiles(values: np.ndarray, fractions) -> list[float | None]:
    """percentile_cont of each fraction over `values` (unsorted, no NULLs); None for no values."""
    if not values.size:
        return [None for _ in fractions]
    return [float(v) for v in np.percentile(values, [f * 100 for f in fractions], method="linear")]


def share(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


def one(value) -> ColumnElement:
    return literal(value)


def fetch_columns(conn: Connection, statement, width: int) -> list[tuple]:
    """The result of `statement` as `width` column tuples, read from the driver's cursor as it returns them
    (no result-type conversion): SQLAlchemy's Row objects cost more than the query for the 40,000-100,000 rows
    some figures read. Select columns whose driver values are what the caller wants (e.g. times as text)."""
    result = conn.execute(statement)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return list(zip(*rows)) or [()] * width
