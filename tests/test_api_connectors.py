"""The polled API channels (Wargaku, Media Center, JSS, Open311) against the real local sample server, through
the pipeline, on SQLite and PostgreSQL. The server runs in a thread on a free port; short timeouts keep every
test bounded."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import ceil

import pytest
from sqlalchemy import func, select

from connectors import SourceError, connector_for
from connectors.pipeline import read_cursor, run_import
from connectors.sample_server import SampleHttpServer, SampleStore
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord, ReporterContact
from regions import load_region
from regions.geo import slugify
from tests.conftest import PROJECT_ROOT

# What sample_data/FORMATS.md documents for each feed: endpoint, id, created and updated fields, unified statuses.
PATHS = {"wargaku": "/wargaku/complaints", "mediacenter": "/mediacenter/tickets", "jss": "/jss/complaints",
         "open311": "/open311/requests.json"}
ID = {"wargaku": "id", "mediacenter": "ticket_no", "jss": "complaint_id", "open311": "service_request_id"}
CREATED = {"wargaku": "created_at", "mediacenter": "submitted", "jss": "reported_at", "open311": "requested_datetime"}
UPDATED = {"wargaku": "updated_at", "mediacenter": "last_update", "jss": "last_modified",
           "open311": "updated_datetime"}
STATUS = {
    "wargaku": {"menunggu": "new", "diproses": "dispatched", "ditindaklanjuti": "in_progress", "selesai": "resolved",
                "ditolak": "rejected"},
    "mediacenter": {"open": "new", "assigned": "dispatched", "in_progress": "in_progress", "closed": "resolved",
                    "rejected": "rejected"},
    "jss": {"submitted": "new", "verified": "verified", "forwarded": "dispatched", "on_process": "in_progress",
            "done": "resolved", "rejected": "rejected"},
}
KIND = {  # the source's own kind -> unified kind (information requests are counted apart from complaints)
    "wargaku": lambda i: {"keluhan": "complaint", "permohonan informasi": "information_request"}.get(i["jenis"],
                                                                                                   "aspiration"),
    "mediacenter": lambda i: "information_request" if i["topic"] == "Permintaan Informasi" else "complaint",
    "jss": lambda i: "information_request" if i["complaint_type"] == "Informasi" else "complaint",
}
BODY = {"wargaku": "isi", "mediacenter": "message", "jss": "description", "open311": "description"}
REPORTER = {  # source path -> reporter_contact column
    "wargaku": {("pelapor", "nama"): "name", ("pelapor", "nik"): "nik", ("pelapor", "telepon"): "phone",
                ("pelapor", "email"): "email"},
    "mediacenter": {("citizen", "name"): "name", ("citizen", "phone"): "phone", ("citizen", "email"): "email"},
    "jss": {("reporter", "full_name"): "name", ("reporter", "id_number"): "nik", ("reporter", "phone_number"): "phone"},
    "open311": {("address",): "address"},
}
PAGE_SIZE = {"wargaku": 20, "mediacenter": 10, "jss": 4, "open311": 8}
JSON_CHANNELS = ("wargaku", "mediacenter", "jss")
TEXT_COLUMNS = ("source_id", "source_type", "classification", "category", "category_raw", "title", "body",
                "status_raw", "district_raw", "subdistrict", "agency_raw", "source_detail")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    from sample_data import generate

    out = tmp_path_factory.mktemp("api_sample")
    generate(out, date(2025, 11, 14), seed=7, scale=0.1, months=2, channels=list(PATHS))
    return out


@pytest.fixture
def server(sample_dir):
    srv = SampleHttpServer(SampleStore.from_dir(sample_dir)).start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def region():
    return load_region("surabaya")


def make(channel, server, region, **settings):
    """The channel's connector with the region's settings pointed at the test server (short timeouts)."""
    return connector_for(channel, region, settings={
        "url": server.url + PATHS[channel], "page_size": PAGE_SIZE[channel], "timeout": 2, "attempts": 3,
        "backoff": 0.01, "max_wait": 0.5, **settings})


def poll(channel, server, region, engine, **settings):
    connector = make(channel, server, region, **settings)
    return run_import(connector, engine, batch_size=PAGE_SIZE[channel]), connector


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def in_change_order(channel, items):
    return sorted(items, key=lambda i: (moment(i[UPDATED[channel]]), str(i[ID[channel]])))


def cursor_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["source_id"]: dict(r) for r in conn.execute(select(Complaint.__table__)).mappings()}


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def cursor_of(engine, channel):
    with engine.connect() as conn:
        return read_cursor(conn, channel)


def page_requests(server, channel):
    return [params for path, params in server.requests if path == PATHS[channel]]


def dig(item, path):
    for part in path:
        item = (item or {}).get(part)
    return item


# --- full first poll ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_first_poll_pages_through_everything(channel, server, region, engine):
    items = server.store.items(channel)
    summary, connector = poll(channel, server, region, engine)

    assert summary.state == "succeeded", summary.error
    assert summary.reconciles
    assert summary.read == summary.inserted == len(items) == count(engine)
    assert summary.quarantined == 0 and count(engine, QuarantinedRecord) == 0
    # it really paged: one request per page (+ the empty or short last one at most)
    pages = ceil(len(items) / PAGE_SIZE[channel])
    assert pages >= 3
    assert pages <= len(page_requests(server, channel)) <= pages + 1
    assert cursor_of(engine, channel) == cursor_text(max(moment(i[UPDATED[channel]]) for i in items))

    rows = stored(engine)
    assert set(rows) == {str(i[ID[channel]]) for i in items}
    for item in items:
        row = rows[str(item[ID[channel]])]
        assert row["status"] == STATUS[channel][row["status_raw"]]
        assert row["kind"] == KIND[channel](item)
        assert row["received_at"] == moment(item[CREATED[channel]])
        assert row["body"] == item[BODY[channel]].strip()
        assert row["category"] is not None, row["category_raw"]
        if row["agency_raw"]:
            assert row["agency_code"] is not None, row["agency_raw"]
        if row["district_raw"]:
            assert row["district_code"] == slugify(row["district_raw"])
        if row["status"] == "resolved":
            assert row["resolved_at"] is not None and row["closed_at"] == row["resolved_at"]
        if row["status"] == "rejected":
            assert row["first_response_at"] is None and row["closed_at"] is not None
        assert row["resolve_due_at"] > row["received_at"]
    assert {"complaint", "information_request"} <= {r["kind"] for r in rows.values()}


def test_first_poll_sends_the_initial_since_then_the_stored_cursor(server, region, engine):
    summary, _ = poll("wargaku", server, region, engine)
    first = page_requests(server, "wargaku")
    assert summary.state == "succeeded"
    assert {moment(p["updated_since"]) for p in first} == {datetime(2000, 1, 1, tzinfo=timezone.utc)}
    assert [int(p["page"]) for p in first] == list(range(1, len(first) + 1))
    assert {p["per_page"] for p in first} == {str(PAGE_SIZE["wargaku"])}
    server.requests.clear()
    poll("wargaku", server, region, engine)
    assert {moment(p["updated_since"]) for p in page_requests(server, "wargaku")} == {
        moment(cursor_of(engine, "wargaku"))}
    # the API's time zone is WIB: the cursor goes out as +07:00
    assert page_requests(server, "wargaku")[0]["updated_since"].endswith("+07:00")


# --- later polls ----------------------------------------------------------------------------------------------


def _new_item(channel, server):
    template = server.store.items(channel)[-1]
    new_id = {"wargaku": "WG-2025-999999", "mediacenter": "MC-251114-9999", "jss": 202511149999,
              "open311": "2511149999"}[channel]
    fresh = {  # just filed: nobody has answered yet
        "wargaku": {"status": "menunggu", "tanggapan_pertama_at": None, "selesai_at": None, "opd": None},
        "mediacenter": {"state": "open", "first_reply": None, "closed": None, "assigned_to": None},
        "jss": {"progress_status": "submitted", "responded_at": None, "completed_at": None, "handler_unit": None},
        "open311": {"status": "open", "status_notes": "Laporan diterima.", "agency_responsible": ""},
    }[channel]
    now = server.store.stamp(channel)
    return {**template, **fresh, ID[channel]: new_id, CREATED[channel]: now, UPDATED[channel]: now}


@pytest.mark.parametrize("channel", [*JSON_CHANNELS, "open311"])
def test_second_poll_reads_only_the_boundary_and_new_records(channel, server, region, engine):
    first, _ = poll(channel, server, region, engine)
    assert first.state == "succeeded"
    boundary = moment(cursor_of(engine, channel))
    server.store.add(channel, _new_item(channel, server))
    expected_read = sum(moment(i[UPDATED[channel]]) >= boundary for i in server.store.items(channel))

    second, _ = poll(channel, server, region, engine)

    assert second.state == "succeeded", second.error
    assert 2 <= expected_read < first.read  # the boundary record(s) and the new one, not everything again
    assert second.read == expected_read
    assert (second.inserted, second.updated, second.unchanged) == (1, 0, expected_read - 1)
    assert stored(engine)[str(_new_item(channel, server)[ID[channel]])]["status"] == "new"
    assert count(engine) == server.store.count(channel)
    assert moment(cursor_of(engine, channel)) > boundary


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_records_changed_on_the_server_come_back_as_updates_with_history(channel, server, region, engine):
    first, _ = poll(channel, server, region, engine)
    assert first.state == "succeeded"
    done = {"wargaku": "selesai", "mediacenter": "closed", "jss": "done"}[channel]
    done_at = {"wargaku": "selesai_at", "mediacenter": "closed", "jss": "completed_at"}[channel]
    replied = {"wargaku": "tanggapan_pertama_at", "mediacenter": "first_reply", "jss": "responded_at"}[channel]
    status_field = {"wargaku": "status", "mediacenter": "state", "jss": "progress_status"}[channel]
    open_items = [i for i in server.store.items(channel)
                  if STATUS[channel][i[status_field]] in ("new", "verified", "dispatched", "in_progress")]
    assert len(open_items) >= 2, "the sample should hold open complaints"
    before = stored(engine)
    changed = {}
    for item in open_items[:2]:
        now = server.store.stamp(channel)
        changed[str(item[ID[channel]])] = server.store.update(
            channel, item[ID[channel]], {status_field: done, done_at: now, replied: item[replied] or now})

    second, _ = poll(channel, server, region, engine)

    assert second.state == "succeeded", second.error
    assert second.updated == 2 and second.inserted == 0 and second.reconciles
    after = stored(engine)
    with engine.connect() as conn:
        events = conn.execute(
            select(Complaint.source_id, ComplaintStatusEvent.previous_status, ComplaintStatusEvent.status,
                   ComplaintStatusEvent.observed_at, ComplaintStatusEvent.time_basis)
            .join(Complaint, Complaint.id == ComplaintStatusEvent.complaint_id)
            .where(ComplaintStatusEvent.run_id == second.run_id)).all()
    assert {e.source_id for e in events} == set(changed)
    for event in events:
        source = changed[event.source_id]
        assert event.previous_status == before[event.source_id]["status"] != "resolved"
        assert event.status == "resolved" == after[event.source_id]["status"]
        assert event.observed_at == moment(source[done_at]) == after[event.source_id]["resolved_at"]
        assert event.time_basis == "source"
    untouched = set(before) - set(changed)
    assert all(after[s]["row_hash"] == before[s]["row_hash"] for s in untouched)


# --- failures part-way ----------------------------------------------------------------------------------------


FAULTS = {
    "http500": ({"fail_after_pages": 2}, "HTTP 500 from"),
    "timeout": ({"delay": 1.0, "delay_after_pages": 2}, "no answer within 0.3 s"),
    "truncated": ({"truncate_after_pages": 2}, "closed part-way"),
}


@pytest.mark.parametrize("channel, fault", [("wargaku", "http500"), ("wargaku", "timeout"), ("wargaku", "truncated"),
                                            ("mediacenter", "http500"), ("jss", "http500"), ("open311", "http500")])
def test_a_server_failing_on_page_3_keeps_pages_1_and_2_and_the_retry_completes(channel, fault, server, region,
                                                                                engine):
    setup, message = FAULTS[fault]
    for name, value in setup.items():
        setattr(server.faults, name, value)
    size = PAGE_SIZE[channel]
    items = server.store.items(channel)
    started = time.monotonic()

    failed, connector = poll(channel, server, region, engine, timeout=0.3, attempts=2)

    assert time.monotonic() - started < 10
    assert failed.state == "failed"
    assert message in failed.error and "after 2 attempts" in failed.error
    assert failed.error.startswith(f"{channel}: ") and "\n" not in failed.error
    assert server.url in failed.error
    # pages 1 and 2 were committed with their cursor; page 3 was asked for twice
    assert count(engine) == 2 * size == failed.inserted == failed.read
    assert connector.http.requests == 2 + 2
    last_committed = in_change_order(channel, items)[2 * size - 1]
    assert cursor_of(engine, channel) == cursor_text(moment(last_committed[UPDATED[channel]]))
    with engine.connect() as conn:
        run = conn.execute(select(ImportRun.state, ImportRun.inserted, ImportRun.error)
                           .where(ImportRun.id == failed.run_id)).one()
    assert (run.state, run.inserted, run.error) == ("failed", 2 * size, failed.error)

    server.faults.clear()
    retry, _ = poll(channel, server, region, engine)

    assert retry.state == "succeeded", retry.error
    assert retry.inserted == len(items) - 2 * size and retry.updated == 0
    assert count(engine) == len(items)
    with engine.connect() as conn:
        distinct = conn.execute(select(func.count(func.distinct(Complaint.source_id)))).scalar_one()
    assert distinct == len(items)
    assert set(stored(engine)) == {str(i[ID[channel]]) for i in items}


def test_a_server_that_never_answers_fails_fast_with_one_line(server, region, engine):
    server.faults.delay = 2.0
    started = time.monotonic()
    summary, _ = poll("jss", server, region, engine, timeout=0.2, attempts=3)
    assert time.monotonic() - started < 5
    assert summary.state == "failed" and summary.read == 0 and count(engine) == 0
    assert summary.error.startswith("jss: no answer within 0.2 s from http://127.0.0.1:")
    assert summary.error.endswith("after 3 attempts")


# --- personal data --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [*JSON_CHANNELS, "open311"])
def test_reporter_data_lands_only_in_reporter_contact(channel, server, region, engine):
    items = {str(i[ID[channel]]): i for i in server.store.items(channel)}
    summary, _ = poll(channel, server, region, engine)
    assert summary.state == "succeeded"
    rows = stored(engine)
    with engine.connect() as conn:
        contacts = {r["complaint_id"]: dict(r) for r in conn.execute(select(ReporterContact.__table__)).mappings()}
    by_id = {row["id"]: source_id for source_id, row in rows.items()}
    assert len(contacts) == len(items)
    checked = 0
    for complaint_id, contact in contacts.items():
        item = items[by_id[complaint_id]]
        row = rows[by_id[complaint_id]]
        for path, column in REPORTER[channel].items():
            value = dig(item, path)
            assert contact[column] == value
            if value is None:
                continue
            checked += 1
            for name in TEXT_COLUMNS:
                if name == "body":  # the citizen's own text is kept as written (dashboards mask it)
                    assert row["body"] == item[BODY[channel]].strip()
                elif row[name] is not None:
                    assert str(value) not in row[name], (name, column)
    assert checked >= len(items)


# --- Open311 --------------------------------------------------------------------------------------------------


def test_open311_polls_the_georeport_server(server, region, engine):
    items = server.store.items("open311")
    summary, _ = poll("open311", server, region, engine)
    assert summary.state == "succeeded", summary.error
    assert summary.read == summary.inserted == len(items) == count(engine)
    requests = page_requests(server, "open311")
    assert [int(p["page"]) for p in requests] == list(range(1, len(requests) + 1))
    assert all("updated_after" in p for p in requests)

    rows = stored(engine)
    seen = set()
    for item in items:
        row = rows[item["service_request_id"]]
        notes = item["status_notes"].lower()
        expected = ("rejected" if "ditutup" in notes else "resolved") if item["status"] == "closed" else \
            "in_progress" if "sedang ditangani" in notes else "dispatched" if "diteruskan" in notes else \
            "verified" if "diverifikasi" in notes else "new" if "diterima" in notes else "in_progress"
        assert row["status"] == expected, (item["status"], item["status_notes"])
        seen.add(row["status"])
        assert row["category"] is not None and row["lat"] == item["lat"] and row["lon"] == item["long"]
        assert row["received_at"] == moment(item["requested_datetime"])
        if item["agency_responsible"]:
            assert row["agency_code"] is not None
        district = item["address"].split("Kec. ")[1].split(",")[0]
        assert row["district_code"] == slugify(district) and row["district_raw"] == f"Kec. {district}"
        for name in TEXT_COLUMNS:  # the street address is the reporter's, not a dashboard's
            assert row[name] is None or item["address"].split(",")[0] not in row[name]
        if row["status"] == "resolved":
            assert row["resolved_at"] == moment(item["updated_datetime"])
    assert {"resolved", "in_progress"} <= seen


WINDOWS = {"supports_updated_after": False, "window_days": 30, "history_days": 500}


def test_open311_without_updated_after_walks_date_windows(server, region, engine):
    summary, _ = poll("open311", server, region, engine, **WINDOWS)
    assert summary.state == "succeeded", summary.error
    assert summary.read == summary.inserted == server.store.count("open311")
    requests = page_requests(server, "open311")
    assert all("start_date" in p and "end_date" in p and "updated_after" not in p for p in requests)
    starts = sorted({moment(p["start_date"]) for p in requests})
    assert len(starts) == ceil(500 / 30)  # 30-day windows over the whole history, each asked for once or paged
    # the cursor is the start of the window holding the newest request: every earlier window is complete
    newest = max(moment(i["requested_datetime"]) for i in server.store.items("open311"))
    floor = max(s for s in starts if s <= newest)
    assert moment(cursor_of(engine, "open311")) == floor

    server.requests.clear()
    again, _ = poll("open311", server, region, engine, **WINDOWS)
    assert again.state == "succeeded" and again.inserted == again.updated == 0 and again.read > 0
    assert min(moment(p["start_date"]) for p in page_requests(server, "open311")) == floor - timedelta(days=30)


def test_open311_date_windows_resume_safely_after_a_failure(server, region, engine):
    server.faults.fail_after_pages, server.faults.fail_times = 1, 2  # the first window with a 2nd page fails twice
    failed, _ = poll("open311", server, region, engine, attempts=2, **WINDOWS)
    assert failed.state == "failed" and "HTTP 500" in failed.error
    assert 0 < count(engine) < server.store.count("open311")

    retry, _ = poll("open311", server, region, engine, **WINDOWS)
    assert retry.state == "succeeded", retry.error
    assert count(engine) == server.store.count("open311")
    assert set(stored(engine)) == {i["service_request_id"] for i in server.store.items("open311")}


def test_open311_url_may_name_the_base_or_the_document(server, region):
    connector = make("open311", server, region, url=server.url + "/open311")
    assert connector.requests_url() == server.url + "/open311/requests.json"
    assert sum(1 for _ in connector.fetch(None)) == server.store.count("open311")


# --- HTTP behaviour (no database) -----------------------------------------------------------------------------


def test_retry_after_is_honoured_and_capped(server, region):
    server.faults.fail_after_pages, server.faults.fail_status, server.faults.retry_after = 0, 429, "1"
    server.faults.fail_times = 1
    connector = make("jss", server, region, max_wait=5)
    started = time.monotonic()
    assert sum(1 for _ in connector.fetch(None)) == server.store.count("jss")
    assert 0.9 <= time.monotonic() - started < 4
    assert connector.http.requests == len(page_requests(server, "jss"))

    server.requests.clear()
    server.faults.fail_times, server.faults.retry_after = 1, "3600"
    connector = make("jss", server, region, max_wait=0.2)
    started = time.monotonic()
    assert sum(1 for _ in connector.fetch(None)) == server.store.count("jss")
    assert time.monotonic() - started < 2


def test_client_errors_fail_at_once_without_retrying(server, region):
    connector = make("wargaku", server, region, url=server.url + "/wargaku/nope")
    with pytest.raises(SourceError, match=r"^wargaku: HTTP 404 from http://127\.0\.0\.1:\d+/wargaku/nope.*check the"):
        list(connector.fetch(None))
    assert connector.http.requests == 1


def test_auth_header_comes_from_channels_toml_with_the_token_from_the_environment(server, tmp_path, monkeypatch):
    folder = shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", tmp_path / "surabaya")
    settings = (folder / "channels.toml").read_text(encoding="utf-8")
    settings = settings.replace("http://127.0.0.1:8765", server.url)
    settings = settings.replace('[wargaku]\n', '[wargaku]\npage_size = 50\ntimeout = 2\nbackoff = 0.01\n', 1)
    marker = f'url = "{server.url}/wargaku/complaints"\nauth_header = ""'
    assert marker in settings
    settings = settings.replace(marker, marker.replace('auth_header = ""',
                                                       'auth_header = "Authorization: Bearer $SIGAP_TEST_TOKEN"'))
    (folder / "channels.toml").write_text(settings, encoding="utf-8")
    region = load_region(str(folder))
    server.token = "s3cret-value"

    monkeypatch.delenv("SIGAP_TEST_TOKEN", raising=False)
    with pytest.raises(SourceError, match=r"\$SIGAP_TEST_TOKEN, which is not set"):
        list(connector_for("wargaku", region).fetch(None))

    monkeypatch.setenv("SIGAP_TEST_TOKEN", "not-the-token-42")
    connector = connector_for("wargaku", region)
    with pytest.raises(SourceError, match="HTTP 401.*check auth_header") as failure:
        list(connector.fetch(None))
    assert "not-the-token-42" not in str(failure.value) and connector.http.requests == 1

    monkeypatch.setenv("SIGAP_TEST_TOKEN", "s3cret-value")
    connector = connector_for("wargaku", region)
    assert sum(1 for _ in connector.fetch(None)) == server.store.count("wargaku")
    assert connector.http.requests == ceil(server.store.count("wargaku") / 50)


class _NotJson(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_response_that_is_not_json_is_a_source_error(region):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NotJson)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        connector = connector_for("wargaku", region, settings={"url": f"http://127.0.0.1:{httpd.server_port}/x",
                                                               "timeout": 2})
        with pytest.raises(SourceError, match=r"^wargaku: the response from .* is not valid JSON \(text/html\)"):
            list(connector.fetch(None))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_server_without_change_order_is_noticed(server, region, caplog):
    """The cursor is only safe to resume from when changes come oldest first: say so when they do not."""
    connector = make("wargaku", server, region)
    connector.mapping = {**connector.mapping, "since_param": None}  # files' order: by creation, not by change
    with caplog.at_level("WARNING"):
        assert sum(1 for _ in connector.fetch(None)) == server.store.count("wargaku")
    assert "does not return changes oldest first" in caplog.text


# --- mappings -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [*JSON_CHANNELS, "open311"])
def test_shipped_mappings_keep_top_level_keys_at_the_top(channel, region):
    connector = connector_for(channel, region)
    tables = [v for v in connector.mapping.values() if isinstance(v, dict)]
    for key in ("paging", "items", "since_param", "since_format", "since_initial", "timezone", "page_size"):
        assert all(key not in table for table in tables), key
    assert connector.mapping.get("since_initial") and connector.mapping.get("timezone")
    if channel != "open311":
        assert connector.mapping["since_param"] and connector.mapping["paging"] in ("page", "cursor", "offset")


def test_a_mapping_with_a_top_level_key_under_a_table_is_refused(region, tmp_path):
    text = (PROJECT_ROOT / "connectors" / "mappings" / "wargaku.toml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('paging = "page"\n', "").replace("[fields]\n", '[fields]\npaging = "page"\n'),
                      encoding="utf-8")
    with pytest.raises(SourceError, match="'paging' is inside \\[fields\\]; top-level keys must come before"):
        connector_for("wargaku", region, settings={"mapping": str(broken), "url": "http://127.0.0.1:9/"})


def test_a_mapping_reading_reporter_data_into_a_text_field_is_refused(region, tmp_path):
    text = (PROJECT_ROOT / "connectors" / "mappings" / "wargaku.toml").read_text(encoding="utf-8")
    leaky = tmp_path / "leaky.toml"
    leaky.write_text(text.replace('title = "judul"', 'title = "pelapor.nama"'), encoding="utf-8")
    with pytest.raises(SourceError, match="title reads 'pelapor.nama', which is reporter data"):
        connector_for("wargaku", region, settings={"mapping": str(leaky)})


# --- page files through the command line ----------------------------------------------------------------------


def test_a_generator_page_file_imports_through_the_command_line(sample_dir, db_url, engine):
    page = sorted((sample_dir / "wargaku").glob("page-*.json"))[0]
    items = json.loads(page.read_text(encoding="utf-8"))["data"]
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "connectors", "import", "wargaku", str(page), "--json"]

    first = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["state"] == "succeeded"
    assert summary["read"] == summary["inserted"] == len(items) == count(engine)
    assert set(stored(engine)) == {i["id"] for i in items}
    assert cursor_of(engine, "wargaku") == cursor_text(max(moment(i["updated_at"]) for i in items))

    again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == len(items)

    other = sorted((sample_dir / "jss").glob("complaints-*.json"))[0]
    wrong = subprocess.run([*command[:5], str(other), "--json"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert wrong.returncode != 0
    assert wrong.stderr.count("\n") == 1
    assert "no 'data' list of items" in wrong.stderr
    assert count(engine) == len(items)
