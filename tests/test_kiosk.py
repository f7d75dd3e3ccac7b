"""The wall screen (kiosk): no chrome, rotation, live numbers, self-reload, no personal data in demo mode; the
demo simulator and its refusal on a production database; the spike detector and channel freshness."""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from metrics import alerts
from models import Complaint, ImportRun, QuarantinedRecord, ReporterContact
from tests.browser import SCREENSHOTS, Dashboard

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc)
PERSONAL = {"name": "Bambang Sutrisno Wicaksono", "nik": "3578011204880003", "phone": "081234987650",
            "email": "bambang.wicaksono@contoh.id"}
CHROME = ("stSidebar", "stToolbar", "stHeader", "stMainMenu", "stAppDeployButton", "stDecoration",
          "stSidebarCollapsedControl", "stExpandSidebarButton")


# --- spike detector ------------------------------------------------------------------------------------------

def _complaints(engine, rows: list[tuple[str, str, datetime]], kind: str = "complaint", prefix: str = "x") -> None:
    """(district, category, received_at) rows straight into the table: a hand-made fixture."""
    with engine.begin() as conn:
        conn.execute(insert(Complaint.__table__), [{
            "channel": "wargaku", "source_id": f"{prefix}-{i}", "received_at": at, "kind": kind, "status": "new",
            "district_code": district, "category": category, "row_hash": "h", "first_seen_at": at,
            "last_changed_at": at, "is_anonymous": False, "is_confidential": False,
        } for i, (district, category, at) in enumerate(rows)])


def _spread(district: str, category: str, per_hour: float, days: int = 28) -> list[tuple[str, str, datetime]]:
    """A steady baseline over the `days` before the last hour."""
    start = NOW - timedelta(hours=1) - timedelta(days=days)
    count = round(per_hour * days * 24)
    return [(district, category, start + timedelta(hours=i / per_hour)) for i in range(count)]


def _burst(district: str, category: str, n: int, hours_ago: float = 0.5) -> list[tuple[str, str, datetime]]:
    return [(district, category, NOW - timedelta(hours=hours_ago) + timedelta(minutes=i)) for i in range(n)]


def test_spike_detector_flags_a_burst_well_above_the_usual_rate(engine):
    _complaints(engine, [
        *_spread("genteng", "flooding", 1 / 24), *_burst("genteng", "flooding", 6),        # 6 vs ~0.04/h: spike
        *_spread("wonokromo", "trees", 1.0), *_burst("wonokromo", "trees", 12),            # 12 vs 1/h: spike
        *_spread("tegalsari", "roads", 1.0), *_burst("tegalsari", "roads", 5),             # 5x, but chance 0.4 %
        *_burst("gubeng", "waste", 4),                                                     # below 5
        *_burst("sawahan", "parking", 10, hours_ago=3),                                    # over, before the hour
        (None, "roads", NOW - timedelta(minutes=5)), ("bubutan", None, NOW - timedelta(minutes=5)),
    ])
    _complaints(engine, _burst("kenjeran", "traffic_accident", 7), kind="emergency_call", prefix="e")
    _complaints(engine, _burst("kenjeran", "other", 9), kind="non_emergency_call", prefix="p")

    found = alerts.spikes(engine, NOW)
    pairs = [(s.district_code, s.category) for s in found]
    assert set(pairs) == {("genteng", "flooding"), ("wonokromo", "trees"), ("kenjeran", "traffic_accident")}
    genteng = next(s for s in found if s.district_code == "genteng")
    assert genteng.recent == 6 and genteng.baseline == 28 and genteng.baseline_rate == pytest.approx(28 / (28 * 24))
    assert all(s.p_value < 0.001 and s.ratio >= 4 for s in found)
    assert found == sorted(found, key=lambda s: (s.p_value, -s.recent))
    # a looser test takes the 5x-but-plausible one too; an hour later every burst is history
    assert ("tegalsari", "roads") in [(s.district_code, s.category) for s in alerts.spikes(engine, NOW, max_p=0.01)]
    assert alerts.spikes(engine, NOW + timedelta(hours=2)) == []


