"""The ingest pipeline: fetch -> parse (validate) -> idempotent upsert -> status events -> run summary.

Every record read ends as exactly one of inserted, updated, unchanged or quarantined. A file import is one
transaction: a source that breaks part-way writes no complaint at all. Incremental (polled) connectors
commit each batch together with the cursor that covers it, so a crash resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from connectors.base import Connector, RecordError, SourceError
from models import (
    RESPONDED_STATUSES,
    TERMINAL_STATUSES,
    ChannelState,
    Complaint,
    ComplaintIn,
    ComplaintStatusEvent,
    ImportRun,
    QuarantinedRecord,
    ReporterContact,
    Status,
    utcnow,
)
from models.db import get_engine
from models.tables import ComplaintBase

DATA_FIELDS = tuple(ComplaintBase.model_fields)
REPORTER_FIELDS = ("name", "nik", "phone", "email", "address")
RESOLVED = frozenset({Status.resolved.value, Status.closed.value})
RESPONDED = frozenset(s.value for s in RESPONDED_STATUSES)
TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)
C = Complaint.__table__.c
_COUNTS_ZERO = dict.fromkeys(("read", "inserted", "updated", "unchanged", "quarantined",
                              "unmapped_district", "unmapped_agency"), 0)


@dataclass
class RunSummary:
    channel: str
    source: str | None
    run_id: int | None = None
    state: str = "running"
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    unmapped_district: int = 0
    unmapped_agency: int = 0
    error: str | None = None
    quarantine_reasons: Counter = field(default_factory=Counter)

    @property
    def reconciles(self) -> bool:
        return self.read == self.inserted + self.updated + self.unchanged + self.quarantined

    def as_dict(self) -> dict:
        data = asdict(self)
        data["quarantine_reasons"] = dict(self.quarantine_reasons.most_common(20))
        return data


def describe_error(exc: Exception) -> str:
    """A reason a person understands: 'received_at: is in the future; kind: ...'."""
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
            message = err.get("msg", "").removeprefix("Value error, ")
            parts.append(f"{where}: {message}" if where else message)
        return "; ".join(parts)
    return str(exc) or type(exc).__name__


def _raw_json(raw: dict) -> str:
    return json.dumps({k: v for k, v in raw.items()}, ensure_ascii=False, default=str)


def _row_hash(record: ComplaintIn, data: dict) -> str:
    reporter = record.reporter.model_dump() if record.reporter else None
    payload = repr((tuple(data[f] for f in DATA_FIELDS), reporter)).encode()
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _upsert_statement(dialect: str):
    insert_fn = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert_fn is None:
        raise SourceError(f"database dialect {dialect!r} is not supported (use SQLite or PostgreSQL)")
    statement = insert_fn(Complaint.__table__)
    keep = {"id", "channel", "source_id", "first_seen_at"}
    return statement.on_conflict_do_update(
        index_elements=["channel", "source_id"],
        set_={c.name: statement.excluded[c.name] for c in Complaint.__table__.columns if c.name not in keep},
    )


def _derive_times(data: dict, old, observed_at: datetime) -> None:
    """Response and resolution moments a source does not send, from status changes we observed.

    Only a change seen between two imports gives a time; a complaint first seen already answered keeps
    the moment unknown rather than pretending it was answered when we first looked.
    """
    moment = max(observed_at, data["received_at"])
    status = data["status"]
    for name, reached in (("first_response_at", RESPONDED), ("resolved_at", RESOLVED), ("closed_at", TERMINAL)):
        if data[name] is not None:
            continue
        if old is not None and old[name] is not None:
            data[name] = old[name]
        elif old is not None and status in reached and old["status"] not in reached:
            data[name] = moment


class _Importer:
    def __init__(self, connector: Connector, conn: Connection, summary: RunSummary, observed_default: datetime):
        self.connector = connector
        self.conn = conn
        self.summary = summary
        self.observed_default = observed_default
        self.upsert = _upsert_statement(conn.dialect.name)
        self.committed = _COUNTS_ZERO  # the counts of what is durably stored, for a run that fails later

    @property
    def observed_at(self) -> datetime:
        return self.connector.observed_at or self.observed_default

    def quarantine(self, raw: dict, reason: str) -> None:
        self.summary.quarantined += 1
        self.summary.quarantine_reasons[reason.split(":")[0][:80]] += 1
        self.conn.execute(insert(QuarantinedRecord.__table__), [{
            "run_id": self.summary.run_id, "channel": self.connector.name,
            "source_id": (self.connector.source_id_of(raw) or None) if isinstance(raw, dict) else None,
            "reason": reason, "raw": _raw_json(raw) if isinstance(raw, dict) else repr(raw),
            "created_at": utcnow(),
        }])

    def flush(self, records: list[ComplaintIn]) -> None:
        if not records:
            return
        channel = self.connector.name
        keys = [r.source_id for r in records]
        existing = {
            row.source_id: row._mapping
            for row in self.conn.execute(
                select(C.id, C.source_id, C.row_hash, C.status, C.first_response_at, C.resolved_at, C.closed_at)
                .where(C.channel == channel, C.source_id.in_(keys))
            )
        }
        now, observed = utcnow(), self.observed_at
        rows, transitions, reporters = [], [], {}
        for record in records:
            data = record.model_dump(exclude={"reporter"})
            self._count_unmapped(data)
            digest = _row_hash(record, data)
            old = existing.get(record.source_id)
            if old is not None and old["row_hash"] == digest:
                self.summary.unchanged += 1
                continue
            _derive_times(data, old, observed)
            data.update(row_hash=digest, first_seen_at=now, last_changed_at=now, last_run_id=self.summary.run_id)
            rows.append(data)
            if old is None:
                self.summary.inserted += 1
                transitions.append((record.source_id, None, data))
            else:
                self.summary.updated += 1
                if old["status"] != data["status"]:
                    transitions.append((record.source_id, old["status"], data))
            if record.reporter is not None:
                reporters[record.source_id] = record.reporter.model_dump()
        if not rows:
            return
        self.conn.execute(self.upsert, rows)
        self._write_events_and_reporters(channel, transitions, reporters, observed)

    def _count_unmapped(self, data: dict) -> None:
        if data["district_raw"] and data["district_code"] is None:
            self.summary.unmapped_district += 1
        if data["agency_raw"] and data["agency_code"] is None:
            self.summary.unmapped_agency += 1

    def _write_events_and_reporters(self, channel, transitions, reporters, observed) -> None:
        needed = {source_id for source_id, _, _ in transitions} | set(reporters)
        if not needed:
            return
        ids = dict(self.conn.execute(
            select(C.source_id, C.id).where(C.channel == channel, C.source_id.in_(list(needed)))
        ).all())
        events = [{
            "complaint_id": ids[source_id], "previous_status": previous, "status": data["status"],
            "status_raw": data["status_raw"], "run_id": self.summary.run_id, **_event_time(data, observed),
        } for source_id, previous, data in transitions]
        if events:
            self.conn.execute(insert(ComplaintStatusEvent.__table__), events)
        if reporters:
            table = ReporterContact.__table__
            statement = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[self.conn.dialect.name](table)
            statement = statement.on_conflict_do_update(
                index_elements=["complaint_id"], set_={f: statement.excluded[f] for f in REPORTER_FIELDS}
            )
            self.conn.execute(statement, [{"complaint_id": ids[s], **r} for s, r in reporters.items()])


def _event_time(data: dict, observed: datetime) -> dict:
    """Use the source's own timestamp for the status it reports, when it has one."""
    source_moment = {
        "resolved": data["resolved_at"], "closed": data["closed_at"] or data["resolved_at"],
        "in_progress": data["first_response_at"],
    }.get(data["status"])
    if source_moment is not None:
        return {"observed_at": source_moment, "time_basis": "source"}
    return {"observed_at": max(observed, data["received_at"]), "time_basis": "observed"}


