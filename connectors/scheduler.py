"""Scheduled polling of every channel, guarded by a database lease per channel, and the administrator's
channel operations (poll now, re-process the quarantine).

One poll of a channel (`poll_channel`):
  * API channels (an `incremental` connector and a `url` in channels.toml): one pipeline run of
    `connector_for(channel, region)`; timeouts and retries with backoff live in the HTTP connector.
  * File channels (a `drop_folder`): every new file in the folder, once, in order (connectors/drop_folder.py).

The lease lives in `channel_state` (`lease_owner` = host:pid:uuid, `lease_expires_at`). It is taken with one
conditional INSERT … ON CONFLICT DO UPDATE … WHERE (free, expired or ours) RETURNING, so two workers on one
PostgreSQL database (or two processes on one SQLite file) never poll the same channel at once. A heartbeat
thread extends it while a long poll runs; a worker that dies leaves a lease that simply expires, and the next
poller takes it over and marks the dead worker's unfinished runs as interrupted. Nothing it wrote is lost or
doubled: a file import is one transaction, and an API run commits each batch with its cursor.
The lease lasts SIGAP_LEASE_SECONDS (default 300): the longest a dead worker's channel waits for a takeover.

`build_scheduler` makes an APScheduler 3.x scheduler with one interval job per enabled channel (coalesced,
one instance at a time, with a misfire grace time and jitter). A scheduled poll skips a channel that another
worker polled less than 0.8 interval ago, so running several workers does not poll a source more often.
A failing channel is logged and recorded as a failed run in import_run, and never blocks the others.
"""
from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import import_module
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from connectors.base import Connector, RecordError, SourceError
from connectors.drop_folder import FolderResult, folder_of, import_folder
from connectors.pipeline import RunSummary, describe_error, run_import
from connectors.registry import BUILTIN, GENERIC, channel_names, connector_for
from models import ChannelState, Complaint, ImportRun, QuarantinedRecord, utcnow
from models.db import get_engine
from regions import Region, load_region

log = logging.getLogger("sigap.scheduler")

LEASE_SECONDS = 300.0  # default; SIGAP_LEASE_SECONDS overrides it (see lease_seconds_setting)
DEFAULT_INTERVAL_MINUTES = 15
# A scheduled poll is skipped when the channel's last run started less than this share of its interval ago
# (another worker polled it). Below 1 so that a worker's own next tick, an interval later, is never skipped.
SKIP_WITHIN_INTERVAL = 0.8
INTERRUPTED = ("interrupted: the process stopped before the run finished; only the counts shown were stored, "
               "the rest is read again by the next run")


# --- what a channel polls ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PollPlan:
    channel: str
    enabled: bool
    interval_minutes: float
    folder: Path | None = None
    url: str | None = None
    problem: str | None = None  # why nothing can be polled, when nothing can

    @property
    def pollable(self) -> bool:
        return self.folder is not None or self.url is not None

    @property
    def mode(self) -> str:
        return "+".join(m for m, on in (("api", self.url), ("folder", self.folder)) if on) or "none"


def connector_class(channel: str, region: Region) -> type[Connector]:
    target = BUILTIN.get(channel) or (GENERIC if region.channel_settings(channel).get("mapping") else None)
    if target is None:
        raise SourceError(f"unknown channel {channel!r}; known: {', '.join(channel_names(region))}")
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


def poll_plan(channel: str, region: Region) -> PollPlan:
    """What one poll of `channel` reads: its API (incremental connectors with a url) and/or its drop folder."""
    settings = region.channel_settings(channel)
    cls = connector_class(channel, region)
    folder = folder_of(settings)
    url = str(settings.get("url") or "").strip() or None
    problem = None
    if url and not cls.incremental:
        if folder is None:
            problem = (f"{channel}: the connector reads exported files, not a url; set drop_folder in "
                       "channels.toml")
        url = None
    if not url and folder is None and problem is None:
        problem = f"{channel}: no url or drop_folder in the region's channels.toml [{channel}] table"
    try:
        interval = float(settings.get("interval_minutes") or DEFAULT_INTERVAL_MINUTES)
    except (TypeError, ValueError):
        interval = DEFAULT_INTERVAL_MINUTES
    return PollPlan(channel, bool(settings.get("enabled", True)), max(interval, 0.1), folder, url, problem)


