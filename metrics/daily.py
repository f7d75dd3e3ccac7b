"""Daily rollups: the period figures of the dashboards added up from one row per local day, kind and dimension
value instead of the period's complaints (docs/METRICS.md, "Daily rollups").

Why: at 1M complaints the overview read ~86,000 rows of a 30-day period for every figure and computed
durations from text timestamps on SQLite (`python -m bench`, README "Performance"); the rollup holds a few
hundred rows per day whatever the volume, so page time stops growing with the table.

- `rollup_day` (models.DailyRollup): counts (received, resolved, actionable, SLA met/late, time known or not) and
  sparse duration histograms per (dimension, day, kind, value), dimensions `all`, `channel`, `district`,
  `agency`, `category`, `source_type`. Facts that change with the clock alone (open, overdue, SLA missed while
  still open) are not in it: the metric functions count those live from the open-now index.
- `rollup_pending` (models.RollupPending): days whose rows are out of date, marked by the import in the same
  transaction as the complaints (`mark_days`). `refresh` rebuilds those days from the complaint table.
- `rollup_watermark`: the highest complaint id a refresh has seen; rows inserted around the pipeline (bulk loads,
  fixtures) are found above it and their days treated as pending.
- Reading (`period_facts`): rollup rows for the period's up-to-date days, plus the pending days computed from
  the complaint table by the same aggregation (`aggregate`), so a figure is the same whether or not a refresh
  has run. Filters the rollup cannot answer (two dimensions at once, or one dimension grouped by another) are
  computed from the complaint table for the whole period, again by `aggregate`.

Percentiles come from the histograms (`percentiles_from`), the same way on every path: buckets at most 5% wide
holding the count and the sum of their values, so a percentile is off by less than a bucket's width (5% of
itself) and exact where its bucket holds one value; the response-times page's bucket edges are among them so
its coarse distribution is exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, delete, func, insert, or_, select, text, type_coerce, update
from sqlalchemy.engine import Connection, Engine

from metrics.filters import C, Filters
from metrics.daily_marks import EVERY_DAY, mark_days, mark_received  # noqa: F401 (part of this API)
from metrics.sql import fetch_columns
from models import RESPONDED_STATUSES, DailyRollup, Kind, RollupPending, RollupWatermark

R = DailyRollup.__table__.c
P = RollupPending.__table__.c
W = RollupWatermark.__table__.c
# Above this many unmarked new rows the rollup counts as out of date everywhere (read from the complaints)
# rather than listing their days on every page view.
UNMARKED_LIMIT = 50_000
DIMENSIONS = {"all": None, "channel": "channel", "district": "district_code", "agency": "agency_code",
              "category": "category", "source_type": "source_type"}
FILTER_DIMENSIONS = (("channels", "channel"), ("districts", "district"), ("agencies", "agency"),
                     ("categories", "category"))
COUNTS = ("n", "resolved", "actionable", "response_known", "resolution_known", "responded_time_unknown",
          "resolved_time_unknown", "response_met", "response_late", "resolution_met", "resolution_late")
MEASURES = ("response", "resolution")
RESOLVED = ("resolved", "closed")
NOT_ACTIONABLE = ("archived", "rejected")
RESPONDED = tuple(s.value for s in RESPONDED_STATUSES)
TIMES = ("received_at", "first_response_at", "resolved_at", "response_due_at", "resolve_due_at")
TEXTS = ("kind", "status", "channel", "district_code", "agency_code", "category", "source_type")
# The response-times page's distribution edges (hours): kept as bucket edges so its coarse buckets are exact.
COARSE_EDGES_H = (0, 1, 2, 4, 8, 12, 24, 48, 96, 168, 336, 720, 1440)
PG_REFRESH_LOCK = 0x5167AA  # one refresh at a time on a shared PostgreSQL database


def _edges(ratio: float = 1.05, first_h: float = 1 / 60, last_h: float = 2 * 365 * 24) -> np.ndarray:
    """0, one minute, then geometric steps of at most `ratio` that land exactly on every coarse edge."""
    edges, low = [0.0, first_h], first_h
    for high in [e for e in COARSE_EDGES_H if e > first_h] + [last_h]:
        steps = math.ceil(math.log(high / low) / math.log(ratio))
        edges += [low * (high / low) ** (i / steps) for i in range(1, steps)] + [float(high)]
        low = high
    return np.array(edges)


EDGES_H = _edges()
BUCKETS = len(EDGES_H)  # bucket i holds [EDGES_H[i], EDGES_H[i + 1]); the last one is open-ended


def bucket_of(hours: np.ndarray) -> np.ndarray:
    """Bucket number per duration; -1 for unknown (NaN). Negative durations count in the first bucket."""
    index = np.searchsorted(EDGES_H, hours, side="right") - 1
    index[index < 0] = 0
    index[np.isnan(hours)] = -1
    return index


# A histogram is one vector of 2 * BUCKETS numbers: the count of values in each bucket, then their sum (hours).
# The sum makes a bucket holding one value exact, and keeps a crowded bucket's mean right.

def known(histogram: np.ndarray) -> int:
    """How many values the histogram holds."""
    return int(histogram[:BUCKETS].sum())


def pack(histogram: np.ndarray) -> bytes:
    """Sparse float64 bytes: the number k of used buckets, their k numbers, k counts, k sums."""
    used = np.flatnonzero(histogram[:BUCKETS])
    return np.concatenate([[used.size], used, histogram[used], histogram[BUCKETS + used]]).astype("<f8").tobytes()


def unpack_rows(blobs: list[bytes]) -> np.ndarray:
    """One histogram row per blob, decoded together (one frombuffer, one scatter): one by one took 0.25 s for the
    3,600 rows of an agency ranking."""
    matrix = np.zeros((len(blobs), 2 * BUCKETS))
    if not blobs:
        return matrix
    data = np.frombuffer(b"".join(blobs), dtype="<f8")
    sizes = np.array([len(b) // 8 for b in blobs])
    used = (sizes - 1) // 3
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.repeat(np.arange(len(blobs)), used)
    # position of each used bucket's number inside `data`: its blob's start + 1 + its rank within the blob
    rank = np.arange(rows.size) - np.repeat(np.cumsum(used) - used, used)
    at = np.repeat(starts + 1, used) + rank
    buckets = data[at].astype(np.int64)
    step = np.repeat(used, used)
    matrix[rows, buckets] = data[at + step]
    matrix[rows, BUCKETS + buckets] = data[at + 2 * step]
    return matrix


def percentiles_from(histogram: np.ndarray, fractions=(0.5, 0.9)) -> list[float | None]:
    """percentile_cont of each fraction. Inside a bucket the values are taken as evenly spread around their
    mean (as widely as the bucket allows), so a bucket with one value gives that value exactly."""
    counts, sums = histogram[:BUCKETS], histogram[BUCKETS:]
    total = int(counts.sum())
    if not total:
        return [None for _ in fractions]
    cumulative = np.cumsum(counts)

    def value_at(position: int) -> float:  # the position-th smallest value (0-based)
        bucket = int(np.searchsorted(cumulative, position, side="right"))
        count = counts[bucket]
        mean = sums[bucket] / count
        if count == 1:
            return float(mean)
        low = EDGES_H[bucket]
        high = EDGES_H[bucket + 1] if bucket + 1 < BUCKETS else math.inf
        width = 2 * max(0.0, min(mean - low, high - mean))
        inside = position - (cumulative[bucket] - count)
        return float(mean - width / 2 + (inside + 0.5) / count * width)

    return interpolated(value_at, total, fractions)


def interpolated(value_at, total: int, fractions) -> list[float]:
    """percentile_cont of each fraction, given value_at(position): the position-th smallest of `total` values."""
    result = []
    for fraction in fractions:
        rank = fraction * (total - 1)
        below = math.floor(rank)
        low = value_at(below)
        result.append(low if rank == below else low + (rank - below) * (value_at(below + 1) - low))
    return result


# --- reading complaints and aggregating them -------------------------------------------------------------

def base_frame(conn: Connection, where: list) -> pd.DataFrame:
    """The columns the rollup is made of, for the complaints matching `where`, times as UTC datetimes."""
    sqlite = conn.dialect.name == "sqlite"
    # SQLite stores times as text: read it as text and parse it once per column (the column type's
    # per-value conversion took most of the time at 100,000 rows).
    times = [type_coerce(C[name], String).label(name) if sqlite else C[name] for name in TIMES]
    columns = fetch_columns(conn, select(*[C[name] for name in TEXTS], *times).where(*where), len(TEXTS) + len(TIMES))
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip([*TEXTS, *TIMES], columns)})
    for name in TIMES:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


@dataclass
class Facts:
    """Rollup rows (columns day, kind, value and COUNTS; value '' = unknown) and, row for row, the duration
    histograms of each measure."""

    rows: pd.DataFrame
    response: np.ndarray
    resolution: np.ndarray

    def histogram(self, measure: str) -> np.ndarray:
        return self.response if measure == "response" else self.resolution

    def grouped(self, keys: list[str]) -> "Facts":
        """Summed per distinct `keys` (e.g. ["value"], ["day"], []) ; rows keep only the keys and counts."""
        if not keys:
            codes = np.zeros(len(self.rows), dtype=np.int64)
            rows = pd.DataFrame([self.rows[list(COUNTS)].sum()]) if len(self.rows) else _empty_rows([])
            groups = 1 if len(self.rows) else 0
        else:
            codes, keys_frame = _group_codes(self.rows, keys)
            groups = len(keys_frame)
            sums = _sum_by(codes, groups, self.rows[list(COUNTS)].to_numpy(dtype=np.int64))
            rows = pd.concat([keys_frame, pd.DataFrame(sums, columns=list(COUNTS))], axis=1)
        matrices = [_sum_by(codes, groups, matrix) for matrix in (self.response, self.resolution)]
        return Facts(rows.reset_index(drop=True), *matrices)

    def where(self, mask: np.ndarray) -> "Facts":
        return Facts(self.rows[mask].reset_index(drop=True), self.response[mask], self.resolution[mask])


def _sum_by(codes: np.ndarray, groups: int, matrix: np.ndarray) -> np.ndarray:
    """Rows of `matrix` summed per group number (0 .. groups-1, every one present): sorted and reduced at the
    group boundaries; numpy's add.at took most of a ranking's rollup time."""
    if not len(codes):
        return np.zeros((groups, matrix.shape[1]), dtype=matrix.dtype)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.flatnonzero(np.diff(codes[order])) + 1])
    return np.add.reduceat(matrix[order], starts, axis=0)


def _group_codes(rows: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """A group number per row for the distinct combinations of `keys`, and those combinations (first-seen order)."""
    combined = np.zeros(len(rows), dtype=np.int64)
    levels = []
    for key in keys:
        codes, names = pd.factorize(rows[key])
        combined = combined * max(len(names), 1) + codes
        levels.append((key, np.asarray(names, dtype=object), max(len(names), 1)))
    _, first, codes = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first)  # keep first-seen order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first_rows = rows.iloc[first[order]]
    return rank[codes], pd.DataFrame({key: first_rows[key].to_numpy(dtype=object) for key in keys})


def _empty_rows(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys},
                         **{c: pd.Series(dtype=np.int64) for c in COUNTS}})


def _empty_facts() -> Facts:
    return Facts(_empty_rows(["day", "kind", "value"]), np.zeros((0, 2 * BUCKETS)), np.zeros((0, 2 * BUCKETS)))


def aggregate(frame: pd.DataFrame, tz: ZoneInfo, dims: tuple[str, ...]) -> dict[str, Facts]:
    """Complaint rows (base_frame) -> Facts per dimension, grouped by local day, kind and the dimension's value."""
    if frame.empty:
        return {dim: _empty_facts() for dim in dims}
    received = frame["received_at"]
    day_codes, day_values = pd.factorize(received.dt.tz_convert(tz).dt.normalize())
    day_names = np.asarray(day_values.strftime("%Y-%m-%d"), dtype=object)
    status = frame["status"]
    responded_at, resolved_at = frame["first_response_at"], frame["resolved_at"]
    response_due, resolve_due = frame["response_due_at"], frame["resolve_due_at"]
    flags = np.column_stack([
        np.ones(len(frame), dtype=np.int64),
        status.isin(RESOLVED), ~status.isin(NOT_ACTIONABLE),
        responded_at.notna(), resolved_at.notna(),
        status.isin(RESPONDED) & responded_at.isna(), status.isin(RESOLVED) & resolved_at.isna(),
        response_due.notna() & (responded_at <= response_due), response_due.notna() & (responded_at > response_due),
        resolve_due.notna() & (resolved_at <= resolve_due), resolve_due.notna() & (resolved_at > resolve_due),
    ]).astype(np.int64)
    hours = [((done - received).dt.total_seconds() / 3600).to_numpy(dtype=float)
             for done in (responded_at, resolved_at)]
    kind_codes, kind_names = pd.factorize(frame["kind"])
    result = {}
    for dim in dims:
        column = DIMENSIONS[dim]
        value_codes, value_names = (pd.factorize(frame[column].fillna("")) if column
                                    else (np.zeros(len(frame), dtype=np.int64), pd.Index([""])))
        # one integer per (day, kind, value): factorizing a MultiIndex was most of the time
        combined = (day_codes * len(kind_names) + kind_codes) * len(value_names) + value_codes
        keys, codes = np.unique(combined, return_inverse=True)
        groups = len(keys)
        sums = _sum_by(codes, groups, flags)
        matrices = []
        for values in hours:
            bucket = bucket_of(values)
            seen = bucket >= 0
            slots = codes[seen] * BUCKETS + bucket[seen]
            matrices.append(np.hstack([
                np.bincount(slots, minlength=groups * BUCKETS).reshape(groups, BUCKETS),
                np.bincount(slots, weights=values[seen], minlength=groups * BUCKETS).reshape(groups, BUCKETS)]))
        day_of, rest = np.divmod(keys, len(kind_names) * len(value_names))
        kind_of, value_of = np.divmod(rest, len(value_names))
        rows = pd.DataFrame({"day": day_names[day_of], "kind": np.asarray(kind_names, dtype=object)[kind_of],
                             "value": np.asarray(value_names, dtype=object)[value_of]})
        rows = pd.concat([rows, pd.DataFrame(sums, columns=list(COUNTS))], axis=1)
        result[dim] = Facts(rows, *matrices)
    return result


