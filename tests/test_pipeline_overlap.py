"""File imports write on a thread of their own while the calling thread parses (connectors.pipeline._WriterThread).

The overlapped import must store exactly what the inline one stores (rows, events, quarantine, counts, cursor,
the re-read when an id repeats across batches), keep a run one transaction, and surface a failure on either side
in the caller: the run is recorded failed with nothing stored. Real SQLite and PostgreSQL; failures come from a
database trigger and from a source that breaks part-way.
"""
from __future__ import annotations

import csv
import multiprocessing
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from bench.data import CSV_COLUMNS, call112_lines
from connectors.base import SourceError
from connectors.call112 import Call112Connector
from connectors.pipeline import run_import
from models import ChannelState, Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BATCH = 100  # many batches, so writes queue up behind the parsing
VOLATILE = {"id", "complaint_id", "first_seen_at", "last_changed_at", "last_run_id", "run_id", "created_at",
            "observed_at"}


@pytest.fixture(scope="module")
def call_log(tmp_path_factory) -> Path:
    """1,200 generated calls, bad rows (empty UID, impossible date, unknown call type) and ids that come again
    batches later with a finished duration (the later row wins: the pipeline reads the file twice)."""
    rows = [next(csv.reader([line])) for line in call112_lines(1200, now=NOW, seed=7)]
    for at in range(40, 1200, 97):
        broken = list(rows[at])
        broken[[0, 1, 2][at % 3]] = ["", "2025-13-45 99:00:00", "no such type"][at % 3]
        rows[at] = broken
    repeats = []
    for at in range(3, 600, 61):
        again = list(rows[at])
        again[10] = "0 Hari : 2 Jam : 0 Menit : 5 Detik"
        repeats.append(again)
    path = tmp_path_factory.mktemp("overlap") / "call112.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows + repeats)
    return path


def _stored(engine) -> dict:
    """Everything an import leaves, without ids and clock times (they differ between two runs)."""
    def rows(table, order):
        with engine.connect() as conn:
            return [{k: v for k, v in row.items() if k not in VOLATILE}
                    for row in conn.execute(select(table).order_by(*order)).mappings()]

    complaints = rows(Complaint.__table__, [Complaint.source_id])
    with engine.connect() as conn:
        events = conn.execute(select(Complaint.source_id, ComplaintStatusEvent.status,
                                     ComplaintStatusEvent.previous_status, ComplaintStatusEvent.time_basis)
                              .join(Complaint, Complaint.id == ComplaintStatusEvent.complaint_id)
                              .order_by(ComplaintStatusEvent.id)).all()
        marked = sorted(conn.execute(text("SELECT day FROM rollup_pending")).scalars())
    return {"complaints": complaints, "events": events, "marked_days": marked,
            "quarantined": rows(QuarantinedRecord.__table__, [QuarantinedRecord.id]),
            "cursor": rows(ChannelState.__table__, [ChannelState.channel])}


def _clear(engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def _runs(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(ImportRun.__table__).order_by(ImportRun.id)).mappings()]


def _summary(summary) -> dict:
    return summary.as_dict() | {"run_id": None}


MODES = [(False, False), (True, False), (True, True)]  # (overlap, parse_process)


def test_overlapped_import_stores_what_the_inline_one_stores(engine, surabaya, call_log):
    outcomes = []
    for overlap, parse_process in MODES:  # inline; writer thread; writer thread and a forked parser
        _clear(engine)
        first = run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f",
                           batch_size=BATCH, overlap=overlap, parse_process=parse_process)
        stored = _stored(engine)
        again = run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f",
                           batch_size=BATCH, overlap=overlap, parse_process=parse_process)
        outcomes.append((_summary(first), stored, _summary(again), _stored(engine)))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    first, stored, again, _ = outcomes[2]
    assert first["state"] == again["state"] == "succeeded"
    assert first["read"] == 1200 + 10 and first["quarantined"] == len(stored["quarantined"]) == 12
    assert first["unchanged"] == 10 and first["inserted"] == len(stored["complaints"]) == 1200 - 12
    assert again["unchanged"] == first["read"] - first["quarantined"] and again["inserted"] == again["updated"] == 0
    assert {q["reason"].split(":")[0] for q in stored["quarantined"]} >= {"UID is empty"}


@pytest.mark.parametrize("backlogged", [False, True])
def test_times_formatted_by_the_reading_side_store_what_the_writer_would(engine, surabaya, call_log, monkeypatch,
                                                                         backlogged):
    """A writer that is behind gets the batch's SQLite time texts made ahead by the reading side; whether it is
    behind depends on timing, so both ways are forced here and compared with the inline import."""
    from connectors import pipeline

    _clear(engine)
    run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH,
               overlap=False)
    inline = _stored(engine)
    _clear(engine)
    monkeypatch.setattr(pipeline._WriterThread, "backlogged", lambda self: backlogged)
    formatted = []
    original = pipeline._sqlite_texts_of
    monkeypatch.setattr(pipeline, "_sqlite_texts_of", lambda batch: formatted.append(len(batch)) or original(batch))
    run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH,
               overlap=True)
    assert _stored(engine) == inline
    ahead = engine.dialect.name == "sqlite" and backlogged
    assert (sum(formatted) > 0) == ahead


def test_overlap_is_the_default_for_file_imports_only(engine, surabaya, call_log):
    assert sys.getswitchinterval() == pytest.approx(0.005)
    summary = run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH)
    assert summary.state == "succeeded" and summary.reconciles
    assert sys.getswitchinterval() == pytest.approx(0.005)  # restored once the writer is done


