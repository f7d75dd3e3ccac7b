"""Reference only: the overview / map aggregates of metrics/queries.py and metrics/geo.py in DuckDB on a Parquet
copy of the complaint table, to show how far the SQLite numbers are from a columnar engine.

DuckDB is not a Sigap dependency: it is imported lazily and everything here is skipped when it is missing.
The SQL below computes the same figures as the metric functions' queries for the same arguments (filters,
now, time zone), straight from the Parquet file (no DuckDB table, no index).
"""
from __future__ import annotations

import sqlite3
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

OPEN = ("new", "verified", "dispatched", "in_progress", "waiting_info")
RESOLVED = ("resolved", "closed")
NOT_ACTIONABLE = ("archived", "rejected")
TIME_COLUMNS = ("received_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolve_due_at")
COLUMNS = ("id", "channel", "source_id", "kind", "source_type", "category", "status", "district_code",
           "agency_code", "lat", "lon", *TIME_COLUMNS)


def available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def export_parquet(url: str, out: Path) -> float:
    """Copy the complaint table's queried columns to Parquet (times as naive UTC timestamps); seconds taken.

    `url` is the benchmark database: a sqlite:/// file, or PostgreSQL (streamed out with COPY to a CSV that
    DuckDB converts, so ten million rows never sit in pandas)."""
    began = time.perf_counter()
    if url.startswith("sqlite:///"):
        import pandas as pd

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        frame = pd.read_sql_query(f"SELECT {', '.join(COLUMNS)} FROM complaint", conn)
        conn.close()
        for name in TIME_COLUMNS:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        frame.to_parquet(out, index=False)
    else:
        import duckdb
        import psycopg

        csv = out.with_suffix(".csv")
        select = ", ".join(f"({c} AT TIME ZONE 'UTC') AS {c}" if c in TIME_COLUMNS else c for c in COLUMNS)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, csv.open("wb") as f:
            with conn.cursor().copy(f"COPY (SELECT {select} FROM complaint) TO STDOUT WITH (FORMAT csv, HEADER)") \
                    as copy:
                for block in copy:
                    f.write(block)
        types = {c: "TIMESTAMP" for c in TIME_COLUMNS} | {"lat": "DOUBLE", "lon": "DOUBLE", "id": "BIGINT"}
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', header=true, all_varchar=false, types={types!r})) "
                   f"TO '{out}' (FORMAT parquet)")
        csv.unlink()
    return time.perf_counter() - began


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})" if values else "TRUE"


def _dims(filters, kinds=True) -> str:
    parts = [_in("channel", filters.channels), _in("district_code", filters.districts),
             _in("agency_code", filters.agencies), _in("category", filters.categories)]
    if kinds:
        parts.append(_in("kind", filters.kinds))
    return " AND ".join(parts)


def _period(filters, tz, kinds=True) -> str:
    begin, finish = (_naive(b) for b in filters.bounds(tz))
    return f"{_dims(filters, kinds)} AND received_at >= TIMESTAMP '{begin}' AND received_at < TIMESTAMP '{finish}'"


def _overdue(now) -> str:
    now = _naive(now)
    return (f"(status IN {OPEN} AND (resolve_due_at < TIMESTAMP '{now}' OR "
            f"(first_response_at IS NULL AND response_due_at < TIMESTAMP '{now}')))")


def _hours(start: str, end: str) -> str:
    return f"(epoch({end}) - epoch({start})) / 3600.0"


def _sla(now, done: str, due: str) -> str:
    now = _naive(now)
    met = (f"coalesce(sum(CASE WHEN {done} IS NOT NULL AND {due} IS NOT NULL AND {done} <= {due} THEN 1 ELSE 0 END), "
           f"0)")
    missed = (f"coalesce(sum(CASE WHEN {due} IS NOT NULL AND ({done} > {due} OR ({done} IS NULL AND status IN {OPEN} "
              f"AND {due} < TIMESTAMP '{now}')) THEN 1 ELSE 0 END), 0)")
    return f"{met}, {missed}"


def headline(con, filters, now, tz):
    from metrics.filters import Filters

    local_today = now.astimezone(tz).date()
    today_start = _naive(Filters(local_today, local_today).bounds(tz)[0])
    period = _period(filters, tz)
    row = con.execute(f"""SELECT count(*),
        coalesce(sum(CASE WHEN received_at >= TIMESTAMP '{today_start}' THEN 1 ELSE 0 END), 0),
        coalesce(sum(CASE WHEN status IN {RESOLVED} THEN 1 ELSE 0 END), 0),
        coalesce(sum(CASE WHEN status NOT IN {NOT_ACTIONABLE} THEN 1 ELSE 0 END), 0),
        {_sla(now, 'first_response_at', 'response_due_at')}, {_sla(now, 'resolved_at', 'resolve_due_at')}
        FROM complaint WHERE {period}""").fetchone()
    current = con.execute(f"SELECT count(*), coalesce(sum(CASE WHEN {_overdue(now)} THEN 1 ELSE 0 END), 0) "
                          f"FROM complaint WHERE {_dims(filters)} AND status IN {OPEN}").fetchone()
    percentiles = [con.execute(f"SELECT quantile_cont({_hours('received_at', end)}, [0.5, 0.9]) FROM complaint "
                               f"WHERE {period} AND {end} IS NOT NULL").fetchone()[0]
                   for end in ("first_response_at", "resolved_at")]
    return row, current, percentiles