def _day_bounds(days: list[str], tz: ZoneInfo):
    """One received_at range clause per run of consecutive days."""
    parsed = sorted(date.fromisoformat(d) for d in days)
    runs, start = [], parsed[0]
    for previous, current in zip(parsed, parsed[1:] + [None]):
        if current is None or current - previous > timedelta(days=1):
            begin, finish = Filters(start, previous).bounds(tz)
            runs.append(and_(C.received_at >= begin, C.received_at < finish))
            start = current
    # naming every kind lets the (kind, received_at, ...) covering index serve the range instead of a scan
    return and_(C.kind.in_([k.value for k in Kind]), or_(*runs))


# --- keeping the rollup up to date ----------------------------------------------------------------------

def pending_days(conn: Connection, tz: ZoneInfo) -> set[str]:
    """Days the rollup does not hold correctly now: marked ones, and those of complaints written around the
    pipeline since the last refresh ({'*'} when that is too many to list)."""
    return {d for d, in conn.execute(select(P.day).distinct())} | _unmarked(conn, tz)[0]


def _unmarked(conn: Connection, tz: ZoneInfo) -> tuple[set[str], int]:
    """(days of complaints above the watermark, the highest complaint id now)."""
    seen = conn.execute(select(W.complaint_id).where(W.id == 1)).scalar() or 0
    newest = conn.execute(select(func.max(C.id))).scalar() or 0
    if newest <= seen:
        return set(), newest
    if newest - seen > UNMARKED_LIMIT:
        return {EVERY_DAY}, newest
    moments = conn.execute(select(C.received_at).where(C.id > seen)).scalars()
    return {m.astimezone(tz).date().isoformat() for m in moments}, newest