@pytest.fixture
def failing_insert(engine):
    """A trigger refusing one source id, on either backend: the database itself fails a write mid-run."""
    def install(source_id: str) -> None:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON complaint WHEN NEW.source_id = "
                                  f"'{source_id}' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"))
            else:
                conn.execute(text(f"CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.source_id = "
                                  f"'{source_id}' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; "
                                  f"RETURN NEW; END $$ LANGUAGE plpgsql"))
                conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON complaint FOR EACH ROW "
                                  "EXECUTE FUNCTION refuse()"))

    yield install
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS refuse" + ("" if conn.dialect.name == "sqlite" else " ON complaint")))
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP FUNCTION IF EXISTS refuse()"))


@pytest.mark.parametrize("overlap, parse_process", MODES)
def test_a_failed_write_fails_the_run_and_stores_nothing(engine, surabaya, call_log, failing_insert, overlap,
                                                          parse_process):
    late = next(csv.reader([call112_lines(1200, now=NOW, seed=7)[900]]))[0]  # batches after the first ones
    failing_insert(late)
    with pytest.raises(DBAPIError, match="refused by test trigger"):
        run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH,
                   overlap=overlap, parse_process=parse_process)
    run = _runs(engine)[-1]
    assert run["state"] == "failed" and "refused by test trigger" in run["error"]
    assert (run["read"], run["inserted"], run["quarantined"]) == (0, 0, 0)  # a file import commits nothing
    stored = _stored(engine)
    assert stored["complaints"] == stored["events"] == stored["quarantined"] == stored["cursor"] == []
    assert sys.getswitchinterval() == pytest.approx(0.005)
    assert not multiprocessing.active_children()  # a forked parser ends with the run


class BreaksPartWay(Call112Connector):
    """A source that fails after `rows` rows, while earlier batches wait to be written or are written."""

    rows = 750

    def fetch(self, since=None):
        for n, row in enumerate(super().fetch(since)):
            if n == self.rows:
                raise SourceError("the file broke part-way")
            yield row


@pytest.mark.parametrize("overlap, parse_process", MODES)
def test_a_source_breaking_part_way_stores_nothing(engine, surabaya, call_log, overlap, parse_process):
    summary = run_import(BreaksPartWay(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH,
                         overlap=overlap, parse_process=parse_process)
    assert summary.state == "failed" and summary.error == "the file broke part-way"
    assert (summary.read, summary.inserted, summary.quarantined) == (0, 0, 0)
    run = _runs(engine)[-1]
    assert run["state"] == "failed" and run["read"] == 0
    stored = _stored(engine)
    assert stored["complaints"] == stored["quarantined"] == []


def test_a_failed_run_does_not_keep_the_next_import_from_writing(engine, surabaya, call_log, failing_insert):
    failing_insert("no such id")
    run_import(BreaksPartWay(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH)
    summary = run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH)
    assert summary.state == "succeeded" and summary.inserted == 1200 - 12


def test_sqlite_time_texts_are_the_same_when_one_moment_fills_several_columns():
    """The id-keyed memo shared by a batch's statements gives each value the text it gets alone."""
    from datetime import timedelta

    from connectors.pipeline import _sqlite_utc_text, _sqlite_utc_texts

    wib = timezone(timedelta(hours=7))
    moment = datetime(2025, 12, 5, 6, 53, 50, tzinfo=timezone.utc)
    column = [moment, None, moment.replace(microsecond=120), datetime(2025, 12, 5, 13, 53, 50, tzinfo=wib),
              datetime(2025, 12, 5, 6, 53, 50, tzinfo=timezone.utc), moment]
    texts: dict = {}
    first = _sqlite_utc_texts(column, texts)
    again = _sqlite_utc_texts(list(reversed(column)), texts)  # another column of the same rows
    expected = [_sqlite_utc_text(v) for v in column]
    assert first == expected and again == expected[::-1]
    assert expected[0] == "2025-12-05 06:53:50.000000" and expected[2] == "2025-12-05 06:53:50.000120"
    assert expected[3] == expected[0]


def test_an_in_memory_sqlite_database_imports_inline(surabaya, call_log):
    """SQLAlchemy opens in-memory SQLite with check_same_thread: such a connection is never handed to a writer."""
    from sqlalchemy import create_engine

    from connectors.pipeline import _usable_from_another_thread
    from models.db import prepare_database

    engine = prepare_database(create_engine("sqlite://"), surabaya)
    with engine.connect() as conn:
        assert not _usable_from_another_thread(conn)
    summary = run_import(Call112Connector(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH)
    assert summary.state == "succeeded" and summary.inserted == 1200 - 12
    engine.dispose()


class CountsParses(Call112Connector):
    parses = 0

    def parse(self, raw):
        type(self).parses += 1
        return super().parse(raw)


def test_a_forked_parser_does_the_parsing_and_the_run_still_reconciles(engine, surabaya, call_log):
    CountsParses.parses = 0
    summary = run_import(CountsParses(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH,
                         parse_process=True)
    assert summary.state == "succeeded" and summary.reconciles and summary.read == 1210
    # The file repeats ids across batches, so it is read twice, with a scan for the repeats in between: only that
    # scan parsed here, both reads in the forked process
    assert CountsParses.parses == 1210
    CountsParses.parses = 0
    _clear(engine)
    run_import(CountsParses(source=call_log, region=surabaya), engine, source="f", batch_size=BATCH)
    assert CountsParses.parses == 3 * 1210  # without it, both reads and the scan parse here
