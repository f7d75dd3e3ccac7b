"""Channel health: is every feed still delivering? Callable without Streamlit.

A channel is
  * `disabled` when channels.toml says `enabled = false`;
  * `stale` (red, "data lama") when its newest successful run is older than its `stale_after_minutes`, or
    it never succeeded;
  * `failing` (amber) when its latest run failed but the data is not stale yet;
  * `ok` otherwise.
A drop-folder channel whose folder holds nothing new records no run, so it goes stale when no new export
arrives in time: exactly what an operator needs to know.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from models import ImportRun, QuarantinedRecord
from regions import Region, load_region

COUNTS = ("read", "inserted", "updated", "unchanged", "quarantined")
STATES = ("stale", "failing", "ok", "disabled")  # worst first
DEFAULT_STALE_MINUTES = 24 * 60


def _region(region: Region | str | None) -> Region:
    return region if isinstance(region, Region) else load_region(region)


def health_state(enabled: bool, last_success: datetime | None, stale_after_minutes: float, now: datetime,
                 last_run_failed: bool = False) -> str:
    """The channel's state; stale strictly after the threshold (a success exactly at it is not stale yet)."""
    if not enabled:
        return "disabled"
    if last_success is None or now - last_success > timedelta(minutes=stale_after_minutes):
        return "stale"
    return "failing" if last_run_failed else "ok"


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _stale_minutes(settings: dict) -> float:
    try:
        return float(settings.get("stale_after_minutes") or DEFAULT_STALE_MINUTES)
    except (TypeError, ValueError):
        return DEFAULT_STALE_MINUTES


def _plan(channel: str, region: Region) -> tuple[str, str | None]:
    from connectors.base import SourceError
    from connectors.scheduler import poll_plan

    try:
        plan = poll_plan(channel, region)
    except SourceError as exc:
        return "none", str(exc)
    return plan.mode, plan.problem


def channel_health(engine: Engine, region: Region | str | None, now: datetime) -> pd.DataFrame:
    """One row per configured channel (channels.toml order) with its state, last runs and quarantine."""
    region = _region(region)
    runs = ImportRun.__table__.c
    quarantine = QuarantinedRecord.__table__.c
    midnight = datetime.combine(now.astimezone(region.timezone).date(), time.min, region.timezone)
    day_ago = now - timedelta(hours=24)
    with engine.connect() as conn:
        last_success = dict(conn.execute(
            select(runs.channel, func.max(runs.finished_at)).where(runs.state == "succeeded")
            .group_by(runs.channel)).all())
        latest_ids = select(func.max(runs.id)).group_by(runs.channel)
        latest = {r.channel: r for r in conn.execute(
            select(runs.channel, runs.state, runs.started_at, runs.finished_at, *(runs[c] for c in COUNTS))
            .where(runs.id.in_(latest_ids)))}
        failed_ids = select(func.max(runs.id)).where(runs.state == "failed").group_by(runs.channel)
        last_failure = {r.channel: r for r in conn.execute(
            select(runs.channel, runs.error, runs.started_at, runs.source).where(runs.id.in_(failed_ids)))}
        recent = {r.channel: r for r in conn.execute(
            select(runs.channel, func.count().label("runs"),
                   func.sum(case((runs.state == "failed", 1), else_=0)).label("failed"))
            .where(runs.started_at > day_ago).group_by(runs.channel))}
        today = {r.channel: r for r in conn.execute(
            select(runs.channel, *(func.sum(runs[c]).label(c) for c in COUNTS))
            .where(runs.started_at >= midnight.astimezone(timezone.utc))
            .group_by(runs.channel))}
        open_quarantine = dict(conn.execute(
            select(quarantine.channel, func.count()).where(quarantine.reprocessed_at.is_(None))
            .group_by(quarantine.channel)).all())
    rows = []
    for channel, settings in region.channels.items():
        enabled = bool(settings.get("enabled", True))
        stale_after = _stale_minutes(settings)
        success = last_success.get(channel)
        last = latest.get(channel)
        failure = last_failure.get(channel)
        mode, problem = _plan(channel, region)
        row = {
            "channel": channel, "enabled": enabled, "mode": mode, "problem": problem,
            "interval_minutes": _number(settings.get("interval_minutes")), "stale_after_minutes": stale_after,
            "state": health_state(enabled, success, stale_after, now, last is not None and last.state == "failed"),
            "last_success_at": success,
            "age_minutes": None if success is None else max((now - success).total_seconds() / 60, 0.0),
            "last_run_state": last.state if last else None,
            "last_run_at": (last.finished_at or last.started_at) if last else None,
            **{f"last_{c}": (getattr(last, c) if last else None) for c in COUNTS},
            **{f"today_{c}": int(getattr(today[channel], c) or 0) if channel in today else 0 for c in COUNTS},
            "last_error": failure.error if failure else None,
            "last_error_at": failure.started_at if failure else None,
            "last_error_source": failure.source if failure else None,
            "error_is_current": bool(failure and last and last.state == "failed"),
            "runs_24h": int(recent[channel].runs) if channel in recent else 0,
            "failed_24h": int(recent[channel].failed or 0) if channel in recent else 0,
            "open_quarantine": int(open_quarantine.get(channel, 0)),
        }
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["channel", "state"]).astype(object)
    return frame.where(frame.notna(), None)  # missing values are None, not NaT/NaN, for callers and pages


