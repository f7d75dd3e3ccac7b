"""The ingest pipeline: fetch -> parse (validate) -> idempotent upsert -> status events -> run summary.

Every record read ends as exactly one of inserted, updated, unchanged or quarantined. A file import is one
transaction: a source that breaks part-way writes no complaint at all. Incremental (polled) connectors
commit each batch together with the cursor that covers it, so a crash resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import queue
import sys
import threading
from collections import Counter
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import chain
from operator import itemgetter

from pydantic import ValidationError
from sqlalchemy import (Boolean, Connection, String, and_, bindparam, column, func, insert, select, type_coerce,
                        update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType

from connectors.base import Connector, IncompleteSource, RecordError, SourceError
from metrics import daily_marks
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
from models.base import UTCDateTime
from models.db import get_engine
from models.tables import ComplaintBase

DATA_FIELDS = tuple(ComplaintBase.model_fields)
_DATA_VALUES = itemgetter(*DATA_FIELDS)  # a validated record's field values, in DATA_FIELDS order
REPORTER_FIELDS = ("name", "nik", "phone", "email", "address")
RESOLVED = frozenset({Status.resolved.value, Status.closed.value})
RESPONDED = frozenset(s.value for s in RESPONDED_STATUSES)
TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)
C = Complaint.__table__.c
# What parse() raises for one bad record: quarantined, never fatal.
PARSE_ERRORS = (RecordError, ValidationError, ValueError, TypeError, OverflowError)
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


def _hash_values(values: tuple, reporter: dict | None) -> str:
    """The row hash: of the field values in DATA_FIELDS order and the reporter's model_dump() (stable across
    releases: a changed formula would make every stored complaint look changed on its next import)."""
    payload = repr((values, reporter)).encode()
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store for a moment ('YYYY-MM-DD HH:MM:SS.ffffff', naive UTC),
    without SQLAlchemy's per-value processor chain."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Sigap stores only zone-aware times")
        value = value.astimezone(timezone.utc)
    text = value.isoformat(" ")[:-6]  # drop '+00:00'
    return text if value.microsecond else text + ".000000"


class _Bulk:
    """An INSERT compiled once for the connection's dialect and run as a few multi-row statements per batch.

    SQLAlchemy Core's executemany re-processes every parameter of every row through Python-level
    processors, and a DBAPI executemany runs the statement once per row. Here rows are tuples in `columns`
    order (plus `constants`, the same for the whole batch); each column is converted at once by its own bind
    processor (UTC times by an equivalent direct formatter). On SQLite up to `rows_per_statement` rows go
    into one INSERT ... VALUES (...), (...) (a quarter less work than executemany of the same rows); on
    PostgreSQL the whole batch is one INSERT ... SELECT * FROM unnest(array per column), sent in binary.
    `returning` columns come back for every row written (inserted, or updated by ON CONFLICT), so new rows'
    ids need no second lookup.
    """

    def __init__(self, statement, columns: tuple[str, ...], dialect: Dialect, constants: tuple[str, ...] = (),
                 returning: tuple[str, ...] = ()):
        keys = (*columns, *constants)
        if returning:
            statement = statement.returning(*(statement.table.c[name] for name in returning))
        compiled = statement.compile(dialect=_positional(dialect), column_keys=list(keys))
        order = tuple(compiled.positiontup)
        if sorted(order) != sorted(keys):
            raise RuntimeError(f"compiled statement binds {order}, expected {keys}")
        # INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT ...: the row's placeholder group is repeated per row
        sql = str(compiled)
        at = sql.index(" VALUES (") + len(" VALUES ")
        group = sql[at:sql.index(")", at) + 1]
        if group.count(",") != len(order) - 1:
            raise RuntimeError(f"unexpected VALUES clause in {sql!r}")
        self.head, self.group, self.tail = sql[:at], group, sql[at + len(group):]
        self.sql: dict[int, str] = {}  # statement text by row count
        self.rows_per_statement = max(1, min(500, _MAX_PARAMETERS[dialect.name] // len(order)))
        self.arrays = dialect.name == "postgresql"
        if self.arrays:
            # PostgreSQL: one array parameter per column, unnested into rows, whatever the row count (psycopg
            # parses a long VALUES list again on every execution: it caches only short statements; and it
            # dumps lists faster in binary, %b). INSERT INTO t (a, b) SELECT * FROM unnest(%b::VARCHAR(40)[],
            # %b::FLOAT[]) ON CONFLICT ...
            arrays = ", ".join(f"%b::{statement.table.c[name].type.compile(dialect=dialect)}[]" for name in order)
            self.array_sql = f"{self.head.removesuffix('VALUES ')}SELECT * FROM unnest({arrays}){self.tail}"
            self.rows_per_statement = 10000
        self.source = tuple(keys.index(name) for name in order)  # statement position -> index in row + constants
        self.width = len(columns)
        types = {name: statement.table.c[name].type for name in keys}
        self.converters = tuple(_column_converter(types[name], dialect) for name in order)

    def execute(self, conn: Connection, rows: list[tuple], constants: tuple = (), texts: dict | None = None
                ) -> list[tuple]:
        """Write `rows`; returns the `returning` columns of every row written. `texts`: see _sqlite_utc_texts
        (a caller may share one between calls whose rows are all alive until the last call returns)."""
        if not rows:
            return []
        columns = list(zip(*rows))
        n, width = len(rows), self.width
        values = []  # per statement parameter: the column's converted values
        texts = {} if texts is None else texts
        for at, convert in zip(self.source, self.converters):
            if at >= width:  # a constant: converted once
                constant = constants[at - width]
                values.append([convert([constant], texts)[0] if convert else constant] * n)
            else:
                values.append(convert(columns[at], texts) if convert else columns[at])
        per, returned = self.rows_per_statement, []
        for start in range(0, n, per):
            chunk = [column[start:start + per] for column in values]
            if self.arrays:
                sql, parameters = self.array_sql, tuple(map(list, chunk))
            else:  # row by row, in the statement's parameter order
                sql, parameters = self._values_sql(len(chunk[0])), tuple(chain.from_iterable(zip(*chunk)))
            result = conn.exec_driver_sql(sql, parameters)
            if result.returns_rows:
                returned.extend(result.all())
        return returned

    def _values_sql(self, count: int) -> str:
        sql = self.sql.get(count)
        if sql is None:
            sql = self.sql[count] = f"{self.head}{', '.join([self.group] * count)}{self.tail}"
        return sql


# Bound parameters one statement may hold: SQLite's default limit since 3.32, PostgreSQL's protocol limit.
_MAX_PARAMETERS = {"sqlite": 32766, "postgresql": 65535}


def _positional(dialect: Dialect) -> Dialect:
    """The dialect, or for a named paramstyle (psycopg's pyformat) the same dialect with %s placeholders, so a
    row's placeholder group can be repeated and its parameters passed as one flat sequence."""
    if dialect.positional:
        return dialect
    return type(dialect)(paramstyle="format")


def _column_converter(column_type, dialect: Dialect):
    """A function(values, texts) converting a whole column of values as the type's bind processor would, or
    None; `texts` is a dict the UTC formatter on SQLite shares between the columns of one statement."""
    if isinstance(column_type, UTCDateTime):
        if dialect.name == "sqlite":
            return _sqlite_utc_texts
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        utc = timezone.utc
        # PostgreSQL takes zone-aware datetimes as they are: only other zones (and naive ones) need the processor
        return lambda values, _: [v if v is None or v.tzinfo is utc else processor(v) for v in values]
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return None
    if isinstance(column_type, Boolean) and not dialect.supports_native_boolean:  # 1/0, as the processor makes
        return lambda values, _: [1 if v is True else 0 if v is False else processor(v) for v in values]
    return lambda values, _: list(map(processor, values))


def _sqlite_utc_texts(values, texts: dict) -> list:
    """_sqlite_utc_text of each value, the common case (UTC or None) inlined.

    `texts` maps id(moment) -> text for the moments of the rows being written, which stay alive (so their ids
    stay theirs) until the caller's last statement is built: the same object often fills several columns (a 112 call's first_response_at is
    its received_at, its closed_at its resolved_at) and is formatted once."""
    utc, out, known = timezone.utc, [], texts.get
    for value in values:
        if value is not None:
            key = id(value)
            text = known(key)
            if text is None:
                if value.tzinfo is utc:
                    text = value.isoformat(" ")[:-6]
                    if not value.microsecond:
                        text += ".000000"
                else:
                    text = _sqlite_utc_text(value)
                texts[key] = text
            value = text
        out.append(value)
    return out


_KEYS_PER_QUERY = 2000  # source ids looked up per query (within SQLite's bound-parameter limit when expanded)


def _reporter_upsert(dialect: str):
    statement = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect](ReporterContact.__table__)
    return statement.on_conflict_do_update(
        index_elements=["complaint_id"], set_={f: statement.excluded[f] for f in REPORTER_FIELDS}
    )


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