def _every_day(conn: Connection, tz: ZoneInfo) -> list[str]:
    """Every local day from the first complaint to the last, and every day the rollup holds."""
    first, last = conn.execute(select(func.min(C.received_at), func.max(C.received_at))).one()
    days = {d for d, in conn.execute(select(R.day).distinct())}
    if first is not None:
        day, end = first.astimezone(tz).date(), last.astimezone(tz).date()
        while day <= end:
            days.add(day.isoformat())
            day += timedelta(days=1)
    return sorted(days)


def refresh(engine: Engine, tz: ZoneInfo, chunk_days: int = 14) -> int:
    """Rebuild the rollup rows of every pending day from the complaint table; returns the days rebuilt.

    Each chunk of days is replaced in its own transaction; the marks read at the start are deleted at the end,
    so a crash in between only means the same days are rebuilt again next time.
    """
    with engine.connect() as conn:
        marks = conn.execute(select(P.id, P.day)).all()
        unmarked, newest = _unmarked(conn, tz)
        days = {d for _, d in marks} | unmarked
        if not days:
            return 0
        days = _every_day(conn, tz) if EVERY_DAY in days else sorted(days)
    for start in range(0, len(days), chunk_days):
        chunk = days[start:start + chunk_days]
        with engine.begin() as conn:
            _lock(conn)
            facts = aggregate(base_frame(conn, [_day_bounds(chunk, tz)]), tz, tuple(DIMENSIONS))
            conn.execute(delete(DailyRollup.__table__).where(R.day.in_(chunk)))
            records = []
            for dim, found in facts.items():
                for i, row in enumerate(found.rows.itertuples(index=False)):
                    if row.day not in chunk:  # edges of the time-range read
                        continue
                    records.append({"dim": dim, "day": row.day, "kind": row.kind, "value": row.value,
                                    **{c: int(getattr(row, c)) for c in COUNTS},
                                    "response_hist": pack(found.response[i]),
                                    "resolution_hist": pack(found.resolution[i])})
            if records:
                conn.execute(insert(DailyRollup.__table__), records)
    with engine.begin() as conn:
        ids = [i for i, _ in marks]
        for start in range(0, len(ids), 500):
            conn.execute(delete(RollupPending.__table__).where(P.id.in_(ids[start:start + 500])))
        _raise_watermark(conn, newest)
    return len(days)


