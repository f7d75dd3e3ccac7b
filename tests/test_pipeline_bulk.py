"""The pipeline's multi-row writes (connectors.pipeline._Bulk): a batch split over several INSERT statements, the
last one shorter, stores every column value as the ORM reads it back, and the ids the upsert returns tie each
status event and reporter contact to its own complaint, on first load, on updates and on an unchanged re-import."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

import connectors.pipeline as pipeline
from bench.data import dataset
from bench.ingest import RecordsConnector
from connectors.pipeline import DATA_FIELDS, run_import
from models import Complaint, ComplaintStatusEvent, ReporterContact
from regions.normalise import Resolver
from regions.sla import SlaBook

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


@pytest.fixture
def small_statements(monkeypatch):
    """Seven rows per complaint statement (and few per event / contact statement): many statements a batch."""
    width = len(DATA_FIELDS) + 4
    monkeypatch.setattr(pipeline, "_MAX_PARAMETERS", {"sqlite": width * 7, "postgresql": width * 7})


def _connector(records, surabaya) -> RecordsConnector:
    return RecordsConnector(records[0].channel, records, region=surabaya, resolver=Resolver(surabaya),
                            sla=SlaBook(surabaya))


def _stored(engine):
    with engine.connect() as conn:
        complaints = {c.source_id: c for c in conn.execute(select(Complaint.__table__))}
        events = conn.execute(select(ComplaintStatusEvent.__table__).order_by(ComplaintStatusEvent.id)).all()
        contacts = {r.complaint_id: r for r in conn.execute(select(ReporterContact.__table__))}
    return complaints, events, contacts


def test_multi_row_writes_store_every_value_and_tie_events_and_contacts_to_their_complaint(
        engine, surabaya, small_statements):
    generated = dataset(3000, surabaya, now=NOW, seed=3).records
    records = max(generated.values(), key=lambda r: sum(1 for x in r if x.reporter))[:1000]
    assert sum(1 for r in records if r.reporter) > 100

    first = run_import(_connector(records, surabaya), engine, batch_size=333)
    assert (first.state, first.read, first.inserted) == ("succeeded", len(records), len(records))

    complaints, events, contacts = _stored(engine)
    assert len(complaints) == len(records)
    for record in records:
        stored = complaints[record.source_id]
        for name in DATA_FIELDS:
            assert getattr(stored, name) == getattr(record, name), (record.source_id, name)
        assert stored.first_seen_at.tzinfo is not None and stored.last_run_id == first.run_id
    by_id = {c.id: c for c in complaints.values()}
    assert len(events) == len(records)  # one first-seen event each, on its own complaint
    assert {e.complaint_id for e in events} == set(by_id)
    for event in events:
        assert event.previous_status is None and event.status == by_id[event.complaint_id].status
        assert event.run_id == first.run_id
    with_reporter = {r.source_id: r.reporter for r in records if r.reporter}
    assert len(contacts) == len(with_reporter)
    for complaint_id, contact in contacts.items():
        reporter = with_reporter[by_id[complaint_id].source_id]
        assert (contact.name, contact.phone) == (reporter.name, reporter.phone)

    # some complaints move on: updated in place, one event each on the right complaint, ids unchanged
    moved = {r.source_id for r in records[::7] if r.status != "rejected"}
    changed = [r.model_copy(update={"status": "rejected", "status_raw": "ditolak"}) if r.source_id in moved else r
               for r in records]
    second = run_import(_connector(changed, surabaya), engine, batch_size=333)
    assert (second.updated, second.unchanged, second.inserted) == (len(moved), len(records) - len(moved), 0)
    after, events_after, contacts_after = _stored(engine)
    assert {s: c.id for s, c in after.items()} == {s: c.id for s, c in complaints.items()}
    new_events = [e for e in events_after if e.run_id == second.run_id]
    assert sorted(by_id[e.complaint_id].source_id for e in new_events) == sorted(moved)
    for event in new_events:
        assert event.status == "rejected" and event.previous_status == complaints[by_id[event.complaint_id].source_id].status
    assert contacts_after.keys() == contacts.keys()

    third = run_import(_connector(changed, surabaya), engine, batch_size=333)
    assert (third.unchanged, third.updated, third.inserted) == (len(records), 0, 0)
    assert len(_stored(engine)[1]) == len(events_after)


def test_row_hash_formula_is_unchanged(surabaya):
    """Stored row hashes stay valid across releases: blake2b-128 of repr((field values, reporter dump))."""
    import hashlib

    from connectors.pipeline import _DATA_VALUES, _hash_values

    records = [r for rs in dataset(200, surabaya, now=NOW, seed=5).records.values() for r in rs]
    assert any(r.reporter for r in records) and any(r.reporter is None for r in records)
    for record in records:
        values = _DATA_VALUES(record.__dict__)
        expected = hashlib.blake2b(repr((values, record.reporter.model_dump() if record.reporter else None)).encode(),
                                   digest_size=16).hexdigest()
        assert _hash_values(values, record.reporter.model_dump() if record.reporter else None) == expected
