"""Every fault a polled API can throw at Sigap, injected by the real local sample server (connectors/sample_server.py)
on 127.0.0.1, through the real pipeline, on SQLite and PostgreSQL.

Each case: a poll meets the fault on page 3 (or at once), fails with one clear line that the import_run table and
the channel health page (metrics.channels.channel_health, which pages/channels.py draws) show; nothing half-read
is kept past the cursor. Then the fault clears, the next poll runs, and every source record is stored exactly once,
with the cursor at the newest change.

"Exactly once" for a page that skips records: the records the server left out must still arrive. A feed that
announces how many changed records it has (`total`) lets the client notice that it received fewer; the run then
fails and the cursor goes back to where the run started, so the next poll reads the left-out records (the others
come back unchanged). A feed without a total (Media Center's cursor, Open311) cannot tell a skip from the truth.
"""
from __future__ import annotations

import re
import socket
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import formatdate

import pytest
from sqlalchemy import func, select

from connectors import connector_for
from connectors.pipeline import read_cursor, run_import
from metrics.channels import channel_health
from models import Complaint, ImportRun, QuarantinedRecord
from tests.conftest import PROJECT_ROOT
from tests.test_api_connectors import ID, PATHS, UPDATED, cursor_text, in_change_order, moment
from tests.test_api_connectors import region, server  # noqa: F401 - fixtures (server uses this file's sample_dir)

SIZE = 4  # records per page: every feed of the small sample has at least four pages
# Short timeouts and waits, so that every case is quick; retries still happen (two attempts).
FAST = {"timeout": 0.3, "attempts": 2, "backoff": 0.01, "max_wait": 0.05}


@dataclass(frozen=True)
class Fault:
    channel: str
    faults: dict  # set on server.faults before the first poll
    error: str  # a regular expression the run's error must match
    settings: dict = field(default_factory=dict)
    pages_kept: int = 2  # pages stored before the fault, their cursor committed (None: not a page boundary)
    rewinds: bool = False  # the cursor goes back to where the run started
    attempts: int | None = 2  # requests made for the faulty page (None: the fault is found after the last page)


FAULTS = {
    "timeout (no answer)": Fault("wargaku", {"delay": 1.0, "delay_after_pages": 2},
                                 r"no answer within 0\.3 s from http://127\.0\.0\.1:\d+/wargaku/complaints"),
    "hang mid-body": Fault("wargaku", {"corrupt": "stall", "corrupt_after_pages": 2, "stall_seconds": 1.0},
                           r"no data for 0\.3 s in the middle of the response from"),
    "HTTP 500": Fault("wargaku", {"fail_after_pages": 2}, r"HTTP 500 from"),
    "HTTP 503 + Retry-After seconds": Fault("mediacenter", {"fail_after_pages": 2, "fail_status": 503,
                                                            "retry_after": "7"}, r"HTTP 503 \(Retry-After 7 s\) from"),
    "HTTP 429 + Retry-After date": Fault("jss", {"fail_after_pages": 2, "fail_status": 429, "retry_after": "DATE"},
                                         r"HTTP 429 \(Retry-After (11[5-9]|120) s\) from"),
    "malformed JSON": Fault("wargaku", {"corrupt": "malformed", "corrupt_after_pages": 2},
                            r"is not valid JSON: Expecting property name .* at character \d+ of \d+; a truncated",
                            attempts=1),
    "truncated body": Fault("wargaku", {"truncate_after_pages": 2}, r"closed part-way through the response"),
    "HTML error page (200, text/html)": Fault(
        "wargaku", {"corrupt": "html", "corrupt_after_pages": 2},
        r"is not valid JSON \(text/html\), it begins '<!DOCTYPE html>.*Bad Gateway.*proxy or login page", attempts=1),
    "page repeats the previous page": Fault("wargaku", {"corrupt": "repeat", "corrupt_after_pages": 2},
                                            r"page 3 repeats 4 record\(s\) already read", attempts=1),
    "cursor page repeats the previous page": Fault("mediacenter", {"corrupt": "repeat", "corrupt_after_pages": 2},
                                                   r"page 3 repeats 4 record\(s\) already read", attempts=1),
    "page skips records (page paging)": Fault(
        "wargaku", {"corrupt": "skip", "corrupt_after_pages": 2},
        r"announced (\d+) changed records but sent \d+ different ones; a page skipped records\. The next poll "
        r"reads again from the beginning", pages_kept=None, rewinds=True, attempts=None),
    "page skips records (offset paging)": Fault(
        "jss", {"corrupt": "skip", "corrupt_after_pages": 2},
        r"announced (\d+) changed records but sent \d+ different ones", pages_kept=None, rewinds=True,
        attempts=None),
    "huge response (50 MB, declared)": Fault("wargaku", {"corrupt": "huge", "corrupt_after_pages": 2},
                                             r"is 50\.0 MB; refused \(the limit is 32 MB, max_response_mb\)",
                                             attempts=1),
    "huge response (50 MB, streamed)": Fault("wargaku", {"corrupt": "huge_stream", "corrupt_after_pages": 2},
                                             r"grew past the limit while being read; refused \(the limit is 32 MB",
                                             attempts=1),
    "HTTP 401 (token expired)": Fault("wargaku", {"fail_after_pages": 2, "fail_status": 401},
                                      r"HTTP 401 from .*\(check auth_header and the token in the environment\): "
                                      r"\{\"error\": \"injected failure\"\}", attempts=1),
    "server down (connection refused)": Fault("open311", {}, r"connection refused by http://127\.0\.0\.1:\d+/open311",
                                              settings={"url": "DOWN"}, pages_kept=0),
}


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    from sample_data import generate

    out = tmp_path_factory.mktemp("fault_sample")
    generate(out, date(2025, 11, 14), seed=7, scale=0.05, months=2, channels=list(PATHS))
    return out


