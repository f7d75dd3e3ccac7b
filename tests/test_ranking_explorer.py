"""The league table and the complaint explorer queries, on SQLite and PostgreSQL, with hand-checked numbers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from metrics import Filters, queries
from metrics.explorer import PersonalDataSearch, complaint_detail, explore, status_timeline
from metrics.ranking import TREND_MIN_CASES, league_table, wilson_interval
from models import Agency, Complaint, ComplaintStatusEvent, District, ReporterContact

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 3, 20, 5, 0, tzinfo=timezone.utc)  # 12:00 WIB
TODAY = NOW.astimezone(WIB).date()
FILTERS = Filters.last_days(30, TODAY)


def make(session: Session, n: int, *, agency: str | None, days_ago: float, status: str = "resolved",
         response_h: float | None = 2.0, resolve_h: float | None = 24.0, due_h: float = 72.0,
         title: str = "Jalan rusak", body: str = "Jalan berlubang di depan pasar.", confidential: bool = False,
         channel: str = "wargaku", kind: str = "complaint", category: str = "roads") -> Complaint:
    received = NOW - timedelta(days=days_ago)
    complaint = Complaint(
        channel=channel, source_id=f"{channel}-{n}", received_at=received, kind=kind, category=category,
        status=status, agency_code=agency, district_code="genteng", title=title, body=body,
        is_confidential=confidential, row_hash="x" * 32,
        first_response_at=None if response_h is None else received + timedelta(hours=response_h),
        resolved_at=None if resolve_h is None else received + timedelta(hours=resolve_h),
        response_due_at=received + timedelta(hours=24), resolve_due_at=received + timedelta(hours=due_h),
    )
    session.add(complaint)
    return complaint


@pytest.fixture
def league(engine):
    """Agency A: 10 in the period (7 on time, 1 late, 1 archived, 1 open and overdue); B: 2 of 2; C: 1 open.

    Previous period: A resolved 5 of 5, all late (on-time share 0%); B nothing.
    """
    with Session(engine) as session:
        session.add_all([Agency(code="A", name="Dinas A", short_name="A", kind="city"),
                         Agency(code="B", name="Dinas B", kind="city"),
                         Agency(code="C", name="PLN", kind="external"),
                         District(code="genteng", name="Genteng")])
        n = 0
        for hours in (1, 2, 3, 4, 5, 6, 7):  # on time, response 1..7 h
            n += 1
            make(session, n, agency="A", days_ago=5 + n, response_h=hours, resolve_h=24)
        n += 1
        make(session, n, agency="A", days_ago=20, response_h=30, resolve_h=100)  # late (due 72 h)
        n += 1
        make(session, n, agency="A", days_ago=3, status="archived", response_h=None, resolve_h=None)
        n += 1
        make(session, n, agency="A", days_ago=10, status="in_progress", response_h=8, resolve_h=None)  # overdue
        for _ in range(2):
            n += 1
            make(session, n, agency="B", days_ago=2, response_h=0.5, resolve_h=10)
        n += 1
        make(session, n, agency="C", days_ago=1, status="dispatched", response_h=None, resolve_h=None)
        for _ in range(5):  # previous period
            n += 1
            make(session, n, agency="A", days_ago=40, response_h=1, resolve_h=80)
        n += 1
        make(session, n, agency=None, days_ago=1)  # no agency: not ranked
        session.commit()
    return engine


def test_league_table_numbers(league):
    table = league_table(league, FILTERS, NOW, WIB).set_index("agency_code")
    assert list(table.index) == ["A", "B", "C"]
    assert list(table["rank"]) == [1, 2, 3]
    a = table.loc["A"]
    assert (a["received"], a["resolved"], a["actionable"]) == (10, 8, 9)
    assert a["resolution_rate"] == pytest.approx(8 / 9)
    low, high = wilson_interval(8, 9)
    assert (a["ci_low"], a["ci_high"], a["score"]) == (pytest.approx(low), pytest.approx(high), pytest.approx(low))
    assert low < 8 / 9 < high
    assert (a["sla_met"], a["sla_missed"]) == (7, 2)  # the late one and the open overdue one
    assert a["sla_compliance"] == pytest.approx(7 / 9)
    # responses 1..7 h, 30 h and 8 h: the fifth of nine sorted values is 5 h
    assert a["median_response_h"] == pytest.approx(5.0, abs=1e-3)
    assert a["overdue_now"] == 1
    assert (a["received_previous"], a["sla_compliance_previous"]) == (5, 0.0)
    assert a["trend_pp"] == pytest.approx(7 / 9 * 100)
    b = table.loc["B"]
    assert (b["resolved"], b["actionable"], b["resolution_rate"]) == (2, 2, 1.0)
    assert b["median_response_h"] == pytest.approx(0.5, abs=1e-3)
    assert b["score"] < a["score"]  # 2 of 2 does not beat 8 of 9
    assert pd.isna(b["trend_pp"])  # nothing to compare with
    c = table.loc["C"]
    assert (c["agency"], c["agency_kind"], c["resolution_rate"], c["score"]) == ("PLN", "external", 0.0, 0.0)
    assert TREND_MIN_CASES == 5


def test_league_table_agrees_with_the_shared_ranking(league):
    mine = league_table(league, FILTERS, NOW, WIB).set_index("agency_code")
    shared = queries.agency_ranking(league, FILTERS, NOW, WIB).set_index("agency_code")
    assert set(mine.index) == set(shared.index)
    for column in ("received", "resolved", "actionable", "resolution_rate", "score", "sla_compliance",
                   "median_response_h", "overdue_now", "received_previous"):
        for code in mine.index:
            theirs, ours = shared.loc[code, column], mine.loc[code, column]
            if pd.isna(theirs):
                assert pd.isna(ours)
            else:
                assert ours == pytest.approx(theirs, abs=1e-6), (code, column)


def test_league_table_respects_filters_and_is_empty_without_data(league):
    only_b = league_table(league, Filters.last_days(30, TODAY, agencies=("B",)), NOW, WIB)
    assert list(only_b["agency_code"]) == ["B"]
    empty = league_table(league, Filters.last_days(7, TODAY - timedelta(days=400)), NOW, WIB)
    assert empty.empty and "rank" in empty.columns


def test_wilson_interval():
    assert wilson_interval(0, 0) == (0.0, 0.0)
    low, high = wilson_interval(480, 500)
    assert 0.93 < low < 0.96 < high < 0.98
    assert wilson_interval(2, 2)[0] < low
    assert low == pytest.approx(queries.wilson_lower_bound(480, 500))


@pytest.fixture
def texts(engine):
    with Session(engine) as session:
        session.add(District(code="genteng", name="Genteng"))
        make(session, 1, agency="A", days_ago=1, title="BANJIR di Jl. Tunjungan", body="Air setinggi lutut.")
        make(session, 2, agency="A", days_ago=2, title="Sampah menumpuk", body="Sudah 100% penuh, banjir sampah")
        make(session, 3, agency="A", days_ago=3, title="Lampu mati", body="Nama : Budi Santoso\nNIK : 3578014509870002"
             "\nHP 081234567890, email budi.s@gmail.com. Lampu PJU mati.")
        secret = make(session, 4, agency="A", days_ago=4, title="Pungli petugas parkir",
                      body="Saya Rina, NIK 3578014509870003, melihat pungli.", confidential=True)
        make(session, 5, agency="A", days_ago=5, title="Info jadwal vaksin", kind="information_request",
             status="in_progress", resolve_h=None)
        make(session, 6, agency="A", days_ago=6, title="Laka lantas", kind="emergency_call", channel="call112")
        for n in range(7, 37):  # thirty more, for paging
            make(session, n, agency="B", days_ago=7 + n / 10, title=f"Saluran mampet {n}")
        make(session, 99, agency="A", days_ago=90, title="banjir lama")  # outside the period
        session.commit()
        session.refresh(secret)
        complaint_3 = session.exec(select(Complaint).where(Complaint.source_id == "wargaku-3")).one()
        session.add(ReporterContact(complaint_id=complaint_3.id, name="Budi Santoso", nik="3578014509870002",
                                    phone="081234567890", email="budi.s@gmail.com", address="Jl. Melati No. 1"))
        base = complaint_3.received_at
        session.add_all([
            ComplaintStatusEvent(complaint_id=complaint_3.id, observed_at=base + timedelta(hours=5),
                                 previous_status="new", status="in_progress", status_raw="Diproses",
                                 time_basis="source"),
            ComplaintStatusEvent(complaint_id=complaint_3.id, observed_at=base, previous_status=None,
                                 status="new", status_raw="Baru", time_basis="source"),
            ComplaintStatusEvent(complaint_id=complaint_3.id, observed_at=base + timedelta(days=1),
                                 previous_status="in_progress", status="resolved",
                                 status_raw="<b>Selesai</b>", time_basis="observed"),
        ])
        session.commit()
        return {"engine": engine, "secret": secret.id, "pii": complaint_3.id}


def ids(page) -> list[str]:
    return list(page.rows["source_id"])


def test_search_is_case_insensitive_and_escapes_wildcards(texts):
    engine = texts["engine"]
    assert set(ids(explore(engine, FILTERS, WIB, NOW, "banjir"))) == {"wargaku-1", "wargaku-2"}
    assert set(ids(explore(engine, FILTERS, WIB, NOW, "BanJir"))) == {"wargaku-1", "wargaku-2"}
    assert ids(explore(engine, FILTERS, WIB, NOW, "banjir lutut")) == ["wargaku-1"]  # every word must match
    assert ids(explore(engine, FILTERS, WIB, NOW, "100%")) == ["wargaku-2"]  # % is a character, not a wildcard
    assert explore(engine, FILTERS, WIB, NOW, "_").total == 0
    assert ids(explore(engine, FILTERS, WIB, NOW, "wargaku-17")) == ["wargaku-17"]  # report number


def test_confidential_text_is_not_searchable_but_its_number_is(texts):
    engine = texts["engine"]
    assert explore(engine, FILTERS, WIB, NOW, "pungli").total == 0
    found = explore(engine, FILTERS, WIB, NOW, "wargaku-4")
    assert ids(found) == ["wargaku-4"]
    row = found.rows.iloc[0]
    assert bool(row["is_confidential"]) and pd.isna(row["title"])


def test_search_by_personal_data_is_refused(texts):
    for text in ("3578014509870002", "081234567890", "budi.s@gmail.com", "Nama : Budi"):
        with pytest.raises(PersonalDataSearch):
            explore(texts["engine"], FILTERS, WIB, NOW, text)


def test_pages_filters_and_masked_titles(texts):
    engine = texts["engine"]
    first = explore(engine, FILTERS, WIB, NOW, page=1, page_size=25)
    # 5 complaint-kind rows (112 call and the old one left out) + 30 = 35
    assert (first.total, first.pages, len(first.rows)) == (35, 2, 25)
    second = explore(engine, FILTERS, WIB, NOW, page=2, page_size=25)
    assert len(second.rows) == 10 and not set(ids(first)) & set(ids(second))
    assert list(first.rows["received_at"]) == sorted(first.rows["received_at"], reverse=True)
    assert explore(engine, FILTERS, WIB, NOW, page=99, page_size=25).page == 2  # clamped
    assert explore(engine, FILTERS, WIB, NOW, page_size=7).page_size == 25  # only the offered sizes
    calls = explore(engine, FILTERS, WIB, NOW, kinds=("emergency_call",))
    assert ids(calls) == ["call112-6"]
    open_now = explore(engine, FILTERS, WIB, NOW, statuses=("in_progress",))
    assert ids(open_now) == ["wargaku-5"]
    titled = dict(zip(ids(first), first.rows["title"]))
    assert titled["wargaku-1"] == "BANJIR di Jl. Tunjungan"
    assert explore(engine, Filters.last_days(30, TODAY, agencies=("B",)), WIB, NOW).total == 30


def test_detail_masks_text_and_hides_confidential_text(texts):
    engine = texts["engine"]
    detail = complaint_detail(engine, texts["pii"], NOW)
    assert "3578014509870002" not in detail["body"] and "081234567890" not in detail["body"]
    assert "budi.s@gmail.com" not in detail["body"] and "Budi" not in detail["body"]
    assert "[NIK]" in detail["body"] and "[telepon]" in detail["body"] and "[email]" in detail["body"]
    assert detail["received_at"].tzinfo is not None
    secret = complaint_detail(engine, texts["secret"], NOW)
    assert secret["is_confidential"] and secret["title"] is None and secret["body"] is None
    assert secret["category"] == "roads" and secret["status"] == "resolved"
    assert complaint_detail(engine, 10**9, NOW) is None
    assert complaint_detail(engine, "not a number", NOW) is None


def test_status_timeline_in_order_with_markup_neutralised(texts):
    timeline = status_timeline(texts["engine"], texts["pii"])
    assert list(timeline["status"]) == ["new", "in_progress", "resolved"]
    assert list(timeline["time_basis"]) == ["source", "source", "observed"]
    assert pd.isna(timeline["previous_status"].iloc[0])
    assert timeline["status_raw"].iloc[2] == "‹b›Selesai‹/b›"


def test_explorer_never_reads_reporter_contact(texts):
    engine = texts["engine"]
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        explore(engine, FILTERS, WIB, NOW, "lampu")
        complaint_detail(engine, texts["pii"], NOW)
        status_timeline(engine, texts["pii"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "reporter_contact" in s]