def _start_run(engine: Engine, channel: str, source: str | None, sha256: str | None) -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(ImportRun.__table__).returning(ImportRun.__table__.c.id),
            {"channel": channel, "source": source, "source_sha256": sha256, "started_at": utcnow(),
             "state": "running", "read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "quarantined": 0,
             "unmapped_district": 0, "unmapped_agency": 0},
        ).scalar_one()


def _finish_run(conn: Connection, summary: RunSummary) -> None:
    conn.execute(
        update(ImportRun.__table__).where(ImportRun.__table__.c.id == summary.run_id).values(
            finished_at=utcnow(), state=summary.state, read=summary.read, inserted=summary.inserted,
            updated=summary.updated, unchanged=summary.unchanged, quarantined=summary.quarantined,
            unmapped_district=summary.unmapped_district, unmapped_agency=summary.unmapped_agency,
            error=summary.error,
        )
    )


def read_cursor(conn: Connection, channel: str) -> str | None:
    return conn.execute(select(ChannelState.__table__.c.cursor).where(ChannelState.__table__.c.channel == channel)
                        ).scalar_one_or_none()


def _advance_cursor(conn: Connection, channel: str, cursor: str | None) -> None:
    """Move the channel's watermark forward (never back), inside the caller's transaction."""
    if cursor is None:
        return
    table = ChannelState.__table__
    current = read_cursor(conn, channel)
    if current is not None and current >= cursor:
        return
    statement = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name](table)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["channel"], set_={"cursor": cursor, "cursor_updated_at": utcnow()}
    ), {"channel": channel, "cursor": cursor, "cursor_updated_at": utcnow()})


