"""Shared column types and vocabulary for every table."""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores it as TIMESTAMPTZ. SQLite has no zone support, so it stores
    naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'), which sorts and compares
    correctly as a string; the zone is re-attached on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Sigap stores only zone-aware times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Kind(str, Enum):
    complaint = "complaint"
    information_request = "information_request"
    aspiration = "aspiration"
    emergency_call = "emergency_call"
    non_emergency_call = "non_emergency_call"


class Status(str, Enum):
    new = "new"
    verified = "verified"
    dispatched = "dispatched"
    in_progress = "in_progress"
    waiting_info = "waiting_info"
    resolved = "resolved"
    closed = "closed"
    archived = "archived"
    rejected = "rejected"


OPEN_STATUSES = frozenset({Status.new, Status.verified, Status.dispatched, Status.in_progress, Status.waiting_info})
TERMINAL_STATUSES = frozenset(set(Status) - OPEN_STATUSES)
# Reaching one of these means the agency answered the citizen.
RESPONDED_STATUSES = frozenset({Status.in_progress, Status.resolved, Status.closed})
# Complaint statistics cover these kinds; 112 calls are reported on their own.
COMPLAINT_KINDS = frozenset({Kind.complaint, Kind.information_request, Kind.aspiration})
