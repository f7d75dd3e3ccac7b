"""The complaint explorer: search, filter and page through complaints, and open one with its status history.

Privacy rules, enforced here rather than in the page so that no caller can get around them:
- reporter_contact is never queried;
- every title and body leaves this module through `safe_text` (personal data masked, markup neutralised);
- a confidential (LAPOR "Rahasia") complaint's title and body never leave it at all, and text search does
  not look inside them (a search must not reveal what a confidential report says);
- a search for personal data itself (a NIK, a phone number, a name line) is refused: search must not become a
  way to find out whether a given person has complained.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, case, false, func, or_, select, union_all
from sqlalchemy.engine import Engine

from metrics import daily
from metrics.filters import C, Filters
from metrics.privacy import mask_pii, safe_text
from metrics.queries import is_overdue
from models import ComplaintStatusEvent

E = ComplaintStatusEvent.__table__.c
TITLE_LENGTH = 140
PREVIEW_LENGTH = 600  # of the text, read for rows without a title
PAGE_SIZES = (25, 50, 100)
MAX_TERMS = 8

ROW_COLUMNS = ["id", "channel", "source_id", "received_at", "kind", "category", "district_code", "agency_code",
               "status", "is_confidential", "overdue", "title"]


class PersonalDataSearch(ValueError):
    """The search text itself contains personal data; searching by it is not allowed."""


@dataclass(frozen=True)
class ExplorerPage:
    total: int
    page: int
    page_size: int
    rows: pd.DataFrame

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_terms(text: str | None) -> list[str]:
    """Whitespace-separated words, each of which must match; refused if the text holds personal data."""
    text = (text or "").strip()
    if not text:
        return []
    if mask_pii(text) != text:
        raise PersonalDataSearch(text)
    return text.split()[:MAX_TERMS]


def _text_clause(term: str):
    """Case-insensitive LIKE on both databases: lower() on both sides, % and _ in the term escaped.

    Title and body are searched only where the complaint is not confidential; the source id (a LAPOR
    tracking ID, say) and the channel's own category text are searched everywhere.
    """
    pattern = _like_pattern(term)
    like = lambda column: func.lower(column).like(pattern, escape="\\")  # noqa: E731
    in_text = or_(like(C.title), like(C.body))
    return or_(and_(C.is_confidential == false(), in_text), like(C.source_id), like(C.category_raw))


def _clauses(filters: Filters, tz: ZoneInfo, text: str | None, statuses: tuple[str, ...],
             kinds: tuple[str, ...]) -> list:
    if kinds:
        filters = replace(filters, kinds=tuple(kinds))
    clauses = filters.period_clauses(tz)
    if statuses:
        clauses.append(C.status.in_(tuple(statuses)))
    clauses += [_text_clause(term) for term in search_terms(text)]
    return clauses


def _shown_title(title: str | None, confidential: bool) -> str | None:
    """The title (or, without one, the start of the text), masked, on one line and cut to length."""
    if confidential or not title:
        return None
    if len(title) >= PREVIEW_LENGTH:  # a cut body: drop the last word, it may be half a phone number
        title = title.rsplit(None, 1)[0] if len(title.split()) > 1 else ""
    shown = " ".join(safe_text(title).split())
    return shown if len(shown) <= TITLE_LENGTH else shown[:TITLE_LENGTH - 1].rstrip() + "…"


def explore(engine: Engine, filters: Filters, tz: ZoneInfo, now: datetime, text: str = "",
            statuses: tuple[str, ...] = (), kinds: tuple[str, ...] = (), page: int = 1,
            page_size: int = 25) -> ExplorerPage:
    """One page of the complaints matching the filters and the search, newest first.

    Counted and paged in SQL (COUNT, LIMIT/OFFSET): only one page of rows is ever loaded.
    """
    page_size = page_size if page_size in PAGE_SIZES else PAGE_SIZES[0]
    clauses = _clauses(filters, tz, text, statuses, kinds)
    if not statuses and not search_terms(text):
        # the period's count is the daily rollup's: counting the rows took 5 s at 10M on PostgreSQL
        chosen = replace(filters, kinds=tuple(kinds)) if kinds else filters
        total = daily.totals(daily.period_facts(engine, chosen, tz, durations=False)).counts["n"]
    else:
        total = None
    with engine.connect() as conn:
        if total is None:
            total = conn.execute(select(func.count()).select_from(C.id.table).where(*clauses)).scalar_one()
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        ids = _page_ids(clauses, filters, kinds, page_size, (page - 1) * page_size)
        rows = conn.execute(
            select(C.id, C.channel, C.source_id, C.received_at, C.kind, C.category, C.district_code,
                   C.agency_code, C.status, C.is_confidential, case((is_overdue(now), True), else_=False),
                   func.coalesce(func.nullif(C.title, ""), func.substr(C.body, 1, PREVIEW_LENGTH)))
            .where(C.id.in_(ids)).order_by(C.received_at.desc(), C.id.desc())
        ).all()
    frame = pd.DataFrame([(*row[:-2], bool(row[-2]), _shown_title(row[-1], bool(row[-3]))) for row in rows],
                         columns=ROW_COLUMNS)
    frame["is_confidential"] = frame["is_confidential"].astype(bool)
    return ExplorerPage(total=total, page=page, page_size=page_size, rows=frame)


def _page_ids(clauses: list, filters: Filters, kinds: tuple[str, ...], limit: int, offset: int):
    """The ids of one page, newest first. Per kind, from the (kind, received_at) index in order, then merged:
    one ORDER BY over all kinds made PostgreSQL sort the whole period (2.5 s for 860,000 rows at 10M)."""
    chosen = tuple(kinds) or filters.kinds
    if not chosen or len(chosen) == 1:
        return (select(C.id).where(*clauses).order_by(C.received_at.desc(), C.id.desc())
                .limit(limit).offset(offset).scalar_subquery())
    per_kind = [select(C.id, C.received_at).where(*clauses, C.kind == kind)
                .order_by(C.received_at.desc(), C.id.desc()).limit(offset + limit) for kind in chosen]
    merged = union_all(*[q.subquery().select() for q in per_kind]).subquery()
    return (select(merged.c.id).order_by(merged.c.received_at.desc(), merged.c.id.desc())
            .limit(limit).offset(offset).scalar_subquery())


DETAIL_COLUMNS = (C.id, C.channel, C.source_id, C.kind, C.source_type, C.classification, C.category,
                  C.category_raw, C.status, C.status_raw, C.district_code, C.district_raw, C.subdistrict,
                  C.agency_code, C.agency_raw, C.source_detail, C.received_at, C.first_response_at,
                  C.resolved_at, C.closed_at, C.response_due_at, C.resolve_due_at, C.is_anonymous,
                  C.is_confidential, C.title, C.body)


def complaint_detail(engine: Engine, complaint_id: int, now: datetime) -> dict | None:
    """One complaint as the explorer shows it: texts masked, none at all if the complaint is confidential."""
    try:
        complaint_id = int(complaint_id)
    except (TypeError, ValueError):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(*DETAIL_COLUMNS, case((is_overdue(now), True), else_=False).label("overdue"))
                           .where(C.id == complaint_id)).mappings().first()
    if row is None:
        return None
    detail = dict(row)
    detail["overdue"] = bool(detail["overdue"])
    detail["is_confidential"] = bool(detail["is_confidential"])
    detail["is_anonymous"] = bool(detail["is_anonymous"])
    for field in ("source_type", "classification", "category_raw", "status_raw", "district_raw", "subdistrict",
                  "agency_raw", "source_detail"):  # the source's own wording: untrusted too
        detail[field] = safe_text(detail[field]) if detail[field] else None
    if detail["is_confidential"]:
        detail["title"] = None
        detail["body"] = None
    else:
        detail["title"] = safe_text(detail["title"]) if detail["title"] else None
        detail["body"] = safe_text(detail["body"]) if detail["body"] else None
    return detail


def status_timeline(engine: Engine, complaint_id: int) -> pd.DataFrame:
    """Every status the complaint was seen in, oldest first: when, from, to, the source's own wording, basis."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(E.observed_at, E.previous_status, E.status, E.status_raw, E.time_basis)
            .where(E.complaint_id == int(complaint_id)).order_by(E.observed_at, E.id)
        ).all()
    frame = pd.DataFrame(rows, columns=["observed_at", "previous_status", "status", "status_raw", "time_basis"])
    frame["status_raw"] = [safe_text(v) if v else None for v in frame["status_raw"]]
    return frame