def closed_port_url(path: str) -> str:
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def poll(channel, server, region, engine, **settings):
    connector = connector_for(channel, region, settings={
        "url": server.url + PATHS[channel], "page_size": SIZE, **FAST, **settings})
    return run_import(connector, engine, source=PATHS[channel], batch_size=SIZE), connector


def inject(server, fault: Fault) -> dict:
    for name, value in fault.faults.items():
        if value == "DATE":  # an HTTP date two minutes ahead
            value = formatdate(time.time() + 120, usegmt=True)
        setattr(server.faults, name, value)
    return {k: closed_port_url(PATHS[fault.channel]) if v == "DOWN" else v for k, v in fault.settings.items()}


def newest_change(item, channel) -> str:
    return cursor_text(moment(item[UPDATED[channel]]))


def stored_ids(engine, channel) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(Complaint.source_id).where(Complaint.channel == channel)).scalars())


def cursor_of(engine, channel):
    with engine.connect() as conn:
        return read_cursor(conn, channel)


def health_row(engine, region, channel) -> dict:
    health = channel_health(engine, region, datetime.now(timezone.utc))
    return health[health["channel"] == channel].iloc[0].to_dict()


def run_row(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(select(ImportRun.state, ImportRun.read, ImportRun.inserted, ImportRun.error)
                            .where(ImportRun.id == run_id)).one()


OBSERVED: dict[str, str] = {}  # case -> the README Reliability table row these tests saw (printed with -s)


@pytest.fixture(scope="module", autouse=True)
def reliability_rows():
    yield
    if OBSERVED:
        print("\n| fault or input | records in | stored | quarantined | error shown |\n|---|---|---|---|---|")
        print("\n".join(OBSERVED.values()))


# Every case runs on SQLite; on PostgreSQL the ones whose database writes differ (commits per page, a rewound
# cursor, a run that stores nothing), which keeps the file quick.
ON_POSTGRES = ("HTTP 500", "page repeats the previous page", "page skips records (page paging)",
               "huge response (50 MB, declared)", "server down (connection refused)")


@pytest.mark.parametrize("db_url, case", [*(("sqlite", c) for c in FAULTS), *(("postgresql", c) for c in ON_POSTGRES)],
                         indirect=["db_url"])
def test_a_fault_is_shown_and_the_next_poll_stores_every_record_once(case, server, region, engine):
    fault = FAULTS[case]
    channel = fault.channel
    items = server.store.items(channel)
    source_ids = {str(i[ID[channel]]) for i in items}
    assert len(items) >= 3 * SIZE
    enabled = region.channel_settings(channel).get("enabled", True)
    settings = inject(server, fault)

    failed, connector = poll(channel, server, region, engine, **settings)

    # one clear line, recorded with the run and shown on the channel health page
    assert failed.state == "failed"
    assert failed.error.startswith(f"{channel}: ") and "\n" not in failed.error
    assert re.search(fault.error, failed.error), failed.error
    if fault.attempts is not None:
        assert connector.http.requests == fault.pages_kept + fault.attempts
    if fault.attempts and fault.attempts > 1:
        assert failed.error.endswith(f"after {fault.attempts} attempts")
    assert (run_row(engine, failed.run_id).state, run_row(engine, failed.run_id).error) == ("failed", failed.error)
    shown = health_row(engine, region, channel)
    assert shown["last_error"] == failed.error and shown["error_is_current"]
    assert shown["state"] == ("stale" if enabled else "disabled")  # never succeeded yet: red on the page
    assert shown["last_run_state"] == "failed"

    # what was read before the fault is stored once, and the cursor never passes an unread record
    kept = stored_ids(engine, channel)
    assert len(kept) == len(set(kept)) == failed.inserted
    if fault.pages_kept is not None:
        assert len(kept) == fault.pages_kept * SIZE
    assert set(kept) <= source_ids
    ordered = in_change_order(channel, items)
    if fault.rewinds or not kept:
        assert cursor_of(engine, channel) is None
    else:
        assert cursor_of(engine, channel) == newest_change(ordered[len(kept) - 1], channel)
        assert set(kept) == {str(i[ID[channel]]) for i in ordered[:len(kept)]}
    skipped = int(re.search(fault.error, failed.error).group(1)) if fault.rewinds else None

    server.faults.clear()
    recovered, _ = poll(channel, server, region, engine)

    assert recovered.state == "succeeded", recovered.error
    assert recovered.reconciles and recovered.quarantined == 0 and recovered.updated == 0
    assert recovered.inserted == len(items) - len(kept)
    ids = stored_ids(engine, channel)
    assert len(ids) == len(set(ids)) == len(items) and set(ids) == source_ids
    assert cursor_of(engine, channel) == max(newest_change(i, channel) for i in items)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(QuarantinedRecord)).scalar_one() == 0
    shown = health_row(engine, region, channel)
    assert shown["state"] == ("ok" if enabled else "disabled") and not shown["error_is_current"]
    assert shown["last_run_state"] == "succeeded" and shown["last_inserted"] == recovered.inserted
    if skipped is not None:
        assert skipped == len(items)

    error = re.sub(r"http://127\.0\.0\.1:\d+\S*", "<url>", failed.error.split(": ", 1)[1])
    OBSERVED[case] = (f"| {case} ({channel}) | {len(items)} | {len(kept)} during the fault, {len(ids)} after the "
                      f"next poll | 0 | `{error}` |")