_TIMES = ("first_response_at", "resolved_at", "closed_at")


def _key_style(conn: Connection) -> str:
    """How a list of source ids is bound: 'array' (PostgreSQL), 'json' (SQLite with JSON functions, built in
    since 3.38) or 'expanding' (one parameter per id, for an SQLite built without them)."""
    if conn.dialect.name == "postgresql":
        return "array"
    try:
        conn.exec_driver_sql("SELECT count(*) FROM json_each('[]')").scalar()
        return "json"
    except DBAPIError:
        return "expanding"


def _by_keys(style: str, *columns):
    """SELECT columns of the channel's complaints whose source_id is in the list bound as `keys`: with the
    'array' and 'json' styles one parameter whatever the list's length, so neither SQLAlchemy nor the driver
    handles the ids one by one; the (channel, source_id) index serves every style."""
    if style == "array":
        # A join with the unnested ids, not `source_id = ANY(:keys)`: before ANALYZE has seen the new rows
        # PostgreSQL planned ANY() as a scan of the channel's whole (channel, received_at) range filtered by
        # the list (0.4 s per 2,000 ids at 20k rows, quadratic in the table). The join probes the unique
        # (channel, source_id) index once per id whatever the statistics say.
        wanted = func.unnest(bindparam("keys", type_=postgresql.ARRAY(String))).table_valued("value").render_derived("k")
        return (select(*columns).select_from(wanted)
                .join(Complaint.__table__, and_(C.channel == bindparam("channel"), C.source_id == wanted.c.value)))
    if style == "json":
        keys = C.source_id.in_(select(column("value")).select_from(func.json_each(bindparam("keys"))))
    else:
        keys = C.source_id.in_(bindparam("keys", expanding=True))
    return select(*columns).where(C.channel == bindparam("channel"), keys)


