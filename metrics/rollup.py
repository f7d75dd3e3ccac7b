"""Page speed at scale: covering indexes for the questions every dashboard page asks.

Measured with `python -m bench` at 1,000,000 complaints on SQLite (bench/README.md): the overview's, map's and
response-time page's queries read most of their rows through the generic (kind, received_at) index and then
fetch every matching row from the table; "open now" queries even walk every complaint of the chosen kinds. The
two indexes below hold every column those queries touch, so SQLite answers them from the index alone:

- ix_complaint_open_now: still-open complaints (status first, then kind) with the deadlines and dimensions the
  open / overdue / most-overdue / open-age figures use, and the id (migration 0004): SQLite keeps the rowid in
  every index, PostgreSQL does not, and the most-overdue list picks its ids from this index alone (2.6 s -> 0.2 s
  at 10M rows on PostgreSQL); and resolved_at (migration 0005): "missed while still open" needs it, and without
  it PostgreSQL answered the headline's open-complaint figures from the period index (2.1 s -> 0.2 s at 10M);
- ix_complaint_period_cover: complaints of a period (kind, received_at) with status, dimensions and every time
  the period figures, percentiles, the density grid and the 112 figures read.

No query changes: the planner picks them up by itself. They are declared here (attached to the complaint table)
and created by migration 0003, which imports this module, so the migrated schema matches the models.
Cost: about a third more database size and slower bulk inserts (every row maintains two more index entries).
"""
from __future__ import annotations

from sqlalchemy import Index

from models import Complaint

C = Complaint.__table__.c

OPEN_NOW = Index(
    "ix_complaint_open_now",
    C.status, C.kind, C.channel, C.district_code, C.agency_code, C.category, C.resolve_due_at, C.response_due_at,
    C.first_response_at, C.received_at, C.resolved_at, C.id,
)
PERIOD_COVER = Index(
    "ix_complaint_period_cover",
    C.kind, C.received_at, C.status, C.channel, C.district_code, C.agency_code, C.category, C.source_type,
    C.first_response_at, C.resolved_at, C.response_due_at, C.resolve_due_at, C.lat, C.lon,
)
PAGE_INDEXES = (OPEN_NOW, PERIOD_COVER)