def test_poisson_tail():
    assert alerts.poisson_tail(0, 3.0) == 1.0
    assert alerts.poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828 ** -2)
    assert alerts.poisson_tail(5, 1.0) == pytest.approx(0.00366, abs=1e-5)
    assert alerts.poisson_tail(3, 0.0) == 0.0


def test_channel_freshness_follows_stale_after_minutes(engine, surabaya):
    with engine.begin() as conn:
        conn.execute(insert(ImportRun.__table__), [
            {"channel": channel, "state": state, "started_at": NOW - timedelta(minutes=age),
             "finished_at": NOW - timedelta(minutes=age)}
            for channel, state, age in (("wargaku", "succeeded", 45), ("wargaku", "failed", 1),
                                        ("call112", "succeeded", 10), ("lapor", "succeeded", 600))])
    fresh = alerts.channel_freshness(engine, surabaya.channels, NOW).set_index("channel")
    assert set(fresh.index) == set(surabaya.enabled_channels())
    assert fresh.loc["wargaku", "stale"]  # 45 min > 30: a failed run later does not count
    assert not fresh.loc["call112", "stale"] and not fresh.loc["lapor", "stale"]  # 10 < 60, 600 < 2880
    assert fresh.loc["mediacenter", "stale"] and fresh.loc["mediacenter", "last_success"] is None  # never ran


# --- the demo simulator --------------------------------------------------------------------------------------

def test_simulator_refuses_a_production_database(postgres_url, surabaya, monkeypatch):
    from models.db import get_engine, migrate
    from sample_data.simulator import DemoRefused, Simulator

    monkeypatch.delenv("SIGAP_DEMO_DATABASE", raising=False)
    engine = get_engine(postgres_url)
    migrate(engine)
    before = _counts(engine)
    with pytest.raises(DemoRefused, match="not a demo database") as refused:
        Simulator(engine, surabaya)
    assert refused.value.database == make_url(postgres_url).render_as_string(hide_password=True)
    assert _counts(engine) == before  # nothing written, no run recorded


def test_demo_database_rules(monkeypatch, tmp_path):
    from models.db import DEFAULT_SQLITE_PATH
    from sample_data.simulator import DemoRefused, ensure_demo_database, is_demo_database

    monkeypatch.delenv("SIGAP_DEMO_DATABASE", raising=False)
    assert is_demo_database(f"sqlite:///{DEFAULT_SQLITE_PATH}")
    assert is_demo_database(f"sqlite:///{tmp_path / 'sigap-demo.db'}")
    assert is_demo_database("postgresql+psycopg://sigap:secret@db.example.go.id/sigap_demo")
    assert not is_demo_database(f"sqlite:///{tmp_path / 'sigap.db'}")  # a folder named demo does not count
    assert not is_demo_database("postgresql+psycopg://sigap@demo-host.example.go.id/sigap")
    assert not is_demo_database("postgresql+psycopg://sigap:secret@db.example.go.id/sigap")
    with pytest.raises(DemoRefused) as refused:
        ensure_demo_database("postgresql+psycopg://sigap:secret@db.example.go.id/sigap")
    assert "secret" not in str(refused.value) and "***" in refused.value.database
    monkeypatch.setenv("SIGAP_DEMO_DATABASE", "1")
    assert is_demo_database("postgresql+psycopg://sigap:secret@db.example.go.id/sigap")


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(Complaint.__table__)).scalar_one(),
                conn.execute(select(func.count()).select_from(ImportRun.__table__)).scalar_one())