def state_counts(health: pd.DataFrame) -> dict[str, int]:
    counts = health["state"].value_counts().to_dict() if not health.empty else {}
    return {state: int(counts.get(state, 0)) for state in STATES}


def open_quarantine(engine: Engine, channel: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Open (not yet re-processed) quarantined records, newest first, raw content with personal data masked."""
    q = QuarantinedRecord.__table__.c
    query = (select(q.id, q.created_at, q.channel, q.source_id, q.reason, q.raw, q.run_id)
             .where(q.reprocessed_at.is_(None)).order_by(q.created_at.desc(), q.id.desc()).limit(limit))
    if channel:
        query = query.where(q.channel == channel)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(),
                             columns=["id", "created_at", "channel", "source_id", "reason", "raw", "run_id"])
    frame["raw"] = frame["raw"].map(redact_raw)
    return frame


def quarantine_total(engine: Engine, channel: str | None = None) -> int:
    q = QuarantinedRecord.__table__.c
    where = [q.reprocessed_at.is_(None)] + ([q.channel == channel] if channel else [])
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(and_(*where))).scalar_one()


# --- masking personal data in raw records --------------------------------------------------------------------

_PERSONAL_KEY = re.compile(r"(^|[_.\s-])(nama|name|nik|ktp|no_?ktp|telp|telepon|tlp|phone|hp|no_?hp|wa|whatsapp|"
                           r"email|e_?mail|alamat|address|pelapor|reporter|kontak|contact)([_.\s-]|$)", re.IGNORECASE)
_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\w+])(?:\+?62|0)[\s-]?8\d{1,2}(?:[\s-]?\d){6,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAPS = re.compile(r"https?://(?:maps\.app\.goo\.gl|goo\.gl/maps|(?:www\.)?google\.[a-z.]+/maps)\S*", re.IGNORECASE)
MASK = "•••"


def redact_text(text: str) -> str:
    """NIK, phone numbers, e-mail addresses and map links in free text, masked (with the project's full
    masking rules, metrics.privacy.mask_pii, where that module is present)."""
    for pattern in (_MAPS, _EMAIL, _NIK, _PHONE):
        text = pattern.sub(MASK, text)
    try:
        from metrics.privacy import mask_pii
    except ImportError:
        return text
    return mask_pii(text)


def _redact(value, personal: bool = False):
    if isinstance(value, dict):
        return {k: _redact(v, personal or bool(_PERSONAL_KEY.search(str(k)))) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, personal) for v in value]
    if personal and value not in (None, ""):
        return MASK
    return redact_text(value) if isinstance(value, str) else value


def redact_raw(raw: str | None) -> str:
    """A quarantined raw record as readable text (pretty JSON when it is JSON) without personal data."""
    if raw is None:
        return ""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return redact_text(str(raw))
    return json.dumps(_redact(data), ensure_ascii=False, indent=1, default=str)