def by_channel(con, filters, now, tz):
    received = con.execute(f"SELECT channel, count(*) FROM complaint WHERE {_period(filters, tz)} "
                           f"GROUP BY channel").fetchall()
    current = con.execute(f"SELECT channel, count(*), sum(CASE WHEN {_overdue(now)} THEN 1 ELSE 0 END) FROM complaint "
                          f"WHERE {_dims(filters)} AND status IN {OPEN} GROUP BY channel").fetchall()
    return received, current


def daily_trend(con, filters, tz):
    from metrics.sql import utc_offset_hours

    day = f"CAST(received_at + INTERVAL {utc_offset_hours(tz)} HOUR AS DATE)"
    return con.execute(f"SELECT {day} AS day, channel, count(*) FROM complaint WHERE {_period(filters, tz)} "
                       f"GROUP BY ALL ORDER BY day").fetchall()


def most_overdue(con, filters, now, limit=10):
    return con.execute(f"SELECT id, channel, source_id, category, district_code, agency_code, status, received_at, "
                       f"coalesce(resolve_due_at, response_due_at) AS due FROM complaint "
                       f"WHERE {_dims(filters)} AND {_overdue(now)} ORDER BY due LIMIT {int(limit)}").fetchall()


def agency_ranking(con, filters, now, tz):
    period = _period(filters, tz)
    rows = con.execute(f"""SELECT agency_code, count(*), sum(CASE WHEN status IN {RESOLVED} THEN 1 ELSE 0 END),
        sum(CASE WHEN status NOT IN {NOT_ACTIONABLE} THEN 1 ELSE 0 END), {_sla(now, 'resolved_at', 'resolve_due_at')},
        quantile_cont({_hours('received_at', 'first_response_at')}, 0.5)
        FROM complaint WHERE {period} AND agency_code IS NOT NULL GROUP BY agency_code""").fetchall()
    overdue = con.execute(f"SELECT agency_code, count(*) FROM complaint WHERE {_dims(filters)} AND {_overdue(now)} "
                          f"GROUP BY agency_code").fetchall()
    previous = con.execute(f"SELECT agency_code, count(*) FROM complaint WHERE {_period(filters.previous(), tz)} "
                           f"GROUP BY agency_code").fetchall()
    return rows, overdue, previous


def district_counts(con, filters, now, tz):
    received = con.execute(f"SELECT district_code, count(*) FROM complaint WHERE {_period(filters, tz)} "
                           f"GROUP BY district_code").fetchall()
    current = con.execute(f"SELECT district_code, count(*), sum(CASE WHEN {_overdue(now)} THEN 1 ELSE 0 END) "
                          f"FROM complaint WHERE {_dims(filters)} AND status IN {OPEN} "
                          f"GROUP BY district_code").fetchall()
    return received, current


def emergency_calls(con, filters, tz):
    return con.execute(f"SELECT kind, coalesce(source_type, '?'), count(*) FROM complaint "
                       f"WHERE {_period(filters, tz, kinds=False)} "
                       f"AND kind IN ('emergency_call', 'non_emergency_call') "
                       f"GROUP BY kind, source_type").fetchall()


LOCATED = ("lat IS NOT NULL AND lon IS NOT NULL AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 "
           "AND NOT (lat = 0 AND lon = 0)")


def density_grid(con, filters, tz, cell_m=400.0, ref_lat=0.0):
    from metrics.geo import cell_degrees

    dlat, dlon = cell_degrees(cell_m, ref_lat)
    return con.execute(f"SELECT round(lat / {dlat}) AS r, round(lon / {dlon}) AS c, count(*) FROM complaint "
                       f"WHERE {_period(filters, tz)} AND {LOCATED} GROUP BY r, c").fetchall()


def recent_points(con, filters, now, tz, limit=1500):
    return con.execute(f"SELECT lat, lon, category, agency_code, district_code, channel, status, received_at, "
                       f"{_overdue(now)} FROM complaint WHERE {_period(filters, tz)} AND {LOCATED} "
                       f"ORDER BY received_at DESC, id DESC LIMIT {int(limit)}").fetchall()


EQUIVALENTS = {
    ("metrics.queries", "headline"): headline, ("metrics.queries", "by_channel"): by_channel,
    ("metrics.queries", "daily_trend"): daily_trend, ("metrics.queries", "most_overdue"): most_overdue,
    ("metrics.queries", "agency_ranking"): agency_ranking, ("metrics.queries", "district_counts"): district_counts,
    ("metrics.queries", "emergency_calls"): emergency_calls, ("metrics.geo", "density_grid"): density_grid,
    ("metrics.geo", "recent_points"): recent_points,
}


def time_calls(parquet: Path, calls: dict[str, list], repeat: int) -> dict[str, list[dict]]:
    """Per page: the DuckDB equivalent of each recorded call that has one, cold (fresh connection) and warm."""
    import duckdb

    out: dict[str, list[dict]] = {}
    for page, entries in calls.items():
        con = duckdb.connect()
        con.execute(f"CREATE VIEW complaint AS SELECT * FROM read_parquet('{parquet}')")
        timings = []
        for module, name, args in entries:
            fn = EQUIVALENTS.get((module, name))
            if fn is None:
                continue
            began = time.perf_counter()
            fn(con, *args)
            cold = time.perf_counter() - began
            warm = []
            for _ in range(repeat):
                began = time.perf_counter()
                fn(con, *args)
                warm.append(time.perf_counter() - began)
            timings.append({"function": f"{module}.{name}", "cold_s": round(cold, 4),
                            "warm_s": round(statistics.median(warm) if warm else cold, 4)})
        con.close()
        out[page] = timings
    return out