def copy_database(url: str, path: Path) -> str:
    """A consistent copy of a SQLite database (WAL included), so a test can write without touching others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return f"sqlite:///{path}"


def test_simulator_writes_real_source_files_through_the_import_path(seeded_url, tmp_path, surabaya):
    from models.db import get_engine
    from sample_data.simulator import Simulator

    engine = get_engine(copy_database(seeded_url, tmp_path / "sigap-demo.db"))
    before = _counts(engine)
    simulator = Simulator(engine, surabaya, speed=3600, seconds=5, seed=7)
    try:
        assert simulator.add_wargaku(4) == 4
        assert simulator.add_calls(6) == 6
        for _ in range(3):
            simulator.tick()
        moved = simulator._move_wargaku(hours=500, now=datetime.now(timezone.utc))  # everything open moves on
        simulator._import_pending("wargaku")
        calls_later = datetime.now(timezone.utc) + timedelta(hours=2)
        simulator.add_calls(0, calls_later)  # the 112 log lists the finished calls again
    finally:
        simulator.stop()
    assert moved > 0
    complaints, runs = _counts(engine)
    assert complaints >= before[0] + 10 and runs > before[1]
    with engine.connect() as conn:
        states = conn.execute(select(ImportRun.state, ImportRun.quarantined, ImportRun.source)
                              .where(ImportRun.id > before[1])).all()
        events = conn.execute(select(func.count()).select_from(Complaint.__table__).where(
            Complaint.channel == "call112", Complaint.status == "resolved",
            Complaint.first_seen_at > datetime.now(timezone.utc) - timedelta(minutes=5))).scalar_one()
    assert {s.state for s in states} == {"succeeded"} and sum(s.quarantined for s in states) == 0
    assert {Path(s.source).suffix for s in states} == {".json", ".csv"}  # the channels' own formats
    assert events > 0  # emergencies logged as in progress, then finished
    assert not any(simulator.folder.glob("**/*.*"))  # files are removed once imported


def test_a_demo_playlist_shows_how_it_works(monkeypatch):
    import streamlit as st

    from ui import kiosk

    pages = [("app.py", "nav_overview", "", "overview"), ("app.py", "nav_map", "", "map"),
             ("app.py", "nav_how", "", "how")]
    monkeypatch.setenv("SIGAP_KIOSK_PAGES", "map,overview")
    root = Path(__file__).resolve().parent.parent
    try:
        st.session_state["_kiosk_demo"] = False
        assert [url for _, _, url in kiosk.playlist(pages, root)] == ["map", "overview"]
        st.session_state["_kiosk_demo"] = True  # the simulator runs
        assert [url for _, _, url in kiosk.playlist(pages, root)] == ["map", "overview", "how"]
        monkeypatch.setenv("SIGAP_KIOSK_PAGES", "how,map")
        assert [url for _, _, url in kiosk.playlist(pages, root)] == ["how", "map"]  # not twice
    finally:
        st.session_state.pop("_kiosk_demo", None)


# --- the wall screen in a real browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def wall(seeded_url, tmp_path_factory):
    """A kiosk dashboard showing the overview only, on its own copy of the seeded database."""
    url = copy_database(seeded_url, tmp_path_factory.mktemp("wall") / "sigap.db")
    app = Dashboard(url, env={"SIGAP_KIOSK_PAGES": "overview", "SIGAP_KIOSK_SECONDS": "40",
                              "SIGAP_CACHE_SECONDS": "2", "SIGAP_KIOSK_REFRESH_SECONDS": "3"})
    app.database_url = url
    yield app
    app.stop()


@pytest.fixture(scope="module")
def rotating(seeded_url):
    """A kiosk dashboard rotating between two pages every 8 s and reloading itself every 36 s (it only reads,
    so the shared seeded database is fine). A reload during the rotation test starts again on the same page,
    which that test tolerates."""
    app = Dashboard(seeded_url, env={"SIGAP_KIOSK_SECONDS": "8", "SIGAP_KIOSK_PAGES": "overview,how",
                                     "SIGAP_KIOSK_RELOAD_HOURS": "0.01"})
    yield app
    app.stop()


def open_kiosk(browser, url: str, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, timeout=90_000)
    wait_for_kiosk(page)
    return page


def wait_for_kiosk(page, content: str = "[data-testid=stMetricValue]") -> None:
    """Until the band's figures, the page's own content and the fit-to-screen scale are there."""
    page.wait_for_selector(".st-key-kiosk-band [data-testid=stMetricValue]", timeout=90_000)
    page.wait_for_selector(f".st-key-kiosk-page {content}", timeout=90_000)
    page.wait_for_function("() => document.querySelector('.st-key-kiosk-page').getAttribute('data-scale')",
                           timeout=30_000)
    page.wait_for_timeout(2500)  # charts drawn, scale settled


def kpi(page, name: str) -> int:
    text = page.locator(f".st-key-kiosk-kpi-{name} [data-testid=stMetricValue]").inner_text(timeout=10_000)
    return int(re.sub(r"\D", "", text))


def test_kiosk_has_no_chrome_and_fits_the_screen(wall, browser):
    page = open_kiosk(browser, f"{wall.url}/?kiosk=1")
    for testid in CHROME:
        assert not page.locator(f"[data-testid={testid}]").is_visible(), testid
    assert not page.locator("footer").is_visible()
    assert page.locator("[data-testid=stException]").count() == 0
    fits = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        const content = document.querySelector('.st-key-kiosk-page').getBoundingClientRect();
        return [document.scrollingElement.scrollHeight <= innerHeight, main.scrollHeight <= main.clientHeight + 2,
                content.bottom <= innerHeight + 1, getComputedStyle(main).overflowY];
    }""")
    assert fits == [True, True, True, "hidden"], fits
    # dark whatever the laptop theme; type big enough for the far end of the room
    assert page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor") == "rgb(7, 12, 22)"
    clock = page.locator(".st-key-kiosk-clock p").first
    assert re.fullmatch(r"\d\d:\d\d:\d\d", clock.inner_text())
    # sizes of the elements that hold the text (Streamlit wraps a metric's value in a paragraph of its own)
    sizes = page.evaluate("""() => ['.st-key-kiosk-clock p', '.st-key-kiosk-title p', '.st-key-kiosk-ticker-track p',
        '.st-key-kiosk-band [data-testid=stMetricValue]']
        .map(s => document.querySelector(s)).map(e => e.querySelector('p') || e)
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert min(sizes) >= 24 and sizes[0] >= 60 and sizes[3] >= 56, sizes
    # body text and headings on the page, before the fit-to-screen scale that long pages need
    text = page.evaluate("""() => [...document.querySelectorAll(
            '.st-key-kiosk-page p, .st-key-kiosk-page h2, .st-key-kiosk-page h3')]
        .filter(p => !p.closest('[data-testid=stCaptionContainer], [data-testid=stMetric]'))
        .map(p => parseFloat(getComputedStyle(p).fontSize))""")
    values = page.evaluate("""() => [...document.querySelectorAll('.st-key-kiosk-page [data-testid=stMetricValue]')]
        .map(v => v.querySelector('p') || v).map(v => parseFloat(getComputedStyle(v).fontSize))""")
    assert text and min(text) >= 28 and min(values) >= 56, (text, values)
    assert kpi(page, "alarm") > 0  # the seeded data has overdue complaints: the red box
    page.screenshot(path=str(SCREENSHOTS / "kiosk_overview_id.png"))
    page.close()

    english = open_kiosk(browser, f"{wall.url}/how?kiosk=1&lang=en")
    assert english.get_by_text("How it works", exact=True).count() >= 1
    assert english.get_by_text("LATEST", exact=True).count() == 1
    english.wait_for_selector("[data-testid=stGraphVizChart] svg", timeout=30_000)
    english.screenshot(path=str(SCREENSHOTS / "kiosk_how_en.png"))
    english.close()

    big = open_kiosk(browser, f"{wall.url}/?kiosk=1", width=3840, height=2160)
    assert big.evaluate("parseFloat(getComputedStyle(document.querySelector('.st-key-kiosk-clock p')).fontSize)") >= 120
    big.screenshot(path=str(SCREENSHOTS / "kiosk_overview_3840.png"))
    big.close()


def test_demo_mode_refuses_a_database_that_is_not_a_demo_one(wall, browser):
    """?demo=1 on a database not named as a demo one (sigap.db): the wall says why, and nothing is simulated."""
    from models.db import get_engine

    engine = get_engine(wall.database_url)
    before = _counts(engine)
    page = open_kiosk(browser, f"{wall.url}/?kiosk=1&demo=1&lang=en")
    refusal = page.locator("[data-testid=stAlertContainer]").filter(has_text="Demo mode not started")
    assert "sigap.db is not a demo database" in refusal.inner_text(timeout=10_000)
    assert page.get_by_text("DEMO · simulated data").count() == 0  # no badge claims simulated data
    page.wait_for_timeout(6000)  # a running simulator would have imported something by now (every 5 s)
    assert _counts(engine) == before
    page.close()


def test_kiosk_numbers_change_when_complaints_arrive(wall, browser, surabaya):
    page = open_kiosk(browser, f"{wall.url}/?kiosk=1")
    page.evaluate("window.__sigapTestMarker = 'still the same page'")
    today_before = kpi(page, "received-today")
    page_before = _page_metric(page, "Masuk hari ini")
    _import_wargaku(wall.database_url, surabaya, count=7, prefix="LIVE")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and kpi(page, "received-today") != today_before + 7:
        page.wait_for_timeout(500)
    assert kpi(page, "received-today") == today_before + 7
    while time.monotonic() < deadline and _page_metric(page, "Masuk hari ini") != page_before + 7:
        page.wait_for_timeout(500)
    assert _page_metric(page, "Masuk hari ini") == page_before + 7  # the page itself refreshed in place
    assert page.evaluate("window.__sigapTestMarker") == "still the same page"  # no reload, no click
    page.close()


def test_kiosk_rotates_through_the_playlist_without_a_click(rotating, browser):
    # The server's very first request, and a deep link (a wall screen reconnecting after a restart): Streamlit
    # runs pages/how_it_works.py itself first and app.py takes over; kiosk and language must survive that.
    page = open_kiosk(browser, f"{rotating.url}/how?kiosk=1&lang=en")
    titles, urls = [page.locator(".st-key-kiosk-title p").inner_text()], [page.url]
    deadline = time.monotonic() + 45  # 8 s a page: how -> overview -> how well within that
    while time.monotonic() < deadline and len(titles) < 3:
        page.wait_for_timeout(500)
        title = page.locator(".st-key-kiosk-title p").inner_text()
        if title != titles[-1]:  # the URL changes first, the band's title once the page has run
            titles.append(title)
        if page.url != urls[-1]:
            urls.append(page.url)
    assert titles[:3] == ["How it works", "Overview", "How it works"], (titles, urls)
    assert any("/how?" not in url for url in urls), urls  # the default page's address is the root
    assert all("kiosk=1" in url and "lang=en" in url for url in urls), urls  # kiosk and language carried along
    page.close()


def test_kiosk_reloads_itself_to_cap_browser_memory(rotating, browser):
    page = open_kiosk(browser, f"{rotating.url}/?kiosk=1")
    page.evaluate("window.__sigapTestMarker = 1")
    with page.expect_event("load", timeout=90_000):  # SIGAP_KIOSK_RELOAD_HOURS=0.01: 36 s after loading
        pass
    page.wait_for_selector(".st-key-kiosk-band", timeout=60_000)
    assert page.evaluate("window.__sigapTestMarker") is None
    assert "kiosk=1" in page.url
    page.close()


def _page_metric(page, label: str) -> int:
    metric = page.locator(".st-key-kiosk-page [data-testid=stMetric]").filter(has_text=label).first
    return int(re.sub(r"\D", "", metric.locator("[data-testid=stMetricValue]").inner_text(timeout=10_000)))


def _wargaku_item(number: int, prefix: str, received: datetime, personal: bool) -> dict:
    local = received.astimezone(timezone(timedelta(hours=7))).replace(microsecond=0).isoformat()
    item = {"id": f"WG-{received.year}-{prefix}{number:04d}", "created_at": local, "updated_at": local,
            "jenis": "keluhan", "kategori": "Banjir", "judul": "Genangan di depan rumah",
            "isi": "Air setinggi lutut sejak pagi.", "kecamatan": "Genteng", "kelurahan": "Embong Kaliasin",
            "lat": -7.26, "lng": 112.74, "opd": None, "status": "menunggu", "tanggapan_pertama_at": None,
            "selesai_at": None, "pelapor": {"nama": "Warga", "nik": None, "telepon": None, "email": None}}
    if personal:
        p = PERSONAL
        item["judul"] = f"Banjir di rumah {p['name']}"
        item["isi"] = (f"Nama : {p['name']} NIK : {p['nik']} HP {p['phone']} / +62{p['phone'][1:]} "
                       f"email {p['email']}. Air masuk rumah sejak pagi.")
        item["pelapor"] = {"nama": p["name"], "nik": p["nik"], "telepon": p["phone"], "email": p["email"]}
    return item


def _import_wargaku(database_url: str, region, count: int, prefix: str, personal: bool = False,
                    unreadable: bool = False) -> None:
    """A small Wargaku API page in the app's real JSON shape, imported with the real connector. `unreadable`:
    every item has a date nobody can read, so each is quarantined with its raw content (personal data and all)."""
    from connectors.pipeline import run_import
    from connectors.registry import connector_for
    from models.db import get_engine

    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    items = [_wargaku_item(i, prefix, now - timedelta(seconds=i), personal) for i in range(count)]
    for item in items if unreadable else ():
        item["created_at"] = "kemarin sore"
    folder = Path(database_url.removeprefix("sqlite:///")).parent
    path = folder / f"wargaku-{prefix}.json"
    path.write_text(json.dumps({"data": items, "page": 1, "per_page": 500, "total": count, "next_page": None}))
    summary = run_import(connector_for("wargaku", region, source=path), get_engine(database_url), source=str(path))
    expected = (0, count) if unreadable else (count, 0)
    assert (summary.inserted, summary.quarantined) == expected, summary.as_dict()


WALL_PAGES = ("overview", "map", "agencies", "channels", "how")  # every page a wall may show
PAGE_CONTENT = {"map": "[data-testid=stDeckGlJsonChart]"}  # what shows a page has drawn (else its figures)


@pytest.fixture(scope="module")
def demo_wall(seeded_url, tmp_path_factory):
    """A demo copy holding complaints, reporter contacts and quarantined raw records full of (fake) personal
    data; demo mode is switched on by the URL (?demo=1), every wall page in the playlist."""
    from regions import load_region

    url = copy_database(seeded_url, tmp_path_factory.mktemp("kiosk_demo") / "sigap-demo.db")
    _import_wargaku(url, load_region("surabaya"), count=3, prefix="PII", personal=True)
    _import_wargaku(url, load_region("surabaya"), count=2, prefix="RAW", personal=True, unreadable=True)
    app = Dashboard(url, env={"SIGAP_DEMO_SECONDS": "2", "SIGAP_DEMO_SPEED": "900",
                              "SIGAP_KIOSK_PAGES": ",".join(WALL_PAGES), "SIGAP_KIOSK_SECONDS": "600",
                              "SIGAP_KIOSK_REFRESH_SECONDS": "3", "SIGAP_CACHE_SECONDS": "2"})
    app.database_url = url
    yield app
    app.stop()


def _stored_personal_data(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        contacts = conn.execute(select(func.count()).select_from(ReporterContact.__table__)
                                .where(ReporterContact.nik == PERSONAL["nik"])).scalar_one()
        texts = conn.execute(select(func.count()).select_from(Complaint.__table__)
                             .where(Complaint.body.contains(PERSONAL["nik"]))).scalar_one()
        raw = conn.execute(select(func.count()).select_from(QuarantinedRecord.__table__)
                           .where(QuarantinedRecord.raw.contains(PERSONAL["name"]))).scalar_one()
    return contacts, texts, raw


@dataclass
class Visit:
    """Every wall page as a browser showed it: HTML, visible text (SVG chart text included) and every
    websocket message the server sent (tables and map points travel as data, not as HTML)."""
    html: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    complaints_added: int = 0  # by the demo simulator while the pages were visited


def visit_wall_pages(app, browser, query: str, screenshot: str, settle_ms: int = 3500) -> Visit:
    visit = Visit(screenshot=SCREENSHOTS / screenshot)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: visit.sent.append(
        data.decode("utf-8", "replace") if isinstance(data, bytes) else data)))
    for path in WALL_PAGES:
        page.goto(f"{app.url}/{'' if path == 'overview' else path}?kiosk=1&{query}", timeout=90_000)
        wait_for_kiosk(page, PAGE_CONTENT.get(path, "[data-testid=stMetricValue]"))
        page.wait_for_timeout(settle_ms)  # 3.5 s: every fragment has refreshed at least once
        assert page.locator("[data-testid=stException]").count() == 0, path
        visit.html[path] = page.content()
        visit.text[path] = page.evaluate("""() => [document.body.innerText,
            ...[...document.querySelectorAll('svg text')].map(t => t.textContent)].join('\\n')""")
    page.screenshot(path=str(visit.screenshot))
    page.close()
    return visit


@pytest.fixture(scope="module")
def english_demo(demo_wall, browser) -> Visit:
    """Every wall page, in English, demo mode on by the URL."""
    from models.db import get_engine

    before = _counts(get_engine(demo_wall.database_url))[0]
    visit = visit_wall_pages(demo_wall, browser, "lang=en&demo=1", "kiosk_demo_en.png")
    visit.complaints_added = _counts(get_engine(demo_wall.database_url))[0] - before
    return visit


def test_demo_wall_never_shows_personal_data(demo_wall, english_demo):
    """Every wall page and the how-it-works page in demo mode: neither the page HTML nor anything the server
    sends the browser holds the reporters' personal data that the database holds."""
    from models.db import get_engine

    assert _stored_personal_data(get_engine(demo_wall.database_url)) == (3, 3, 2)  # contacts, texts, raw records
    needles = [*PERSONAL.values(), "+62" + PERSONAL["phone"][1:], PERSONAL["name"].split()[1],
               PERSONAL["email"].split("@")[0]]
    seen = [*english_demo.html.items(), *(("websocket", m) for m in english_demo.sent)]
    leaks = sorted({(where, needle) for where, text in seen for needle in needles if needle in text})
    assert not leaks, leaks
    assert len(english_demo.sent) > 50 and all(english_demo.html.values())  # the check saw real traffic
    assert all("DEMO · simulated data" in text for text in english_demo.text.values())
    assert english_demo.complaints_added > 0  # the simulator kept adding complaints through the import path


@pytest.fixture(scope="module")
def indonesian(wall, browser) -> Visit:
    return visit_wall_pages(wall, browser, "lang=id", "kiosk_wall_id.png", settle_ms=1000)


def foreign_texts(lang: str) -> dict[str, str]:
    """key -> the other language's text, for texts that can only be the other language: plain (no placeholder
    or markup), not also a word or phrase of `lang` itself, long enough to mean something."""
    from tests.test_i18n import registered

    pairs = {key: entries[0][0] for key, entries in registered().items()}
    own, other = (1, 0) if lang == "en" else (0, 1)
    own_texts = "\n".join(pair[own] for pair in pairs.values()).lower()
    return {key: pair[other] for key, pair in pairs.items()
            if len(pair[other]) >= 5 and not re.search(r"[{}*`\[\]<>\\]", pair[other])
            and pair[other].lower() not in own_texts}


FILE_NAMES = re.compile(r"[\w/.-]+\.(?:csv|toml|py|json|xlsx)\b")
MONTHS = {"en": ("Mei", "Agu", "Okt", "Des"), "id": ("May", "Aug", "Oct", "Dec")}  # the other language's months


@pytest.mark.parametrize("lang", ["en", "id"])
def test_wall_pages_speak_one_language(lang, request):
    """No text of the other language on any wall page (labels, titles, chart axes), and dates in its own words."""
    visit = request.getfixturevalue("english_demo" if lang == "en" else "indonesian")
    foreign = foreign_texts(lang)
    assert len(foreign) > 150
    words = {path: FILE_NAMES.sub("", shown) for path, shown in visit.text.items()}  # districts.csv is no word
    found = sorted({(path, key, text) for path, shown in words.items() for key, text in foreign.items()
                    if re.search(r"(?<!\w)" + re.escape(text) + r"(?!\w)", shown, re.IGNORECASE)})
    assert not found, found
    months = sorted({(path, m.group()) for path, shown in visit.text.items()
                     for m in re.finditer(r"\b\d{1,2} (?:%s) \d{4}\b" % "|".join(MONTHS[lang]), shown)})
    assert not months, months
    overview = visit.text["overview"]
    assert re.search(r"\d+\.\d{3}" if lang == "id" else r"\d+,\d{3}", overview)  # 1.236 / 1,236 112 calls
