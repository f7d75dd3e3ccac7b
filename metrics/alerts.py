"""What needs attention on the wall screen: sudden spikes, stale channels, and the newest arrivals.

Plain SQL aggregates on SQLite and PostgreSQL; nothing here imports Streamlit. The newest-arrivals list
carries codes and times only (channel, category, district, kind): never a title, a text or reporter data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from metrics.filters import DEFAULT_KINDS, C
from models import ImportRun, Kind

# Complaints plus real emergency calls: a burst of flood calls to 112 is exactly what the room must see.
WATCHED_KINDS = tuple(sorted({*DEFAULT_KINDS, Kind.emergency_call.value}))
RUNS = ImportRun.__table__.c


@dataclass(frozen=True)
class Spike:
    district_code: str
    category: str
    recent: int  # complaints in the recent window
    baseline: int  # complaints in the baseline period before it
    baseline_rate: float  # usual complaints per window over the baseline period
    p_value: float  # P(X >= recent) for X ~ Poisson(max(baseline_rate, floor))

    @property
    def ratio(self) -> float:
        return self.recent / self.baseline_rate if self.baseline_rate else math.inf


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), summed in log space (no scipy needed)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)  # P(X = 0)
    below = term
    for i in range(1, k):
        term *= mean / i
        below += term
    return max(0.0, 1.0 - below)


def spikes(engine: Engine, now: datetime, *, window_hours: float = 1, baseline_days: int = 28,
           min_count: int = 5, min_ratio: float = 4.0, max_p: float = 0.001,
           kinds: tuple[str, ...] = WATCHED_KINDS) -> list[Spike]:
    """District × category pairs whose count in the last `window_hours` is well above their usual rate.

    Usual rate = the pair's count over the `baseline_days` before the window, per window length. A spike has
    at least `min_count` complaints, at least `min_ratio` times the usual rate, and would happen by chance
    less often than `max_p` if arrivals were Poisson at the usual rate (floored at one per baseline, so a
    pair never seen before still needs a real burst). Biggest surprise first.
    """
    window = timedelta(hours=window_hours)
    recent_start, baseline_start = now - window, now - window - timedelta(days=baseline_days)
    windows = baseline_days * 24 / window_hours  # how many windows the baseline holds
    recent = func.sum(case((C.received_at >= recent_start, 1), else_=0))
    total = func.count()
    query = (
        select(C.district_code, C.category, recent.label("recent"), (total - recent).label("baseline"))
        .where(C.received_at >= baseline_start, C.received_at < now, C.kind.in_(kinds),
               C.district_code.isnot(None), C.category.isnot(None))
        .group_by(C.district_code, C.category)
        # the cheap part of the test in SQL: enough complaints, and min_ratio x the usual rate
        .having(and_(recent >= min_count, recent * windows >= min_ratio * (total - recent)))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for district, category, n, before in rows:
        rate = before / windows
        p = poisson_tail(int(n), max(rate, 1 / windows))
        if p <= max_p:
            found.append(Spike(district, category, int(n), int(before), rate, p))
    return sorted(found, key=lambda s: (s.p_value, -s.recent))


def newest(engine: Engine, limit: int = 12, kinds: tuple[str, ...] = WATCHED_KINDS) -> pd.DataFrame:
    """The latest arrivals for the ticker: channel, kind, category, district and time only."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(C.id, C.channel, C.kind, C.category, C.district_code, C.received_at)
            .where(C.kind.in_(kinds)).order_by(C.received_at.desc(), C.id.desc()).limit(limit)
        ).all()
    return pd.DataFrame(rows, columns=["id", "channel", "kind", "category", "district_code", "received_at"])


def channel_freshness(engine: Engine, channels: dict, now: datetime) -> pd.DataFrame:
    """Per enabled channel: its newest successful import and whether that is older than stale_after_minutes.

    `channels` is the region's channels.toml; a channel never imported is stale.
    """
    with engine.connect() as conn:
        last = dict(conn.execute(select(RUNS.channel, func.max(RUNS.finished_at))
                                 .where(RUNS.state == "succeeded").group_by(RUNS.channel)).all())
    rows = []
    for name, cfg in sorted(channels.items()):
        if not cfg.get("enabled", True):
            continue
        limit = cfg.get("stale_after_minutes")
        seen = last.get(name)
        if seen is not None and seen.tzinfo is None:
            seen = seen.replace(tzinfo=timezone.utc)
        age_min = None if seen is None else (now - seen).total_seconds() / 60
        stale = seen is None or (limit is not None and age_min > float(limit))
        rows.append({"channel": name, "last_success": seen, "age_minutes": age_min,
                     "stale_after_minutes": limit, "stale": bool(stale)})
    frame = pd.DataFrame(rows, columns=["channel", "last_success", "age_minutes", "stale_after_minutes", "stale"])
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)  # a channel never imported has None, not NaT
