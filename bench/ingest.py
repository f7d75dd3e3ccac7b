"""Ingest: the pipeline's upsert of N validated records against a bare executemany of the same rows.

The pipeline runs exactly as imports run it (`connectors.pipeline.run_import`, one run per channel, with a
connector whose records are already validated), so what is timed is the upsert path: existing-row lookup,
row hash, derived times, INSERT ... ON CONFLICT, status events, reporter contacts and the run summary.
The bare side is the practical limit: one `executemany` of the final column values (prepared beforehand)
with the same INSERT ... ON CONFLICT statement, in one transaction, on an identically configured database.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy.dialects import postgresql, sqlite

from bench.common import Timing, Workspace, sqlite_connect, timed
from connectors.base import Connector
from models import Complaint, ComplaintIn, UTCDateTime
from models.tables import ComplaintBase

FIELDS = tuple(ComplaintBase.model_fields)
# in table order: the order the compiled INSERT takes its parameters
COLUMNS = tuple(c.name for c in Complaint.__table__.columns if c.name != "id")
TIME_COLUMNS = frozenset(c.name for c in Complaint.__table__.columns if isinstance(c.type, UTCDateTime))
BOOL_COLUMNS = frozenset(("is_anonymous", "is_confidential"))


class RecordsConnector(Connector):
    """A channel whose source hands over already validated records (the pipeline sees a normal connector)."""

    primary_key = "source_id"

    def __init__(self, channel: str, records: list[ComplaintIn], **shared):
        super().__init__(channel=channel, **shared)
        self.records = records

    def fetch(self, since=None):
        return iter(self.records)

    def parse(self, raw: ComplaintIn) -> ComplaintIn:
        return raw

    def source_id_of(self, raw) -> str | None:
        return getattr(raw, "source_id", None)


def upsert_sql(dialect_name: str) -> str:
    """The pipeline's INSERT ... ON CONFLICT (channel, source_id) DO UPDATE, as the database receives it,
    with its parameters in COLUMNS order."""
    dialect = {"sqlite": sqlite.dialect(paramstyle="qmark"), "postgresql": postgresql.dialect(paramstyle="format")}[
        dialect_name]
    insert_fn = sqlite.insert if dialect_name == "sqlite" else postgresql.insert
    statement = insert_fn(Complaint.__table__)
    keep = {"id", "channel", "source_id", "first_seen_at"}
    statement = statement.on_conflict_do_update(
        index_elements=["channel", "source_id"],
        set_={c.name: statement.excluded[c.name] for c in Complaint.__table__.columns if c.name not in keep})
    compiled = statement.compile(dialect=dialect, column_keys=list(COLUMNS))
    if list(compiled.positiontup) != list(COLUMNS):
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
    return str(compiled)


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def bare_rows(records: dict[str, list[ComplaintIn]], dialect_name: str) -> list[tuple]:
    """Every record as the tuple of column values the database stores (prepared outside the timing)."""
    now = datetime.now(timezone.utc)
    rows = []
    for channel_records in records.values():
        for record in channel_records:
            values = {**record.__dict__, "row_hash": uuid.uuid4().hex, "first_seen_at": now,
                      "last_changed_at": now, "last_run_id": None}
            row = []
            for name in COLUMNS:
                value = values[name]
                if dialect_name == "sqlite":
                    if name in TIME_COLUMNS:
                        value = _sqlite_time(value)
                    elif name in BOOL_COLUMNS:
                        value = int(value)
                row.append(value)
            rows.append(tuple(row))
    return rows


def connectors_for(records: dict[str, list[ComplaintIn]]) -> list[RecordsConnector]:
    from regions import load_region
    from regions.normalise import Resolver
    from regions.sla import SlaBook

    region = load_region("surabaya")
    shared = {"region": region, "resolver": Resolver(region), "sla": SlaBook(region)}
    return [RecordsConnector(channel, recs, **shared) for channel, recs in records.items()]


def run_pipeline(engine, connectors: list[RecordsConnector]) -> dict:
    """One import per channel through the real pipeline; returns the summed counts."""
    from connectors.pipeline import run_import

    totals = {"read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "quarantined": 0}
    for connector in connectors:
        summary = run_import(connector, engine, source="bench")
        if summary.state != "succeeded":
            raise RuntimeError(f"bench import of {connector.name} failed: {summary.error}")
        for key in totals:
            totals[key] += getattr(summary, key)
    return totals


def sqlite_ingest(workspace: Workspace, records: dict[str, list[ComplaintIn]], repeat: int,
                  keep_last: bool = True) -> dict:
    """Pipeline and bare, first load and re-import, `repeat` times each, interleaved; SQLite files."""
    from models.db import get_engine, reset_engines

    n = sum(len(r) for r in records.values())
    connectors = connectors_for(records)
    rows = bare_rows(records, "sqlite")
    sql = upsert_sql("sqlite")
    timings = {key: Timing() for key in ("pipeline_first", "pipeline_reimport", "bare_first", "bare_reimport")}
    counts = {}
    kept = None
    for rep in range(repeat):
        path = workspace.fresh(f"ingest-pipeline-{rep}")
        engine = get_engine(f"sqlite:///{path}")
        with timed(timings["pipeline_first"]):
            counts["first"] = run_pipeline(engine, connectors)
        with timed(timings["pipeline_reimport"]):
            counts["reimport"] = run_pipeline(engine, connectors)
        reset_engines()
        if counts["first"]["inserted"] != n or counts["reimport"]["unchanged"] != n:
            raise RuntimeError(f"unexpected pipeline counts for {n} records: {counts}")
        if keep_last and rep == repeat - 1:
            kept = path
        else:
            workspace.drop(path)

        path = workspace.fresh(f"ingest-bare-{rep}")
        conn = sqlite_connect(path)
        for key in ("bare_first", "bare_reimport"):
            with timed(timings[key]):
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
        stored = conn.execute("SELECT count(*) FROM complaint").fetchone()[0]
        conn.close()
        workspace.drop(path)
        if stored != n:
            raise RuntimeError(f"bare upsert stored {stored} of {n} rows")
    return {"timings": timings, "counts": counts, "database": kept}


def postgres_ingest(admin_url: str, records: dict[str, list[ComplaintIn]], repeat: int) -> dict:
    """The same comparison on PostgreSQL: a throw-away database per side and repetition, dropped afterwards."""
    import psycopg

    from models.db import _normalise_url, get_engine, prepare_database, reset_engines
    from regions import load_region

    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    n = sum(len(r) for r in records.values())
    connectors = connectors_for(records)
    rows = bare_rows(records, "postgresql")
    sql = upsert_sql("postgresql")
    timings = {key: Timing() for key in ("pipeline_first", "pipeline_reimport", "bare_first", "bare_reimport")}
    counts = {}

    def create() -> tuple[str, str]:
        name = f"sigap_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, admin.rsplit("/", 1)[0] + f"/{name}"

    def drop(name: str) -> None:
        reset_engines()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    region = load_region("surabaya")
    for _ in range(repeat):
        name, url = create()
        try:
            engine = prepare_database(get_engine(_normalise_url(url)), region)
            with timed(timings["pipeline_first"]):
                counts["first"] = run_pipeline(engine, connectors)
            with timed(timings["pipeline_reimport"]):
                counts["reimport"] = run_pipeline(engine, connectors)
        finally:
            drop(name)
        name, url = create()
        try:
            prepare_database(get_engine(_normalise_url(url)), region)
            reset_engines()
            with psycopg.connect(url) as conn:
                for key in ("bare_first", "bare_reimport"):
                    with timed(timings[key]):
                        with conn.cursor() as cursor:
                            cursor.executemany(sql, rows)
                        conn.commit()
                stored = conn.execute("SELECT count(*) FROM complaint").fetchone()[0]
            if stored != n:
                raise RuntimeError(f"bare upsert stored {stored} of {n} rows on PostgreSQL")
        finally:
            drop(name)
    return {"timings": timings, "counts": counts}