def _key_list(style: str, keys: list[str]):
    return json.dumps(keys) if style == "json" else keys


_STORED = (C.source_id, C.id, C.row_hash, C.status, *(C[name] for name in _TIMES), C.last_run_id, C.received_at)


def _existing_query(style: str):
    """The stored state a re-import compares with; times come back unprocessed, converted only when needed.

    With the 'json' style (SQLite) the whole answer is one JSON array in one row: sqlite3 gives up the GIL and
    takes it back for every row it steps to, which a writer thread pays for each time (it waits for the parsing
    thread to let go), while one row is one wait."""
    if style == "json":
        return _by_keys(style, func.json_group_array(func.json_array(*_STORED)))
    return _by_keys(style, *(type_coerce(c, NullType()).label(c.name) if c.name in (*_TIMES, "received_at") else c
                             for c in _STORED))


def _ids_query(style: str):
    """source_id -> id of the given source ids as one JSON object ('json' style only; see _existing_query): on
    SQLite cheaper than RETURNING a row per complaint written."""
    return _by_keys(style, func.json_group_object(C.source_id, C.id)) if style == "json" else None


_AT = {name: i for i, name in enumerate(DATA_FIELDS)}
_SOURCE_ID, _STATUS, _STATUS_RAW = _AT["source_id"], _AT["status"], _AT["status_raw"]
_RECEIVED = _AT["received_at"]
_DISTRICT_RAW, _DISTRICT_CODE = _AT["district_raw"], _AT["district_code"]
_AGENCY_RAW, _AGENCY_CODE = _AT["agency_raw"], _AT["agency_code"]
_EVENT_FIELDS = itemgetter(*(_AT[f] for f in ("status", "received_at", "first_response_at", "resolved_at",
                                              "closed_at")))


_TIME_AT = tuple(i for i, name in enumerate(DATA_FIELDS) if isinstance(Complaint.__table__.c[name].type, UTCDateTime))


