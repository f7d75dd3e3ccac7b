"""Input models: what a connector must produce before anything touches the database."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from models.base import Kind, Status
from models.tables import ComplaintBase

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)
MAX_BODY = 100_000
MAX_TITLE = 500


class ReporterIn(SQLModel):
    name: str | None = Field(default=None, max_length=200)
    nik: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)

    def is_empty(self) -> bool:
        return not any((self.name, self.nik, self.phone, self.email, self.address))


def _clean_coordinates(lat, lon) -> tuple[float | None, float | None]:
    """0/0 means 'no GPS'; swapped pairs are swapped back; anything else impossible is dropped."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if math.isnan(lat) or math.isnan(lon) or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
        return None, None
    if abs(lat) > 90 and abs(lon) <= 90:
        lat, lon = lon, lat
    if abs(lat) > 90 or abs(lon) > 180:
        return None, None
    return lat, lon


class ComplaintIn(ComplaintBase):
    """A validated complaint. Every connector's `parse` returns one of these or raises."""

    reporter: ReporterIn | None = None

    @field_validator("channel", "source_id", mode="before")
    @classmethod
    def _required_text(cls, value):
        text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError("is empty")
        return text

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        Kind(value)
        return value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        Status(value)
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _short_title(cls, value):
        if value is None:
            return None
        value = str(value).strip()
        return value[: MAX_TITLE - 1] + "…" if len(value) > MAX_TITLE else value or None

    @field_validator("body", mode="before")
    @classmethod
    def _bounded_body(cls, value):
        if value is None:
            return None
        value = str(value).strip()
        return value[:MAX_BODY] or None

    @field_validator(
        "received_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolve_due_at"
    )
    @classmethod
    def _zone_aware(cls, value: datetime | None):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("has no time zone")
        value = value.astimezone(timezone.utc)
        if value < EARLIEST:
            raise ValueError(f"is before {EARLIEST:%Y-%m-%d} ({value:%Y-%m-%d})")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.received_at > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
            raise ValueError(f"received_at {self.received_at:%Y-%m-%d %H:%M} UTC is in the future")
        for name in ("first_response_at", "resolved_at", "closed_at"):
            moment = getattr(self, name)
            if moment is not None and moment < self.received_at - CLOCK_SKEW:
                raise ValueError(f"{name} is before received_at")
        self.lat, self.lon = _clean_coordinates(self.lat, self.lon)
        if self.reporter is not None and self.reporter.is_empty():
            self.reporter = None
        return self