def _raise_watermark(conn: Connection, newest: int) -> None:
    seen = conn.execute(select(W.complaint_id).where(W.id == 1)).scalar()
    if seen is None:  # the row was deleted (e.g. every table emptied): put it back
        conn.execute(insert(RollupWatermark.__table__).values(id=1, complaint_id=newest))
    elif seen < newest:
        conn.execute(update(RollupWatermark.__table__).where(W.id == 1).values(complaint_id=newest))


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_REFRESH_LOCK})


# --- reading the figures ---------------------------------------------------------------------------------

def _source(filters: Filters, group: str) -> tuple[str | None, tuple]:
    """The rollup dimension that answers `group` under these filters, and the values to keep; None when the
    rollup cannot answer (the complaint table must)."""
    active = [(dim, getattr(filters, name)) for name, dim in FILTER_DIMENSIONS if getattr(filters, name)]
    if not active:
        return group, ()
    if len(active) == 1 and group in ("all", active[0][0]):
        return active[0]
    return None, ()


def period_facts(engine: Engine, filters: Filters, tz: ZoneInfo, group: str = "all",
                 durations: bool = True) -> Facts:
    """Facts of the complaints received in the period (filters applied), per day, kind and `group` value.
    `durations=False`: counts only (the histograms are left empty, which makes reading several times cheaper)."""
    days = [(filters.start + timedelta(days=i)).isoformat() for i in range(filters.days)]
    with engine.connect() as conn:
        dim, values = _source(filters, group)
        pending = pending_days(conn, tz)
        if dim is None or EVERY_DAY in pending:
            return _counts_only(_from_complaints(conn, filters.period_clauses(tz), tz, group), durations)
        stale = sorted(pending.intersection(days))
        where = [R.dim == dim, R.day >= days[0], R.day <= days[-1]]
        if filters.kinds:
            where.append(R.kind.in_(filters.kinds))
        if values:
            where.append(R.value.in_(values))
        histograms = (R.response_hist, R.resolution_hist) if durations else ()
        rows = conn.execute(select(R.day, R.kind, R.value, *[R[c] for c in COUNTS], *histograms)
                            .where(*where)).all()
        parts = [_from_rollup([r for r in rows if r[0] not in pending] if stale else rows, durations)]
        if stale:
            parts.append(_counts_only(_from_complaints(
                conn, [*filters.dimension_clauses(), _day_bounds(stale, tz)], tz, dim), durations))
    facts = _concat(parts)
    if group == "all" and dim != "all":
        facts.rows["value"] = ""
    return facts