def _entry(record: ComplaintIn) -> tuple:
    """(field values in DATA_FIELDS order, row hash, reporter dump): what writing a record needs that does not
    depend on the database, worked out on the reading side (with a writer thread: off its busy path)."""
    values = _DATA_VALUES(record.__dict__)
    reporter = record.reporter.model_dump() if record.reporter is not None else None
    return values, _hash_values(values, reporter), reporter


def _sqlite_texts_of(batch: list[tuple]) -> dict:
    """The _sqlite_utc_texts memo (id(moment) -> text) of a batch's times (entries from _entry), made ahead of its flush: the
    batch's tuples keep the moments alive, so their ids stay theirs until it is written."""
    texts: dict = {}
    for at in _TIME_AT:
        _sqlite_utc_texts([entry[0][at] for entry in batch], texts)
    return texts


class _Importer:
    def __init__(self, connector: Connector, conn: Connection, summary: RunSummary, observed_default: datetime):
        self.connector = connector
        self.conn = conn
        self.summary = summary
        self.observed_default = observed_default
        dialect = conn.dialect
        self.sqlite = dialect.name == "sqlite"
        self.key_style = _key_style(conn)
        self.existing_query = _existing_query(self.key_style)
        self.ids_query = _ids_query(self.key_style)  # None: the upsert returns the ids
        self.upsert = _Bulk(_upsert_statement(dialect.name), (*DATA_FIELDS, "row_hash"), dialect,
                            constants=("first_seen_at", "last_changed_at", "last_run_id"),
                            returning=("source_id", "id") if self.ids_query is None else ())
        self.events = _Bulk(insert(ComplaintStatusEvent.__table__),
                            ("complaint_id", "previous_status", "status", "status_raw", "observed_at", "time_basis"),
                            dialect, constants=("run_id",))
        self.reporters = _Bulk(_reporter_upsert(dialect.name), ("complaint_id", *REPORTER_FIELDS), dialect)
        self.time_result = C.first_response_at.type.dialect_impl(dialect).result_processor(dialect, None)
        self.committed = _COUNTS_ZERO  # the counts of what is durably stored, for a run that fails later
        self.since: str | None = None  # the channel's cursor when the run started
        self.repeated = False  # an id written by an earlier batch of this run came again

    @property
    def observed_at(self) -> datetime:
        return self.connector.observed_at or self.observed_default

    def quarantine(self, raw: dict, reason: str) -> None:
        self.summary.quarantined += 1
        self.summary.quarantine_reasons[reason.split(":")[0][:80]] += 1
        source_id = (self.connector.source_id_of(raw) or None) if isinstance(raw, dict) else None
        self.conn.execute(insert(QuarantinedRecord.__table__), [{
            "run_id": self.summary.run_id, "channel": self.connector.name,
            # cut to the column: an absurd id is a reason to quarantine, never to fail the import (whole in raw)
            "source_id": source_id and source_id[:200],
            "reason": reason, "raw": _raw_json(raw) if isinstance(raw, dict) else repr(raw),
            "created_at": utcnow(),
        }])

    def _existing(self, channel: str, keys: list[str]) -> dict[str, tuple]:
        """source_id -> (id, row_hash, status, raw first_response_at, resolved_at, closed_at, last_run_id,
        raw received_at), one query a batch."""
        found = {}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            bound = _key_list(self.key_style, keys[start:start + _KEYS_PER_QUERY])
            result = self.conn.execute(self.existing_query, {"channel": channel, "keys": bound})
            rows = json.loads(result.scalar_one()) if self.key_style == "json" else result.all()
            for row in rows:
                found[row[0]] = tuple(row[1:])
        return found

    def _written_ids(self, channel: str, keys: list[str]) -> dict[str, int]:
        """source_id -> id of the complaints just written (with ids_query: one JSON object per query)."""
        ids = {}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            bound = _key_list(self.key_style, keys[start:start + _KEYS_PER_QUERY])
            ids.update(json.loads(self.conn.execute(self.ids_query, {"channel": channel, "keys": bound}).scalar_one()))
        return ids

    def _old(self, stored: tuple) -> dict:
        convert = self.time_result or (lambda value: value)
        return {"status": stored[2], **{name: convert(stored[3 + i]) for i, name in enumerate(_TIMES)},
                "received_at": convert(stored[7])}

    def flush(self, batch: list[tuple], observed: datetime, texts: dict | None = None) -> None:
        """Write a batch of record entries (_entry); `observed`: the moment their statuses were true; `texts`: the
        batch's times already formatted for SQLite (_sqlite_texts_of), if the reading side had time to."""
        if not batch:
            return
        channel = self.connector.name
        existing = self._existing(channel, [values[_SOURCE_ID] for values, _, _ in batch])
        now = utcnow()
        summary = self.summary
        rows, transitions, reporters = [], [], {}
        moved_from = []  # receipt moments an update moved away from: their days' rollups change too
        for values, digest, reporter in batch:
            if values[_DISTRICT_RAW] and values[_DISTRICT_CODE] is None:
                summary.unmapped_district += 1
            if values[_AGENCY_RAW] and values[_AGENCY_CODE] is None:
                summary.unmapped_agency += 1
            source_id = values[_SOURCE_ID]
            stored = existing.get(source_id)
            if stored is not None and stored[6] == summary.run_id:
                self.repeated = True
            if stored is None:
                summary.inserted += 1
                transitions.append((source_id, None, values))
            elif stored[1] == digest:
                summary.unchanged += 1
                continue
            else:
                summary.updated += 1
                old = self._old(stored)
                moved_from.append(old["received_at"])
                data = dict(zip(DATA_FIELDS, values))
                _derive_times(data, old, observed)
                values = _DATA_VALUES(data)
                if old["status"] != values[_STATUS]:
                    transitions.append((source_id, old["status"], values))
            rows.append((*values, digest))
            if reporter is not None:
                reporters[source_id] = reporter
        if not rows:
            return
        texts = {} if texts is None else texts  # SQLite texts of moments, shared by the batch's statements
        written = self.upsert.execute(self.conn, rows, (now, now, summary.run_id), texts)
        if self.ids_query is None:
            ids = dict(written)  # source_id -> id, RETURNING
        else:
            ids = self._written_ids(channel, [row[_SOURCE_ID] for row in rows])
        self._write_events_and_reporters(transitions, reporters, observed, ids, texts)
        # in the same transaction as the rows: the daily rollup knows which days to rebuild (metrics/daily.py)
        daily_marks.mark_received(self.conn, [row[_RECEIVED] for row in rows] + moved_from,
                            self.connector.region.timezone)

    def _write_events_and_reporters(self, transitions, reporters, observed, ids: dict, texts: dict) -> None:
        """Status events and reporter contacts; `ids`: source_id -> id of every complaint the batch wrote."""
        self.events.execute(self.conn, [
            (ids[source_id], previous, values[_STATUS], values[_STATUS_RAW],
             *_event_time(*_EVENT_FIELDS(values), observed))
            for source_id, previous, values in transitions
        ], (self.summary.run_id,), texts)
        self.reporters.execute(self.conn, [(ids[s], *(r[f] for f in REPORTER_FIELDS)) for s, r in reporters.items()])