def plain(markdown: str) -> str:
    """Text as a reader sees it: without Markdown escapes and invisible characters (the page keeps a URL from
    turning into a link with a word joiner)."""
    return "".join(c for c in markdown if c != "\\" and unicodedata.category(c) != "Cf")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_channel_page_shows_the_failures_and_then_the_recovery(server, region, db_url, engine, monkeypatch):
    """pages/channels.py itself (Streamlit AppTest): the failing feed's card carries its error; after the next
    good poll the card is healthy and the error is gone."""
    from streamlit.testing.v1 import AppTest

    from metrics import Filters
    from ui import context

    server.faults.corrupt, server.faults.corrupt_after_pages = "skip", 2
    skipped, _ = poll("wargaku", server, region, engine)
    server.faults.clear()
    server.faults.fail_after_pages, server.faults.fail_status, server.faults.retry_after = 1, 429, "30"
    limited, _ = poll("mediacenter", server, region, engine)
    assert skipped.state == limited.state == "failed"

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SIGAP_SEED", "0")
    monkeypatch.delenv("SIGAP_REGION", raising=False)

    def page_text():
        context._cached.clear()
        app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "channels.py"), default_timeout=60)
        app.session_state["lang"] = "en"
        app.session_state["filters"] = Filters(start=date(2025, 9, 1), end=date(2025, 11, 14))
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app, plain("\n".join(c.value for c in app.caption))

    app, captions = page_text()
    assert skipped.error[:300] in captions and limited.error[:300] in captions
    assert "HTTP 429 (Retry-After 30 s)" in captions
    warnings = [b.value for b in app.error] + [b.value for b in app.warning]
    assert sum("Stale" in w or "STALE" in w for w in warnings) >= 2

    server.faults.clear()
    for channel in ("wargaku", "mediacenter"):
        again, _ = poll(channel, server, region, engine)
        assert again.state == "succeeded"
        assert sorted(stored_ids(engine, channel)) == sorted(str(i[ID[channel]]) for i in server.store.items(channel))
    app, captions = page_text()
    assert skipped.error[:60] not in captions and limited.error[:60] not in captions
    assert sum("Healthy" in b.value for b in app.success) >= 2