# --- the lease -----------------------------------------------------------------------------------------------

def lease_seconds_setting() -> float:
    """SIGAP_LEASE_SECONDS (default 300, at least 1): how long a dead worker's lease blocks its channel before
    another worker takes it over. A live worker renews its lease every third of this, so any value works."""
    try:
        return max(float(os.environ.get("SIGAP_LEASE_SECONDS", LEASE_SECONDS)), 1.0)
    except ValueError:
        return LEASE_SECONDS


def new_owner() -> str:
    """host:pid:uuid — unique per poll, readable in channel_state."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _insert(conn, table):
    builder = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(conn.dialect.name)
    if builder is None:
        raise SourceError(f"database dialect {conn.dialect.name!r} is not supported (use SQLite or PostgreSQL)")
    return builder(table)


def lease_holder(engine: Engine, channel: str) -> tuple[str | None, datetime | None]:
    c = ChannelState.__table__.c
    with engine.connect() as conn:
        row = conn.execute(select(c.lease_owner, c.lease_expires_at).where(c.channel == channel)).first()
    return (row.lease_owner, row.lease_expires_at) if row else (None, None)


def acquire_lease(engine: Engine, channel: str, owner: str, seconds: float = LEASE_SECONDS,
                  now: datetime | None = None) -> bool:
    """Take the channel's lease if it is free, expired or already ours; atomic on SQLite and PostgreSQL."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    table = ChannelState.__table__
    c = table.c
    with engine.begin() as conn:
        statement = _insert(conn, table).values(channel=channel, lease_owner=owner, lease_expires_at=expires)
        statement = statement.on_conflict_do_update(
            index_elements=["channel"],
            set_={"lease_owner": owner, "lease_expires_at": expires},
            where=or_(c.lease_owner.is_(None), c.lease_expires_at.is_(None), c.lease_expires_at <= now,
                      c.lease_owner == owner),
        ).returning(c.lease_owner)
        return conn.execute(statement).scalar_one_or_none() == owner


def renew_lease(engine: Engine, channel: str, owner: str, seconds: float = LEASE_SECONDS) -> bool:
    """Extend our lease; False when it is no longer ours (it expired and another worker took it)."""
    c = ChannelState.__table__.c
    with engine.begin() as conn:
        result = conn.execute(update(ChannelState.__table__)
                              .where(c.channel == channel, c.lease_owner == owner)
                              .values(lease_expires_at=utcnow() + timedelta(seconds=seconds)))
        return result.rowcount == 1


def release_lease(engine: Engine, channel: str, owner: str) -> None:
    c = ChannelState.__table__.c
    with engine.begin() as conn:
        conn.execute(update(ChannelState.__table__).where(c.channel == channel, c.lease_owner == owner)
                     .values(lease_owner=None, lease_expires_at=None))


class Lease:
    """A channel's lease held for one poll, kept alive by a heartbeat thread until released."""

    def __init__(self, engine: Engine, channel: str, owner: str | None = None, seconds: float | None = None):
        self.engine, self.channel = engine, channel
        self.seconds = float(seconds or lease_seconds_setting())
        self.owner = owner or new_owner()
        self.took_over_from: str | None = None  # the owner of an expired lease we replaced (a dead worker)
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        previous, expires = lease_holder(self.engine, self.channel)
        if not acquire_lease(self.engine, self.channel, self.owner, self.seconds, now):
            return False
        if previous and previous != self.owner and expires is not None and expires <= now:
            self.took_over_from = previous
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.channel}", daemon=True)
        self._thread.start()
        return True

    def held(self) -> bool:
        return not self.lost

    def _beat(self) -> None:
        period = max(self.seconds / 3, 0.2)
        while not self._stop.wait(period):
            try:
                if not renew_lease(self.engine, self.channel, self.owner, self.seconds):
                    self.lost = True
                    log.error("%s: lease lost (taken over by another worker); stopping after this file", self.channel)
                    return
            except Exception as exc:  # noqa: BLE001 - a busy database: try again next beat
                log.warning("%s: lease heartbeat failed (%s); retrying", self.channel, exc)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.lost:
            release_lease(self.engine, self.channel, self.owner)


