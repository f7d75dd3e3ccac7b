"""Bulk-loaded databases for the page measurement: N generated complaints without the pipeline.

PostgreSQL: ten million records through the pipeline would take hours on two shared cores (and ten million validated
objects do not fit in memory), so the pages-at-10M measurement loads its rows with PostgreSQL's COPY instead:
the same generator (bench.data.complaint_columns, in chunks of a million with their own seeds), the same
column values the pipeline stores, into a database migrated by Alembic like any other. The ingest ratios on
PostgreSQL are measured separately, at a size the pipeline can run (`--ingest-rows`). Secondary indexes are
dropped before the load and rebuilt after it (what a bulk restore does), then the table is analysed.
"""
from __future__ import annotations

import io
import time
import uuid
from datetime import datetime, timezone

import numpy as np
import pandas as pd

CHUNK = 1_000_000


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(admin_url: str) -> tuple[str, str]:
    """(name, URL) of a new empty database next to the admin URL's."""
    import psycopg

    admin = _admin(admin_url)
    name = f"sigap_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    from models.db import reset_engines

    reset_engines()
    with psycopg.connect(_admin(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _chunk_csv(columns: dict[str, np.ndarray], names: tuple[str, ...], chunk_no: int, stamp: str) -> bytes:
    """One chunk as CSV in the table's column order (UTC times, empty = NULL)."""
    frame = pd.DataFrame({name: columns[name] for name in names if name in columns})
    if chunk_no:  # ids repeat across chunks drawn with their own seeds: keep (channel, source_id) unique
        frame["source_id"] = frame["source_id"] + f"-{chunk_no}"
    frame["row_hash"] = "bulk"  # an empty CSV field would be NULL
    frame["first_seen_at"] = frame["last_changed_at"] = stamp
    frame["last_run_id"] = None
    buffer = io.StringIO()
    frame[list(names)].to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    return buffer.getvalue().encode()


def load(url: str, rows: int, now: datetime | None = None, log=print) -> dict:
    """Migrate the database at `url`, COPY `rows` generated complaints into it, rebuild indexes, ANALYZE."""
    import psycopg

    from bench.data import complaint_columns
    from bench.ingest import COLUMNS
    from models import Complaint
    from models.db import _normalise_url, get_engine, prepare_database, reset_engines
    from regions import load_region

    region = load_region("surabaya")
    now = now or datetime.now(timezone.utc)
    prepare_database(get_engine(_normalise_url(url)), region)
    reset_engines()
    table = Complaint.__table__
    indexes = [index for index in table.indexes]
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    timings = {"generate_s": 0.0, "copy_s": 0.0}
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for index in indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        done = 0
        for chunk_no in range(-(-rows // CHUNK)):
            n = min(CHUNK, rows - done)
            began = time.perf_counter()
            data = _chunk_csv(complaint_columns(n, region, now, seed=7 + chunk_no), COLUMNS, chunk_no, stamp)
            timings["generate_s"] += time.perf_counter() - began
            began = time.perf_counter()
            with conn.cursor().copy(f"COPY complaint ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(data)
            timings["copy_s"] += time.perf_counter() - began
            done += n
            log(f"postgres load: {done:,} of {rows:,} rows copied")
        began = time.perf_counter()
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.schema import CreateIndex

        for index in indexes:
            conn.execute(str(CreateIndex(index).compile(dialect=postgresql.dialect())))
        timings["index_s"] = time.perf_counter() - began
        began = time.perf_counter()
        conn.execute("VACUUM ANALYZE complaint")
        timings["analyze_s"] = time.perf_counter() - began
        stored = conn.execute("SELECT count(*) FROM complaint").fetchone()[0]
    if stored != rows:
        raise RuntimeError(f"COPY stored {stored} of {rows} rows")
    timings["rollup_s"] = build_rollup(url, log)
    return {key: round(value, 1) for key, value in timings.items()}


def build_rollup(url: str, log=print) -> float:
    """Rows loaded around the pipeline are not marked for the daily rollup: mark every day and rebuild it, as
    an operator does after a bulk load (docs/OPERATIONS.md). Returns the seconds the rebuild took."""
    from metrics import daily
    from models.db import _normalise_url, get_engine
    from regions import load_region

    engine = get_engine(_normalise_url(url))
    with engine.begin() as conn:
        daily.mark_days(conn, [daily.EVERY_DAY])
    began = time.perf_counter()
    days = daily.refresh(engine, load_region("surabaya").timezone)
    seconds = time.perf_counter() - began
    log(f"daily rollup: {days} days rebuilt in {seconds:.1f} s")
    return seconds


def load_sqlite(path, rows: int, now: datetime | None = None, log=print) -> dict:
    """The same for a migrated SQLite file: one executemany per chunk of the stored column values (used when
    the pages are measured without the ingest measurement, e.g. `--skip-ingest`)."""
    from bench.common import sqlite_connect
    from bench.data import complaint_columns
    from bench.ingest import COLUMNS, upsert_sql
    from regions import load_region

    region = load_region("surabaya")
    now = now or datetime.now(timezone.utc)
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = upsert_sql("sqlite")
    conn = sqlite_connect(path)
    began, done = time.perf_counter(), 0
    for chunk_no in range(-(-rows // CHUNK)):
        n = min(CHUNK, rows - done)
        columns = complaint_columns(n, region, now, seed=7 + chunk_no)
        values = {}
        for name in COLUMNS:
            column = columns.get(name)
            if column is None:
                values[name] = [None] * n
            elif column.dtype.kind == "M":
                text = pd.DatetimeIndex(column).strftime("%Y-%m-%d %H:%M:%S.%f")
                values[name] = [None if v != v else v for v in text]
            elif column.dtype.kind == "f":
                values[name] = [None if v != v else v for v in column.tolist()]
            elif column.dtype.kind == "b":
                values[name] = column.astype(int).tolist()
            else:
                values[name] = column.tolist()
        if chunk_no:
            values["source_id"] = [f"{v}-{chunk_no}" for v in values["source_id"]]
        values["row_hash"] = [""] * n
        values["first_seen_at"] = values["last_changed_at"] = [stamp] * n
        conn.execute("BEGIN")
        conn.executemany(sql, list(zip(*(values[name] for name in COLUMNS))))
        conn.execute("COMMIT")
        done += n
        log(f"sqlite load: {done:,} of {rows:,} rows")
    conn.close()  # no ANALYZE: a database the pipeline filled has none either
    loaded = time.perf_counter() - began
    return {"load_s": round(loaded, 1), "rollup_s": round(build_rollup(f"sqlite:///{path}", log), 1)}


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.bulkload ADMIN_URL NAME ROWS`: create database NAME next to ADMIN_URL's and COPY-load
    ROWS complaints into it, for `python -m bench --pages-url` (a 10M load takes the better part of an hour
    on two shared cores, so it is kept apart from the measurement). Drop it afterwards with DROP DATABASE."""
    import argparse
    import json

    import psycopg

    parser = argparse.ArgumentParser(prog="python -m bench.bulkload")
    parser.add_argument("admin_url")
    parser.add_argument("name")
    parser.add_argument("rows", type=int)
    args = parser.parse_args(argv)
    admin = _admin(args.admin_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{args.name}"')
    url = admin.rsplit("/", 1)[0] + f"/{args.name}"
    print(json.dumps({"url": url, **load(url, args.rows, log=lambda m: print(m, flush=True))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