def _event_time(status: str, received_at: datetime, first_response_at: datetime | None,
                resolved_at: datetime | None, closed_at: datetime | None, observed: datetime) -> tuple[datetime, str]:
    """(observed_at, time_basis): the source's own timestamp for the status it reports, when it has one."""
    if status == "resolved":
        source_moment = resolved_at
    elif status == "closed":
        source_moment = closed_at or resolved_at
    elif status == "in_progress":
        source_moment = first_response_at
    else:
        source_moment = None
    if source_moment is not None:
        return source_moment, "source"
    return max(observed, received_at), "observed"


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
               source_sha256: str | None = None, batch_size: int = 2000, overlap: bool | None = None,
               parse_process: bool = False) -> RunSummary:
    """Run one import of `connector` and return its summary; the run and its counts are recorded either way.

    `overlap`: write on a thread of its own while this one reads and parses (_WriterThread). By default file
    imports do (one transaction, possibly a million rows); polls write inline (small batches, each committed).
    `parse_process`: read and parse a file in a forked process (_parsed_elsewhere); for the command line, whose
    process holds nothing else (a server's threads and connections are no place to fork from)."""
    engine = engine or get_engine()
    summary = RunSummary(channel=connector.name, source=source)
    summary.run_id = _start_run(engine, connector.name, source, source_sha256)
    with engine.connect() as conn:
        if overlap is None:
            overlap = not connector.incremental and _usable_from_another_thread(conn)
        importer = _Importer(connector, conn, summary, observed_default=utcnow())
        writer = _WriterThread() if overlap else _Inline()
        parse_process = parse_process and not connector.incremental and _can_fork()
        try:
            _consume(connector, conn, importer, writer, batch_size, parse_process=parse_process)
            if importer.repeated and not connector.incremental:
                # An id came again after its batch was written: read the file once more knowing the repeats,
                # so the later row wins as it does within a batch and a re-import finds everything unchanged.
                writer.call(conn.rollback)
                _reset_counts(summary)
                importer.repeated = False
                _consume(connector, conn, importer, writer, batch_size, superseded=_repeats(connector),
                         parse_process=parse_process)
            summary.state = "succeeded"
            writer.call(_finish_run, conn, summary)
            writer.call(conn.commit)
            writer.close()
        except Exception as exc:
            exc = writer.stop() or exc  # a failed write came before whatever the reading side raised since
            conn.rollback()
            rewind = (connector.name, importer.since) if isinstance(exc, IncompleteSource) else None
            _record_failure(engine, summary, exc, importer.committed, rewind)
            if not isinstance(exc, SourceError):
                raise exc
        finally:
            writer.stop()  # (a KeyboardInterrupt): no write outlives the connection
    return summary


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _usable_from_another_thread(conn: Connection) -> bool:
    """False for an SQLite connection opened with check_same_thread (SQLAlchemy opens file databases without it,
    in-memory ones with it): probed by opening a cursor on another thread, which such a connection refuses."""
    if conn.dialect.name != "sqlite":
        return True
    dbapi_connection = conn.connection.dbapi_connection
    usable = []

    def probe() -> None:
        try:
            dbapi_connection.cursor().close()
        except Exception:  # noqa: BLE001 - sqlite3.ProgrammingError: created in another thread
            return
        usable.append(True)

    thread = threading.Thread(target=probe, name="sigap-import-probe")
    thread.start()
    thread.join()
    return bool(usable)