@contextmanager
def held_channel(engine: Engine, channel: str, wait_seconds: float, on_wait=None):
    """Hold the channel's lease around a command-line import, so it never runs beside a worker's poll of the same
    channel and a killed import's run is marked interrupted by whoever takes the lease after it expires.
    Waits up to `wait_seconds` for a poll in progress (calling on_wait(holder) once); raises SourceError after."""
    lease = Lease(engine, channel)
    deadline = time.monotonic() + wait_seconds
    while not lease.acquire():
        holder, _ = lease_holder(engine, channel)
        if on_wait is not None:
            on_wait(holder)
            on_wait = None
        if time.monotonic() >= deadline:
            raise SourceError(f"{channel} is being imported or polled by {holder or 'another process'}; try again "
                              f"when it has finished")
        time.sleep(0.5)
    try:
        if lease.took_over_from:
            mark_interrupted_runs(engine, channel, utcnow())
        yield lease
    finally:
        lease.release()


# --- runs ------------------------------------------------------------------------------------------------------

def record_failed_run(engine: Engine, channel: str, source: str | None, error: str,
                      sha256: str | None = None) -> RunSummary:
    """A failure that happened before the pipeline could start (a broken mapping, a missing folder)."""
    now = utcnow()
    with engine.begin() as conn:
        run_id = conn.execute(insert(ImportRun.__table__).returning(ImportRun.__table__.c.id), {
            "channel": channel, "source": source[:1000] if source else None, "source_sha256": sha256,
            "started_at": now, "finished_at": now, "state": "failed", "read": 0, "inserted": 0, "updated": 0,
            "unchanged": 0, "quarantined": 0, "unmapped_district": 0, "unmapped_agency": 0, "error": error,
        }).scalar_one()
    return RunSummary(channel=channel, source=source, run_id=run_id, state="failed", error=error)


def seconds_since_last_run(engine: Engine, channel: str) -> float | None:
    runs = ImportRun.__table__.c
    with engine.connect() as conn:
        last = conn.execute(select(func.max(runs.started_at)).where(runs.channel == channel)).scalar_one()
    return None if last is None else (utcnow() - last).total_seconds()


def mark_interrupted_runs(engine: Engine, channel: str, before: datetime) -> int:
    """Runs a dead worker left 'running' (its transaction was rolled back): mark them failed."""
    runs = ImportRun.__table__.c
    with engine.begin() as conn:
        return conn.execute(update(ImportRun.__table__)
                            .where(runs.channel == channel, runs.state == "running", runs.started_at < before)
                            .values(state="failed", finished_at=utcnow(), error=INTERRUPTED)).rowcount


def _display_url(url: str) -> str:
    try:
        from connectors.http import display_url
    except ImportError:  # pragma: no cover - the HTTP module ships with the API connectors
        return url.split("?")[0]
    return display_url(url)


@dataclass
class PollResult:
    channel: str
    state: str = "succeeded"  # succeeded | failed | busy (another worker holds the lease) | skipped (not due)
    owner: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    runs: list[RunSummary] = field(default_factory=list)
    already_imported: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    message: str | None = None

    @property
    def error(self) -> str | None:
        failed = [r.error for r in self.runs if r.state != "succeeded" and r.error]
        return "; ".join(failed) or (self.message if self.state == "failed" else None)

    def as_dict(self) -> dict:
        return {
            "channel": self.channel, "state": self.state, "owner": self.owner,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "runs": [r.as_dict() for r in self.runs], "already_imported": self.already_imported,
            "skipped": [{"file": name, "reason": reason} for name, reason in self.skipped],
            "waiting": self.waiting, "message": self.message, "error": self.error,
        }