def _counts_only(facts: Facts, durations: bool) -> Facts:
    return facts if durations else Facts(facts.rows, facts.response[:, :0], facts.resolution[:, :0])


def _from_complaints(conn: Connection, where: list, tz: ZoneInfo, group: str) -> Facts:
    return aggregate(base_frame(conn, where), tz, (group,))[group]


def _from_rollup(rows: list, durations: bool = True) -> Facts:
    width = 3 + len(COUNTS)
    frame = pd.DataFrame([r[:width] for r in rows], columns=["day", "kind", "value", *COUNTS])
    if durations:
        response = unpack_rows([row[width] for row in rows])
        resolution = unpack_rows([row[width + 1] for row in rows])
    else:
        response = resolution = np.zeros((len(rows), 0))
    return Facts(frame if len(rows) else _empty_rows(["day", "kind", "value"]), response, resolution)


def _concat(parts: list[Facts]) -> Facts:
    parts = [p for p in parts if len(p.rows)] or parts[:1] or [_empty_facts()]
    return Facts(pd.concat([p.rows for p in parts], ignore_index=True),
                 np.concatenate([p.response for p in parts]), np.concatenate([p.resolution for p in parts]))


@dataclass(frozen=True)
class Summary:
    """Facts summed over a set of rows: counts by name and one duration histogram per measure."""

    counts: dict
    response: np.ndarray
    resolution: np.ndarray

    def histogram(self, measure: str) -> np.ndarray:
        return self.response if measure == "response" else self.resolution