def _repeats(connector: Connector) -> Counter:
    """source_id -> how many of its valid rows a later row of the same id supersedes."""
    seen: Counter = Counter()
    for raw in connector.fetch(None):
        try:
            seen[connector.parse(raw).source_id] += 1
        except PARSE_ERRORS:
            continue
    return Counter({source_id: n - 1 for source_id, n in seen.items() if n > 1})


def _reset_counts(summary: RunSummary) -> None:
    for key in _COUNTS_ZERO:
        setattr(summary, key, 0)
    summary.quarantine_reasons.clear()


def _consume(connector: Connector, conn: Connection, importer: _Importer, writer, batch_size: int,
             superseded: Counter | None = None, parse_process: bool = False) -> None:
    """Read and parse on this thread (or, with `parse_process`, take what a forked process read and parsed);
    every step on the connection goes through `writer`, in order, together with the counts of the rows read
    since the previous step (so each step sees the summary it would see if everything ran on one thread)."""
    since = importer.since = writer.call(read_cursor, conn, connector.name)
    counts = _ReadCounts(importer.summary)
    parsed = _parsed_elsewhere(connector, since) if parse_process else _parsed_here(connector, since)
    with closing(parsed):  # a failed write ends the parsing process now, not when the traceback is dropped
        _read_into_batches(connector, conn, importer, writer, batch_size, superseded, counts, parsed)


def _read_into_batches(connector: Connector, conn: Connection, importer: _Importer, writer, batch_size: int,
                       superseded: Counter | None, counts: _ReadCounts, parsed) -> None:
    """Parsed rows into batches of distinct ids handed to the writer; quarantined rows handed on as they come."""
    batch: dict[str, tuple] = {}  # source_id -> _entry(record)
    cursor = None
    for raw, entry, moved, error in parsed:
        counts.read += 1
        if error is not None:
            writer.submit(counts.then(importer.quarantine), raw, error)
            continue
        source_id = entry[0][_SOURCE_ID]
        if superseded and superseded[source_id] > 0:
            superseded[source_id] -= 1  # a later row of the file has this id: it wins
            counts.unchanged += 1
            continue
        if source_id in batch:
            # The same id again in one source (a 112 call logged open, then finished): the later row
            # supersedes the earlier one, which counts as unchanged, so re-imports stay idempotent.
            counts.unchanged += 1
            del batch[source_id]
        batch[source_id] = entry
        if moved and (cursor is None or moved > cursor):
            cursor = moved
        if len(batch) >= batch_size:
            _hand_over(writer, counts, importer, list(batch.values()))
            batch = {}
            if connector.incremental:
                writer.submit(counts.then(_checkpoint), conn, importer, cursor)
    _hand_over(writer, counts, importer, list(batch.values()))
    writer.call(counts.then(_advance_cursor), conn, connector.name, cursor)  # returns once all is written