def poll_channel(channel: str, region: Region | None = None, engine: Engine | None = None, *,
                 owner: str | None = None, lease_seconds: float | None = None,
                 settle_seconds: float | None = None, now: datetime | None = None,
                 skip_if_polled_within: float | None = None) -> PollResult:
    """Poll one channel once, if no other worker is polling it. Every run is recorded in import_run.

    With `skip_if_polled_within` (seconds; the scheduler's jobs), a channel whose last run started more recently
    than that (another worker polled it) is skipped: checked under the lease, so several workers poll each
    channel once per interval, not once each.
    Raises SourceError only for a channel that does not exist; anything else ends in the result's state.
    """
    region = region or load_region()
    engine = engine or get_engine()
    plan = poll_plan(channel, region)
    lease = Lease(engine, channel, owner, lease_seconds)
    result = PollResult(channel=channel, owner=lease.owner, started_at=utcnow())
    if not lease.acquire(now):
        holder, expires = lease_holder(engine, channel)
        result.state = "busy"
        result.message = f"{channel} is being polled by {holder or 'another worker'}"
        if expires is not None:
            result.message += f" (lease until {expires:%H:%M:%S} UTC)"
        result.finished_at = utcnow()
        log.info("%s", result.message)
        return result
    try:
        if lease.took_over_from:
            count = mark_interrupted_runs(engine, channel, result.started_at)
            log.warning("%s: took over the expired lease of %s; %d unfinished run(s) marked interrupted",
                        channel, lease.took_over_from, count)
        elif skip_if_polled_within and (age := seconds_since_last_run(engine, channel)) is not None \
                and age < skip_if_polled_within:
            result.state = "skipped"
            result.message = f"{channel} was polled {age:.0f} s ago (by another worker); not due yet"
            log.info("%s", result.message)
            return result
        _poll(plan, region, engine, lease, settle_seconds, result)
    finally:
        lease.release()
        result.finished_at = utcnow()
    if any(r.state != "succeeded" for r in result.runs):
        result.state = "failed"
    log.info("%s: poll %s (%d run(s), %d already imported, %d skipped)", channel, result.state, len(result.runs),
             result.already_imported, len(result.skipped))
    return result


