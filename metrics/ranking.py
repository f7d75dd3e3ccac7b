"""The agency league table: how completely and how fast each agency answers, best first.

Definitions are those of `metrics.queries` (resolved = `resolved`/`closed`; archived and rejected reports are
not counted against an agency; the score is the lower end of the 95% Wilson interval of the resolution rate,
so 2 of 2 does not outrank 480 of 500). This module adds what the league table needs on top: the whole
interval (for error bars), the median response in one grouped query, and the change against the previous
period of the same length (in on-time compliance, see TREND_MIN_CASES). Everything is aggregated in SQL
and runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from metrics import daily, queries
from metrics.filters import C, Filters
from metrics.queries import count_if, is_overdue
from metrics.sql import share
from models import Agency

A = Agency.__table__.c

COLUMNS = ["rank", "agency_code", "agency", "agency_kind", "received", "resolved", "actionable",
           "resolution_rate", "ci_low", "ci_high", "score", "sla_met", "sla_missed", "sla_compliance",
           "median_response_h", "overdue_now", "received_previous", "actionable_previous",
           "resolution_rate_previous", "sla_compliance_previous", "trend_pp"]
# The trend compares on-time (SLA) compliance with the previous period. Not the resolution rate: a period
# that has just ended still holds complaints being worked on, so its rate always looks worse than the one
# before. On-time compliance counts only complaints whose deadline has passed, which is fair to both.
TREND_MIN_CASES = 5


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion; (0, 0) when there is nothing to measure."""
    if total == 0:
        return 0.0, 0.0
    p = successes / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    denominator = 1 + z * z / total
    return max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator)


def league_table(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> pd.DataFrame:
    """One row per agency with complaints in the period, ranked by Wilson score (then volume, then code)."""
    rows = []
    periods = [daily.by_value(daily.period_facts(engine, f, tz, "agency", durations=f is filters))
               for f in (filters, filters.previous())]
    open_figures = _open_by_agency(engine, filters, now, tz)
    current, before = periods
    for code in dict.fromkeys([*current, *before]):
        if not code:
            continue
        row = [code]
        for i, groups in enumerate(periods):
            counts = groups[code].counts if code in groups else dict.fromkeys(daily.COUNTS, 0)
            row += [counts["n"], counts["resolved"], counts["actionable"], counts["resolution_met"],
                    counts["resolution_late"] + open_figures.get(code, (0, 0, 0))[1 + i]]
        rows.append(row)
    medians = {code: daily.percentiles_from(g.response, (0.5,))[0] for code, g in current.items()}
    overdue = {code: figures[0] for code, figures in open_figures.items()}
    with engine.connect() as conn:
        agencies = {code: (name, kind) for code, name, kind in conn.execute(
            select(A.code, func.coalesce(A.short_name, A.name), A.kind)).all()}
    records = []
    for code, n, done, base, sla_met, sla_missed, n_prev, done_prev, base_prev, met_prev, missed_prev in rows:
        if not n:
            continue  # complaints only in the previous period: nothing to rank now
        low, high = wilson_interval(done, base)
        sla, sla_prev = share(sla_met, sla_met + sla_missed), share(met_prev, met_prev + missed_prev)
        comparable = min(sla_met + sla_missed, met_prev + missed_prev) >= TREND_MIN_CASES
        name, kind = agencies.get(code, (code, "city"))
        records.append({
            "agency_code": code, "agency": name, "agency_kind": kind, "received": n, "resolved": done,
            "actionable": base, "resolution_rate": share(done, base), "ci_low": low, "ci_high": high, "score": low,
            "sla_met": sla_met, "sla_missed": sla_missed, "sla_compliance": sla,
            "median_response_h": medians.get(code), "overdue_now": overdue.get(code, 0),
            "received_previous": n_prev, "actionable_previous": base_prev,
            "resolution_rate_previous": share(done_prev, base_prev), "sla_compliance_previous": sla_prev,
            "trend_pp": (sla - sla_prev) * 100 if comparable else None,
        })
    table = pd.DataFrame(records, columns=[c for c in COLUMNS if c != "rank"])
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = table.sort_values(["score", "received", "agency_code"], ascending=[False, False, True])
    table = table.reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def _open_by_agency(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo) -> dict:
    """{agency: (overdue now, resolution missed while open in the period, in the previous period)} in one pass
    over the open complaints (three took a third of the league table's time at 1M)."""
    begin, finish = filters.bounds(tz)
    previous_begin, _ = filters.previous().bounds(tz)
    missed = and_(C.resolved_at.is_(None), C.resolve_due_at < now)
    with engine.connect() as conn:
        rows = conn.execute(select(
            C.agency_code, count_if(is_overdue(now)),
            count_if(and_(missed, C.received_at >= begin, C.received_at < finish)),
            count_if(and_(missed, C.received_at >= previous_begin, C.received_at < begin)),
        ).where(*queries.open_now(filters, conn.dialect.name), C.agency_code.isnot(None))
            .group_by(C.agency_code)).all()
    return {code: (int(a), int(b), int(c)) for code, a, b, c in rows}


def agency_overdue(engine: Engine, filters: Filters, now: datetime, agency_code: str,
                   limit: int = 500) -> pd.DataFrame:
    """One agency's open complaints past their deadline, most overdue first. No text, no reporter data."""
    return queries.most_overdue(engine, replace(filters, agencies=(agency_code,)), now, limit)


def overdue_total(engine: Engine, filters: Filters, now: datetime, agency_code: str) -> int:
    """How many of the agency's complaints are overdue now (the list above may be cut at its limit)."""
    with engine.connect() as conn:
        chosen = replace(filters, agencies=(agency_code,))
        return conn.execute(select(func.count()).where(*queries.open_now(chosen, conn.dialect.name),
                                                       is_overdue(now))).scalar_one()