def _parsed_here(connector: Connector, since: str | None):
    """(raw, _entry(record), cursor it moves to, None), or (raw, None, None, quarantine reason), per row."""
    for raw in connector.fetch(since):
        try:
            record = connector.parse(raw)
        except PARSE_ERRORS as exc:
            yield raw, None, None, describe_error(exc)
            continue
        yield raw, _entry(record), connector.cursor_of(raw), None


_PARSED_PER_MESSAGE = 500


def _parsed_elsewhere(connector: Connector, since: str | None):
    """_parsed_here, run in a forked process that streams its results back: reading, parsing, validation and
    row hashes (most of a file import's Python work) then use a core of their own while this process writes.
    Rows parsed well come back without their raw content (only quarantined rows need it); the connector's
    observed_at comes with every message (a LAPOR export sets it while it is read)."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_parse_and_send, args=(connector, since, sending, receiving),
                            name="sigap-import-parser", daemon=True)
    child.start()
    sending.close()
    try:
        while True:
            message = receiving.recv()
            if message[0] == "rows":
                connector.observed_at = message[1]
                yield from message[2]
            elif message[0] == "raise":
                raise message[1]
            else:
                return
    except EOFError:
        raise SourceError("the parsing process ended without finishing the file") from None
    finally:
        receiving.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _parse_and_send(connector: Connector, since: str | None, sending, receiving) -> None:
    """The forked parser: every row of the source through _parsed_here, sent in messages of a few hundred.

    It closes its copy of the receiving end first: if the importing process dies (kill -9), the pipe then has
    no reader and the next send fails, so the parser ends instead of waiting forever for a reader (itself)."""
    receiving.close()
    try:
        entries = []
        for raw, entry, moved, error in _parsed_here(connector, since):
            entries.append((raw if error is not None else None, entry, moved, error))
            if len(entries) >= _PARSED_PER_MESSAGE:
                sending.send(("rows", connector.observed_at, entries))
                entries = []
        sending.send(("rows", connector.observed_at, entries))
        sending.send(("end",))
    except BaseException as exc:  # noqa: BLE001 - raised again on the importing side
        try:
            sending.send(("raise", exc))
        except OSError:  # nobody is reading any more (the importing process has gone)
            pass
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled
            sending.send(("raise", SourceError(describe_error(exc))))
    finally:
        sending.close()


def _hand_over(writer, counts: _ReadCounts, importer: _Importer, batch: list[tuple]) -> None:
    """Hand a batch to the writer. When the writer is behind (steps waiting: records arrive faster than they are
    written, as when they come already validated), the reading side also formats the batch's times for SQLite,
    which would otherwise be the writer's largest piece of Python work; when the reading side is the slower
    one (parsing a file), that stays with the writer."""
    texts = _sqlite_texts_of(batch) if importer.sqlite and writer.backlogged() else None
    writer.submit(counts.then(importer.flush), batch, importer.observed_at, texts)


class _ReadCounts:
    """Rows read, and rows a later row of the same id superseded, on the reading side since the last step it
    handed to the writer."""

    def __init__(self, summary: RunSummary):
        self.summary, self.read, self.unchanged = summary, 0, 0

    def then(self, step):
        """`step` preceded by adding these counts to the summary (on the writer's side: only it changes the
        summary while the import runs); the counts start again from zero here."""
        summary, read, unchanged = self.summary, self.read, self.unchanged
        self.read = self.unchanged = 0

        def counted(*args):
            summary.read += read
            summary.unchanged += unchanged
            return step(*args)

        return counted


class _Inline:
    """Steps run at once, on the calling thread (polls)."""

    @staticmethod
    def call(step, *args):
        return step(*args)

    submit = call

    @staticmethod
    def backlogged() -> bool:
        return False

    def close(self) -> None:
        pass

    def stop(self) -> BaseException | None:
        return None


class _WriterThread:
    """A thread that owns the import's connection while the calling thread reads and parses: it runs every
    step handed to it (lookups, upserts, events, quarantine rows, cursor moves, commit) in the order handed.
    sqlite3 and psycopg release the GIL while a statement runs, so the database work overlaps the parsing of
    the next batch on the other core. At most `depth` steps wait (a few batches in memory). The first step
    that raises stops the rest: the caller gets its exception at the next hand-over, call or close."""

    def __init__(self, depth: int = 3):
        self._steps: queue.Queue = queue.Queue(depth)
        self._error: BaseException | None = None
        self._abandoned = False
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="sigap-import-writer", daemon=True)
        _short_switches.enter()
        try:
            self._thread.start()
        except BaseException:
            _short_switches.leave()
            raise

    def _run(self) -> None:
        while (item := self._steps.get()) is not None:
            step, args, reply = item
            if self._error is None and not self._abandoned:
                try:
                    result = step(*args)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    self._error = exc
                else:
                    if reply is not None:
                        reply.append(result)
            if reply is not None:
                reply.done.set()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, step, *args) -> None:
        self._raise()
        self._steps.put((step, args, None))

    def backlogged(self) -> bool:
        """Steps are waiting for the writer (it is behind the reading side)."""
        return not self._steps.empty()

    def call(self, step, *args):
        """Run `step` after everything handed before it and return its result."""
        self._raise()
        reply = _Reply()
        self._steps.put((step, args, reply))
        reply.done.wait()
        self._raise()
        return reply[0]

    def close(self) -> None:
        """Wait for the steps handed so far; raise the first step's exception, if any."""
        self._finish()
        self._raise()

    def stop(self) -> BaseException | None:
        """Drop the steps not started yet, wait for the one running; the exception a step raised, if any."""
        self._abandoned = True
        self._finish()
        return self._error

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._thread.is_alive():
            self._steps.put(None)
            self._thread.join()
        _short_switches.leave()