def run_import(connector: Connector, engine: Engine | None = None, *, source: str | None = None,
               source_sha256: str | None = None, batch_size: int = 2000) -> RunSummary:
    """Run one import of `connector` and return its summary; the run and its counts are recorded either way."""
    engine = engine or get_engine()
    summary = RunSummary(channel=connector.name, source=source)
    summary.run_id = _start_run(engine, connector.name, source, source_sha256)
    with engine.connect() as conn:
        importer = _Importer(connector, conn, summary, observed_default=utcnow())
        try:
            _consume(connector, conn, importer, batch_size)
            summary.state = "succeeded"
            _finish_run(conn, summary)
            conn.commit()
        except Exception as exc:
            conn.rollback()
            _record_failure(engine, summary, exc, importer.committed)
            if not isinstance(exc, SourceError):
                raise
    return summary


def _consume(connector: Connector, conn: Connection, importer: _Importer, batch_size: int) -> None:
    since = read_cursor(conn, connector.name)
    batch: dict[str, ComplaintIn] = {}
    cursor = None
    for raw in connector.fetch(since):
        importer.summary.read += 1
        try:
            record = connector.parse(raw)
        except (RecordError, ValidationError, ValueError, TypeError, OverflowError) as exc:
            importer.quarantine(raw, describe_error(exc))
            continue
        if record.source_id in batch:
            # The same id again in one source (a 112 call logged open, then finished): the later row
            # supersedes the earlier one, which counts as unchanged, so re-imports stay idempotent.
            importer.summary.unchanged += 1
            del batch[record.source_id]
        batch[record.source_id] = record
        cursor = max(filter(None, (cursor, connector.cursor_of(raw))), default=None)
        if len(batch) >= batch_size:
            importer.flush(list(batch.values()))
            batch.clear()
            if connector.incremental:
                _checkpoint(conn, importer, cursor)
    importer.flush(list(batch.values()))
    _advance_cursor(conn, connector.name, cursor)


def _checkpoint(conn: Connection, importer: _Importer, cursor: str | None) -> None:
    _advance_cursor(conn, importer.connector.name, cursor)
    _finish_run(conn, importer.summary)  # counts so far, in the same transaction as the data they count
    conn.commit()
    importer.committed = {k: getattr(importer.summary, k) for k in _COUNTS_ZERO}


def _record_failure(engine: Engine, summary: RunSummary, exc: Exception, committed: dict) -> None:
    """Record a failed run with the counts of what was durably stored before the failure (zero for files)."""
    summary.state = "failed"
    summary.error = describe_error(exc) if isinstance(exc, (SourceError, RecordError)) else f"{type(exc).__name__}: {exc}"
    for key, value in committed.items():
        setattr(summary, key, value)
    with engine.begin() as conn:
        _finish_run(conn, summary)
