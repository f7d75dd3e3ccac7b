"""Sigap's tables. Base models hold the fields; `table=True` models add keys and indexes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


def utc_field(*, nullable: bool = True, index: bool = False, default=None, default_factory=None):
    kwargs = {"default_factory": default_factory} if default_factory else {"default": default}
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


class ComplaintBase(SQLModel):
    """What a complaint is, whatever channel it came through."""

    channel: str = Field(max_length=40)
    source_id: str = Field(max_length=80)
    received_at: datetime
    kind: str = Field(max_length=24)
    source_type: str | None = Field(default=None, max_length=80)
    classification: str | None = Field(default=None, max_length=80)
    category: str | None = Field(default=None, max_length=40)
    category_raw: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=500)
    body: str | None = None
    status: str = Field(max_length=20)
    status_raw: str | None = Field(default=None, max_length=120)
    district_code: str | None = Field(default=None, max_length=60)
    district_raw: str | None = Field(default=None, max_length=120)
    subdistrict: str | None = Field(default=None, max_length=120)
    lat: float | None = None
    lon: float | None = None
    agency_code: str | None = Field(default=None, max_length=40)
    agency_raw: str | None = Field(default=None, max_length=200)
    source_detail: str | None = Field(default=None, max_length=120)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    is_anonymous: bool = False
    is_confidential: bool = False


class Complaint(ComplaintBase, table=True):
    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("channel", "source_id", name="uq_complaint_channel_source"),
        Index("ix_complaint_kind_received", "kind", "received_at"),
        Index("ix_complaint_channel_received", "channel", "received_at"),
        Index("ix_complaint_agency_received", "agency_code", "received_at"),
        Index("ix_complaint_district_received", "district_code", "received_at"),
        Index("ix_complaint_status_due", "status", "resolve_due_at"),
        Index("ix_complaint_category", "category"),
    )

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = utc_field(nullable=False)
    body: str | None = Field(default=None, sa_column=Column(Text))
    first_response_at: datetime | None = utc_field()
    resolved_at: datetime | None = utc_field()
    closed_at: datetime | None = utc_field()
    response_due_at: datetime | None = utc_field()
    resolve_due_at: datetime | None = utc_field()
    row_hash: str = Field(max_length=32)
    first_seen_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    last_changed_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    last_run_id: int | None = Field(default=None, foreign_key="import_run.id")


class ComplaintStatusEvent(SQLModel, table=True):
    """Every observed status, with when it was seen; the only response-time source for LAPOR exports."""

    __tablename__ = "complaint_status_event"
    __table_args__ = (Index("ix_status_event_complaint", "complaint_id", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    observed_at: datetime = utc_field(nullable=False)
    previous_status: str | None = Field(default=None, max_length=20)
    status: str = Field(max_length=20)
    status_raw: str | None = Field(default=None, max_length=120)
    # 'source' when the channel told us the time, 'observed' when we saw it change between imports
    time_basis: str = Field(default="observed", max_length=10)
    run_id: int | None = Field(default=None, foreign_key="import_run.id")


class ReporterContact(SQLModel, table=True):
    """Reporter identity, kept apart so no dashboard query can load it by accident."""

    __tablename__ = "reporter_contact"

    complaint_id: int = Field(foreign_key="complaint.id", primary_key=True)
    name: str | None = Field(default=None, max_length=200)
    nik: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class District(SQLModel, table=True):
    __tablename__ = "district"

    code: str = Field(primary_key=True, max_length=60)
    name: str = Field(max_length=120)
    lat: float | None = None
    lon: float | None = None
    population: int | None = None
    area_km2: float | None = None


class Agency(SQLModel, table=True):
    __tablename__ = "agency"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    short_name: str | None = Field(default=None, max_length=60)
    kind: str = Field(default="city", max_length=20)


class Category(SQLModel, table=True):
    __tablename__ = "category"

    code: str = Field(primary_key=True, max_length=40)
    label_id: str = Field(max_length=120)
    label_en: str = Field(max_length=120)
    default_agency: str | None = Field(default=None, max_length=40)


class ChannelState(SQLModel, table=True):
    """Per-channel watermark and lease. The cursor moves in the same transaction as the data it covers."""

    __tablename__ = "channel_state"

    channel: str = Field(primary_key=True, max_length=40)
    cursor: str | None = Field(default=None, max_length=400)
    cursor_updated_at: datetime | None = utc_field()
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_expires_at: datetime | None = utc_field()


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_channel_started", "channel", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=40)
    source: str | None = Field(default=None, max_length=1000)
    source_sha256: str | None = Field(default=None, max_length=64, index=True)
    started_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    finished_at: datetime | None = utc_field()
    state: str = Field(default="running", max_length=12)  # running | succeeded | failed
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    unmapped_district: int = 0
    unmapped_agency: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class QuarantinedRecord(SQLModel, table=True):
    __tablename__ = "quarantined_record"
    __table_args__ = (Index("ix_quarantine_channel_created", "channel", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="import_run.id")
    channel: str = Field(max_length=40)
    source_id: str | None = Field(default=None, max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    reprocessed_at: datetime | None = utc_field()


class DailyRollup(SQLModel, table=True):
    """Complaint facts per local day, kind and one dimension value (metrics/daily.py): what the dashboards'
    period figures add up instead of reading the period's complaints. Rebuilt per day from the complaint table,
    never edited in place, so it cannot drift from it."""

    __tablename__ = "rollup_day"

    dim: str = Field(primary_key=True, max_length=12)  # all, channel, district, agency, category, source_type
    day: str = Field(primary_key=True, max_length=10)  # local date, YYYY-MM-DD
    kind: str = Field(primary_key=True, max_length=24)
    value: str = Field(primary_key=True, max_length=80)  # '' = unknown (primary keys cannot hold NULL)
    n: int = 0
    resolved: int = 0
    actionable: int = 0
    response_known: int = 0
    resolution_known: int = 0
    responded_time_unknown: int = 0
    resolved_time_unknown: int = 0
    response_met: int = 0
    response_late: int = 0
    resolution_met: int = 0
    resolution_late: int = 0
    # duration histograms (hours, metrics/daily.py EDGES_H), sparse: bucket numbers then counts
    response_hist: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    resolution_hist: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RollupPending(SQLModel, table=True):
    """Local days whose rollup rows are out of date: written in the same transaction as the complaints that
    changed them. A new row per mark (no unique day): a refresh deletes exactly the marks it has read, so a
    mark committed while it runs survives for the next one. Day '*' means every day (a rebuild)."""

    __tablename__ = "rollup_pending"

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(max_length=10, index=True)


class RollupWatermark(SQLModel, table=True):
    """The highest complaint id the daily rollup has seen (one row). Rows inserted around the import pipeline
    (bulk loads, fixtures) carry no mark; their ids above this tell the rollup which days they changed."""

    __tablename__ = "rollup_watermark"

    id: int = Field(default=1, primary_key=True)
    complaint_id: int = 0