class _ShortSwitches:
    """Python's GIL switch interval lowered while any writer thread runs. A writer whose statement has finished
    waits for the GIL until the parsing thread is made to drop it: 5 ms by default, once per statement, which
    left the writer idle about half the time (measured: 100k-row 112 import, wall 7.4 s at 5 ms, 6.4 s at
    0.2 ms, CPU time the same)."""

    INTERVAL = 0.0002

    def __init__(self):
        self._lock = threading.Lock()
        self._writers = 0
        self._saved = None

    def enter(self) -> None:
        with self._lock:
            if self._writers == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, self.INTERVAL))
            self._writers += 1

    def leave(self) -> None:
        with self._lock:
            self._writers -= 1
            if self._writers == 0:
                sys.setswitchinterval(self._saved)


_short_switches = _ShortSwitches()


class _Reply(list):
    """A step's result, once `done` is set."""

    def __init__(self):
        super().__init__()
        self.done = threading.Event()


def _checkpoint(conn: Connection, importer: _Importer, cursor: str | None) -> None:
    _advance_cursor(conn, importer.connector.name, cursor)
    _finish_run(conn, importer.summary)  # counts so far, in the same transaction as the data they count
    conn.commit()
    importer.committed = {k: getattr(importer.summary, k) for k in _COUNTS_ZERO}


def _record_failure(engine: Engine, summary: RunSummary, exc: Exception, committed: dict,
                    rewind: tuple[str, str | None] | None = None) -> None:
    """Record a failed run with the counts of what was durably stored before the failure (zero for files);
    `rewind` = (channel, cursor) puts the channel's cursor back, in the same transaction."""
    summary.state = "failed"
    summary.error = describe_error(exc) if isinstance(exc, (SourceError, RecordError)) else f"{type(exc).__name__}: {exc}"
    for key, value in committed.items():
        setattr(summary, key, value)
    with engine.begin() as conn:
        _finish_run(conn, summary)
        if rewind is not None:
            table = ChannelState.__table__
            conn.execute(update(table).where(table.c.channel == rewind[0]).values(
                cursor=rewind[1], cursor_updated_at=utcnow()))
