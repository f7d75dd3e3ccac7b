"""Marking the daily rollup's out-of-date days (metrics/daily.py), without its analysis dependencies: the
import pipeline calls this in every batch, and importing pandas with the rollup cost every command-line import
0.6 s of start-up."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from models import RollupPending

EVERY_DAY = "*"


def mark_days(conn: Connection, days) -> None:
    """Mark local days (YYYY-MM-DD) as out of date, inside the transaction that changed their complaints."""
    days = sorted(set(days))
    if days:
        conn.execute(insert(RollupPending.__table__), [{"day": d} for d in days])


def mark_received(conn: Connection, received: list, tz: ZoneInfo) -> None:
    """mark_days for the local days of these UTC receipt moments, converted per quarter hour (zone offsets and
    their changes fall on quarter hours) and remembered: converting each of 2,000 moments a batch cost the
    import several seconds per million records."""
    quarters = {int(moment.timestamp()) // 900 for moment in received if moment is not None}
    mark_days(conn, {_quarter_day(q, tz.key) for q in quarters})


@lru_cache(maxsize=200_000)
def _quarter_day(quarter: int, zone: str) -> str:
    return datetime.fromtimestamp(quarter * 900, ZoneInfo(zone)).date().isoformat()
