"""The filters every view shares: a period in local dates and the dimensions to narrow by."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import literal_column
from sqlalchemy.sql import ColumnElement

from models import COMPLAINT_KINDS, Complaint

C = Complaint.__table__.c
DEFAULT_KINDS = tuple(sorted(k.value for k in COMPLAINT_KINDS))


@dataclass(frozen=True)
class Filters:
    """Period [start, end] in the region's local dates (both inclusive) and optional dimension filters.

    Empty tuples mean "all". `kinds` defaults to complaint kinds: 112 calls are reported apart.
    """

    start: date
    end: date
    channels: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = DEFAULT_KINDS

    @classmethod
    def last_days(cls, days: int, today: date, **dims) -> "Filters":
        return cls(start=today - timedelta(days=days - 1), end=today, **dims)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments."""
        begin = datetime.combine(self.start, time.min, tz)
        finish = datetime.combine(self.end + timedelta(days=1), time.min, tz)
        return begin.astimezone(timezone.utc), finish.astimezone(timezone.utc)

    def dimension_clauses(self, unindexed: bool = False) -> list[ColumnElement]:
        """`unindexed` (SQLite): compare the columns without letting the planner search their own indexes."""
        clauses = []
        for column, values in ((C.channel, self.channels), (C.district_code, self.districts),
                               (C.agency_code, self.agencies), (C.category, self.categories),
                               (C.kind, self.kinds)):
            if values:
                if unindexed:  # SQLite's unary + keeps the value and hides the column from index selection
                    column = literal_column(f"+{column.table.name}.{column.name}", column.type)
                clauses.append(column.in_(values))
        return clauses

    def period_clauses(self, tz: ZoneInfo) -> list[ColumnElement]:
        begin, finish = self.bounds(tz)
        return [*self.dimension_clauses(), C.received_at >= begin, C.received_at < finish]