def totals(facts: Facts) -> Summary:
    return Summary({c: int(facts.rows[c].sum()) for c in COUNTS}, facts.response.sum(axis=0),
                   facts.resolution.sum(axis=0))


def by_value(facts: Facts, keys: tuple[str, ...] = ("value",)) -> dict:
    """{key value (a tuple for several keys): Summary} in first-seen order."""
    summed = facts.grouped(list(keys))
    result = {}
    for i, row in enumerate(summed.rows.itertuples(index=False)):
        key = tuple(getattr(row, k) for k in keys)
        result[key if len(keys) > 1 else key[0]] = Summary(
            {c: int(getattr(row, c)) for c in COUNTS}, summed.response[i], summed.resolution[i])
    return result


def value_or_none(value: str):
    """'' (unknown in the rollup) back to None."""
    return value or None


def main(argv: list[str] | None = None) -> int:
    """`python -m metrics.daily refresh [--all]`: rebuild the pending days (--all: every day, e.g. after a bulk
    load around the import pipeline or a restore from an old backup)."""
    import argparse
    import json
    import time

    from models.db import get_engine, prepare_database
    from regions import load_region

    parser = argparse.ArgumentParser(prog="python -m metrics.daily")
    parser.add_argument("command", choices=["refresh"])
    parser.add_argument("--all", action="store_true", help="rebuild every day, not only the marked ones")
    args = parser.parse_args(argv)
    region = load_region()
    engine = prepare_database(get_engine(), region)
    if args.all:
        with engine.begin() as conn:
            mark_days(conn, [EVERY_DAY])
    began = time.perf_counter()
    days = refresh(engine, region.timezone)
    print(json.dumps({"days_rebuilt": days, "seconds": round(time.perf_counter() - began, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