def _poll(plan: PollPlan, region: Region, engine: Engine, lease: Lease, settle_seconds, result: PollResult) -> None:
    channel = plan.channel
    if not plan.pollable:
        result.runs.append(record_failed_run(engine, channel, None, plan.problem or "nothing to poll"))
        return
    if plan.url:
        result.runs.append(_poll_api(channel, region, engine, plan.url))
    if plan.folder is not None and lease.held():
        try:
            folder = import_folder(channel, region, engine, settle_seconds=settle_seconds, keep_going=lease.held)
        except Exception as exc:  # noqa: BLE001 - a missing or unreadable folder is this channel's failure
            error = describe_error(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            result.runs.append(record_failed_run(engine, channel, str(plan.folder), error))
            return
        _merge_folder(result, folder)


def _merge_folder(result: PollResult, folder: FolderResult) -> None:
    result.runs.extend(folder.runs)
    result.already_imported += folder.already_imported
    result.skipped.extend(folder.skipped)
    result.waiting.extend(folder.waiting)
    if folder.stopped:
        result.message = folder.stopped


def _poll_api(channel: str, region: Region, engine: Engine, url: str) -> RunSummary:
    source = _display_url(url)
    try:
        connector = connector_for(channel, region)
    except Exception as exc:  # noqa: BLE001 - a broken mapping is recorded, the other channels go on
        error = describe_error(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        return record_failed_run(engine, channel, source, error)
    try:
        return run_import(connector, engine, source=source)
    except Exception as exc:  # noqa: BLE001 - run_import recorded the failed run before re-raising
        log.exception("%s: poll of %s failed", channel, source)
        return RunSummary(channel=channel, source=source, state="failed", error=f"{type(exc).__name__}: {exc}")


def run_scheduled_poll(channel: str, region: Region, engine: Engine, **kwargs) -> PollResult | None:
    """The scheduler's job: never raises, so one channel's trouble cannot disturb the scheduler or the others."""
    try:
        result = poll_channel(channel, region, engine, **kwargs)
    except Exception:  # noqa: BLE001
        log.exception("%s: scheduled poll failed", channel)
        return None
    if result.state == "failed":
        log.warning("%s: poll failed: %s", channel, result.error)
    return result


# --- what is due, and the scheduler ---------------------------------------------------------------------------

def schedulable_channels(region: Region) -> list[PollPlan]:
    """Enabled channels that have something to poll; the others are logged and left out."""
    plans = []
    for channel in region.enabled_channels():
        try:
            plan = poll_plan(channel, region)
        except SourceError as exc:
            log.warning("%s: not scheduled: %s", channel, exc)
            continue
        if not plan.pollable:
            log.warning("%s: not scheduled: %s", channel, plan.problem)
            continue
        plans.append(plan)
    return plans


def due_channels(region: Region, engine: Engine, now: datetime | None = None) -> list[str]:
    """Enabled channels whose last run started at least one interval ago (or never ran)."""
    now = now or utcnow()
    runs = ImportRun.__table__.c
    with engine.connect() as conn:
        last = dict(conn.execute(select(runs.channel, func.max(runs.started_at)).group_by(runs.channel)).all())
    due = []
    for plan in schedulable_channels(region):
        started = last.get(plan.channel)
        if started is None or now - started >= timedelta(minutes=plan.interval_minutes):
            due.append(plan.channel)
    return due


def poll_due(region: Region, engine: Engine, now: datetime | None = None, **kwargs) -> list[PollResult]:
    results = []
    for channel in due_channels(region, engine, now):
        result = run_scheduled_poll(channel, region, engine, **kwargs)
        if result is not None:
            results.append(result)
    refresh_rollups(region, engine)
    return results


ROLLUP_REFRESH_SECONDS = 15


def refresh_rollups(region: Region, engine: Engine) -> int | None:
    """Rebuild the daily rollup's out-of-date days (metrics/daily.py); never raises. Pages are right without it
    (they read pending days from the complaints), only slower, so a failure is logged and retried next time."""
    try:
        from metrics import daily  # here, not at the top: a file import need not load pandas (0.45 s)

        return daily.refresh(engine, region.timezone)
    except Exception:  # noqa: BLE001
        log.exception("daily rollup refresh failed")
        return None


def build_scheduler(region: Region | None = None, engine: Engine | None = None, *, blocking: bool = False,
                    channels: list[str] | None = None, lease_seconds: float | None = None,
                    first_run_within: float = 20.0, max_workers: int = 4):
    """An APScheduler 3.x scheduler (not started) with one interval job per enabled, pollable channel."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    region = region or load_region()
    engine = engine or get_engine()
    plans = [p for p in schedulable_channels(region) if channels is None or p.channel in channels]
    if channels:
        for channel in channels:
            if channel not in {p.channel for p in plans}:
                plan = poll_plan(channel, region)  # raises SourceError for an unknown channel
                if plan.pollable:
                    plans.append(plan)  # asked for by name: polled even when disabled
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=timezone.utc,
        executors={"default": ThreadPoolExecutor(max(1, min(max_workers, len(plans) or 1)))},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    start = datetime.now(timezone.utc)
    for plan in plans:
        seconds = plan.interval_minutes * 60
        scheduler.add_job(
            run_scheduled_poll, "interval", seconds=seconds, args=(plan.channel, region, engine),
            # another worker's recent poll counts: with N workers a channel is still polled once per interval
            kwargs={"lease_seconds": lease_seconds, "skip_if_polled_within": SKIP_WITHIN_INTERVAL * seconds},
            id=f"poll:{plan.channel}", name=f"poll {plan.channel}",
            replace_existing=True,
            coalesce=True,  # after a pause, one catch-up poll, not a burst
            max_instances=1,  # a slow poll is never overlapped by the next one of the same channel
            misfire_grace_time=int(max(60, seconds / 2)),
            jitter=int(max(1, min(60, seconds / 10))),  # many workers/channels do not all hit at once
            next_run_time=start + timedelta(seconds=random.uniform(0.2, max(first_run_within, 0.2))),
        )
        log.info("%s: polled every %g min (%s)", plan.channel, plan.interval_minutes, plan.mode)
    # imports mark the days they change; this keeps the dashboards' rollup close behind them
    scheduler.add_job(refresh_rollups, "interval", seconds=ROLLUP_REFRESH_SECONDS, args=(region, engine),
                      id="rollup:refresh", name="refresh daily rollups", replace_existing=True, coalesce=True,
                      max_instances=1, next_run_time=start + timedelta(seconds=1))
    return scheduler


# --- re-processing the quarantine -------------------------------------------------------------------------------

@dataclass
class ReprocessSummary:
    channel: str
    considered: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # newer data for the same complaint arrived after it was quarantined: closed, not applied
    still_quarantined: int = 0
    runs: list[RunSummary] = field(default_factory=list)
    error: str | None = None

    @property
    def reprocessed(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.superseded

    @property
    def reconciles(self) -> bool:
        return self.considered == self.reprocessed + self.still_quarantined

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("channel", "considered", "inserted", "updated", "unchanged",
                                              "superseded", "still_quarantined", "error")}


class _Replay:
    """Quarantined raw records fed back through the pipeline with the channel's (fixed) connector."""

    incremental = False

    def __init__(self, connector: Connector, records: list[dict], observed_at: datetime | None):
        self.connector = connector
        self.name = connector.name
        self.region = connector.region
        self.records = records
        self.observed_at = observed_at

    def fetch(self, since):
        yield from self.records

    def parse(self, raw: dict):
        return self.connector.parse(raw)

    def source_id_of(self, raw: dict):
        return self.connector.source_id_of(raw)

    def cursor_of(self, raw: dict):
        return None  # a replay never moves the channel's cursor


def reprocess_quarantine(channel: str, engine: Engine | None = None, region: Region | None = None, *,
                         ids: list[int] | None = None) -> ReprocessSummary:
    """Re-parse the channel's open quarantined records with its current mapping, through the pipeline.

    Records that parse now are stored (one pipeline run per original run, observed when that run started)
    and get `reprocessed_at`, leaving the open quarantine. Records that still fail stay, with today's reason.
    A record whose complaint was changed by a newer run since it was quarantined is closed without being
    applied, so an old record never overwrites newer data. considered == reprocessed + still_quarantined.
    """
    region = region or load_region()
    engine = engine or get_engine()
    summary = ReprocessSummary(channel=channel)
    q = QuarantinedRecord.__table__
    runs = ImportRun.__table__.c
    query = (select(q.c.id, q.c.run_id, q.c.raw, q.c.reason, runs.started_at)
             .join(ImportRun.__table__, runs.id == q.c.run_id)
             .where(q.c.channel == channel, q.c.reprocessed_at.is_(None)).order_by(q.c.run_id, q.c.id))
    if ids is not None:
        query = query.where(q.c.id.in_(ids))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return summary
    try:
        connector = connector_for(channel, region)
    except Exception as exc:  # noqa: BLE001
        summary.error = describe_error(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        summary.considered = summary.still_quarantined = len(rows)
        return summary
    groups: dict[int, list] = {}
    for row in rows:
        groups.setdefault(row.run_id, []).append(row)
    for run_id, group in groups.items():
        _reprocess_group(channel, engine, connector, run_id, group, summary)
    return summary


def _reprocess_group(channel, engine, connector, run_id, group, summary: ReprocessSummary) -> None:
    q = QuarantinedRecord.__table__
    complaints = Complaint.__table__.c
    replay: list[tuple[int, dict]] = []
    new_reasons: dict[int, str] = {}
    superseded: list[int] = []
    parsed_ids: dict[int, str] = {}
    for row in group:
        summary.considered += 1
        try:
            raw = json.loads(row.raw)
            if not isinstance(raw, dict):
                raise RecordError("the stored raw record is not an object")
            record = connector.parse(raw)
        except (RecordError, ValidationError, ValueError, TypeError, OverflowError) as exc:
            summary.still_quarantined += 1
            reason = describe_error(exc)
            if reason != row.reason:
                new_reasons[row.id] = reason
            continue
        parsed_ids[row.id] = record.source_id
        replay.append((row.id, raw))
    if parsed_ids:
        with engine.connect() as conn:
            newer = set(conn.execute(select(complaints.source_id).where(
                complaints.channel == channel, complaints.source_id.in_(set(parsed_ids.values())),
                complaints.last_run_id > run_id)).scalars())
        superseded = [qid for qid, sid in parsed_ids.items() if sid in newer]
        replay = [(qid, raw) for qid, raw in replay if qid not in set(superseded)]
        summary.superseded += len(superseded)
    now = utcnow()
    if replay:
        run = run_import(_Replay(connector, [raw for _, raw in replay], group[0].started_at), engine,
                         source=f"quarantine of run {run_id} (re-processed)")
        summary.runs.append(run)
        if run.state != "succeeded":
            summary.still_quarantined += len(replay)
            summary.error = run.error
            replay = []
        else:
            summary.inserted += run.inserted
            summary.updated += run.updated
            summary.unchanged += run.unchanged
            # parsing is deterministic, so none should fail again; if one did, it is open again as a new row
            summary.still_quarantined += run.quarantined
    closed = [qid for qid, _ in replay] + superseded
    with engine.begin() as conn:
        if closed:
            conn.execute(update(q).where(q.c.id.in_(closed)).values(reprocessed_at=now))
        for qid, reason in new_reasons.items():
            conn.execute(update(q).where(q.c.id == qid).values(reason=reason))
