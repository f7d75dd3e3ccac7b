"""Complaint text is untrusted: script, event-handler, javascript: and Markdown tricks in every field a source
fills are shown as text on every page each role can reach, in the map's tooltips and in exports; spreadsheet
formulas never run. Confidential (Rahasia) reports never show their reporter to anyone.

One dashboard on a copy of the seeded database, with hostile records added through the real LAPOR import (one
stored, one quarantined) and directly (an overdue DSDABM complaint with its reporter, a confidential one, a
failed import whose error quotes the source). Every page load counts what a script would leave behind:
window.__xss, a dialog, a request to the tracker host, or an element with an event handler or javascript: URL.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import Complaint, ComplaintStatusEvent, ImportRun, ReporterContact
from tests.browser import SCREENSHOTS, Dashboard, exceptions, open_page
from tests.test_auth import PASSWORDS, copy_seeded, make_users
from ui.export import export_bytes

TRACKER = "xss-tracker.invalid"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
LINK = "[klik](javascript:window.__xss=1)"
ANCHOR = '<a href="javascript:window.__xss=1">tautan</a>'
TRICKS = (f"**tebal** :red[merah] :material/home: $$\\LaTeX$$ ![gambar](http://{TRACKER}/x.png) "
          '<svg onload="window.__xss=1"></svg> <iframe src="javascript:window.__xss=1"></iframe>')
HOSTILE = f"{SCRIPT} {IMG} {LINK} {ANCHOR} {TRICKS}"
SHORT = f"{IMG} **x** :red[y]"  # for fields of up to 80-120 characters

# the reporter of the hostile complaint and of the confidential one: must never reach a page without rights
REPORTER = {"name": "Wiranata Hostilio", "nik": "3578019912990001", "phone": "081299887766",
            "email": "wiranata.h@example.org", "address": "Jl. Kenari Hostil No. 7"}
SECRET_REPORTER = {"name": "Rahasiawati Sembunyi", "nik": "3578019912990003", "phone": "085711223344",
                   "email": "rahasiawati@example.org", "address": "Jl. Tertutup No. 9"}
BODY_PII = "Nama : Wiranata Hostilio, NIK 3578 0199 1299 0002, HP 0812-9988-7766."


def distinctive(reporter: dict) -> list[str]:
    """What only this reporter's data contains: first name, numbers, e-mail, the street's own name."""
    return [reporter["name"].split()[0], reporter["nik"], reporter["phone"], reporter["email"],
            reporter["address"].split(" No.")[0].removeprefix("Jl. ")]


OVERDUE_ID = '<img src=x onerror="window.__xss=1">'  # the source's own id is untrusted too (36 characters)
SECRET_ID = "RHS-XSS-0001"
LAPOR_ID = "9900001"


# --- exports: no formula ever runs --------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.example","klik")', "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1", " =1+1", "\u3000=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)"]


def test_text_that_looks_like_a_formula_never_runs_in_csv_or_xlsx(tmp_path):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Jakarta")
    frame = pd.DataFrame({"=Judul()": FORMULAS, "Angka": range(len(FORMULAS)),
                          "Kode": ["-5", "+62", "12", "-0.5", "1,5", "0", "7", "8", "9", "10", "11", "12", "13"]})
    rows = list(csv.reader(io.StringIO(export_bytes(frame, "csv", tz, personal_data=True).decode("utf-8-sig"))))
    assert rows[0][0] == "'=Judul()"
    assert [r[0] for r in rows[1:]] == ["'" + f for f in FORMULAS]  # shown as typed, after a quote
    assert [r[2] for r in rows[1:6]] == ["-5", "+62", "12", "-0.5", "1,5"]  # plain numbers stay numbers
    content = export_bytes(frame, "xlsx", tz, personal_data=True)
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # not a single formula cell
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet["A"][1:]] == [f.replace("\r", "\n") for f in FORMULAS]  # XML keeps no \r
    assert sheet["A1"].value == "=Judul()"
    assert {c.data_type for c in sheet["A"]} == {"s"}


def test_hostile_text_leaves_in_exports_as_text_and_masked():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Jakarta")
    frame = pd.DataFrame({"No. laporan": ["133893421647733_2123407107158966274"], "Judul": [HOSTILE],
                          "Isi": [f"=1+1 {BODY_PII}"], "pelapor_nama": [REPORTER["name"]]})
    for fmt in ("csv", "xlsx"):
        content = export_bytes(frame, fmt, tz, identifiers=("No. laporan",))
        if fmt == "csv":
            cells = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        else:
            cells = [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
        assert cells[0] == ["No. laporan", "Judul", "Isi"]  # the reporter column never leaves
        number, title, body = cells[1]
        assert number == "133893421647733_2123407107158966274"  # a record number is not a NIK
        assert SCRIPT in title and IMG in title and LINK in title  # a file is read as text: kept as typed
        assert body.startswith(("'=1+1", "=1+1")) and "Wiranata" not in body and "7766" not in body
        assert "[nama]" in body and "[NIK]" in body and "[telepon]" in body


# --- the dashboard --------------------------------------------------------------------------------------------

def _lapor_rows() -> list[dict]:
    from tests.lapor_files import report

    today = datetime.now(timezone.utc) - timedelta(hours=3)
    hostile = report(LAPOR_ID, date=today.strftime("%d %b %Y"), time=today.strftime("%H:%M:%S"),
                     status="Ditindaklanjuti", **{
                         "Judul Laporan": f"XSS-LAPOR {SHORT}", "Isi Laporan Awal": HOSTILE,
                         "Isi Laporan Akhir": f"XSS-LAPOR {HOSTILE} {BODY_PII}", "Kategori": SHORT,
                         "Klasifikasi Laporan": SHORT, "Sumber Laporan": SHORT, "Instansi Terdisposisi": SHORT,
                         "Kecamatan": SHORT, "Kelurahan": SHORT, "Tipe Laporan (Anonim/Rahasia)": None})
    broken = report("9900002", date=f"kemarin {SHORT}", **{"Judul Laporan": f"XSS-KARANTINA {HOSTILE} {BODY_PII}"})
    return [hostile, broken]


def _add_hostile_records(url: str, tmp_path) -> dict[str, int]:
    """The hostile records, through the real import where a source can put them, directly otherwise."""
    from sqlalchemy import create_engine

    from connectors.pipeline import run_import
    from connectors.registry import connector_for
    from regions import load_region
    from tests.lapor_files import write_csv

    engine = create_engine(url)
    region = load_region("surabaya")
    source = write_csv(tmp_path / "lapor_xss.csv", _lapor_rows())
    summary = run_import(connector_for("lapor", region, source=source), engine, source=str(source))
    assert (summary.inserted, summary.quarantined) == (1, 1)
    now = datetime.now(timezone.utc)
    genteng = next(d for d in region.districts if d.code == "genteng")
    with Session(engine) as session:
        overdue = Complaint(
            channel="wargaku", source_id=OVERDUE_ID, kind="complaint", status="in_progress", status_raw=SHORT,
            received_at=now - timedelta(days=95), category="roads", category_raw=SHORT, classification=SHORT,
            source_type=SHORT, title=f"XSS-OVERDUE {SHORT}", body=f"{HOSTILE} {BODY_PII}", district_code="genteng",
            district_raw=SHORT, subdistrict=SHORT, agency_code="DSDABM", agency_raw=SHORT, source_detail=SHORT,
            lat=genteng.lat, lon=genteng.lon, response_due_at=now - timedelta(days=94),  # the most overdue:
            resolve_due_at=now - timedelta(days=90), row_hash="1" * 32)  # first in every overdue list
        secret = Complaint(
            channel="lapor", source_id=SECRET_ID, kind="complaint", status="in_progress", is_confidential=True,
            received_at=now - timedelta(days=2), category="roads", title=f"XSS-RAHASIA {SHORT}",
            body=f"{HOSTILE} Nama : {SECRET_REPORTER['name']}", district_code="genteng", agency_code="DSDABM",
            resolve_due_at=now - timedelta(hours=5), row_hash="2" * 32)
        session.add_all([overdue, secret])
        session.flush()
        session.add_all([
            ReporterContact(complaint_id=overdue.id, **{k: f"{v} {SHORT}"[:200] if k in ("name", "address") else v
                                                        for k, v in REPORTER.items()}),
            ReporterContact(complaint_id=secret.id, **SECRET_REPORTER),
            ComplaintStatusEvent(complaint_id=overdue.id, observed_at=now - timedelta(days=92), status="in_progress",
                                 previous_status="new", status_raw=SHORT, time_basis="source"),
            ImportRun(channel="wargaku", source=f"http://{TRACKER}/feed", started_at=now, finished_at=now,
                      state="failed", error=f"HTTP 500 dari sumber: {HOSTILE} {BODY_PII}"),
        ])
        session.commit()
        ids = {"overdue": overdue.id, "secret": secret.id}
        ids["lapor"] = session.exec(select(Complaint.id).where(Complaint.source_id == LAPOR_ID)).one()
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def hostile(seeded_url, tmp_path_factory):
    from models.db import get_engine

    folder = tmp_path_factory.mktemp("xss")
    url = copy_seeded(seeded_url, folder / "sigap.db")
    make_users(get_engine(url))
    ids = _add_hostile_records(url, folder)
    server = Dashboard(url)
    server.database_url = url
    yield server, ids
    server.stop()


class Watch:
    """What a script that ran would leave behind on one browser page."""

    def __init__(self, page):
        self.page, self.dialogs, self.requests = page, [], []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: self.requests.append(request.url) if TRACKER in request.url else None)

    def assert_inert(self, where: str) -> None:
        page = self.page
        page.wait_for_timeout(200)
        assert exceptions(page) == [], where
        assert page.evaluate("typeof window.__xss") == "undefined", where
        assert self.dialogs == [] and self.requests == [], (where, self.dialogs, self.requests)
        live = page.evaluate("""() => [...document.querySelectorAll('*')].filter(el =>
            [...el.attributes].some(a => /^on/i.test(a.name) && /__xss/.test(a.value)
                                      || /^\\s*javascript:/i.test(a.value))).map(el => el.outerHTML.slice(0, 120))""")
        assert live == [], (where, live)
        assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))") is False, where
        assert page.locator(f"a[href*='{TRACKER}'], img[src*='{TRACKER}']").count() == 0, where  # no link, image

    def assert_no_reporter(self, where: str, *reporters: dict) -> None:
        html = self.page.content()
        for reporter in reporters:
            for token in distinctive(reporter):
                assert token not in html, (where, "reporter data on the page")
        assert "3578 0199 1299 0002" not in html and "0812-9988-7766" not in html, where


def visit(browser, url: str, wait_for: str | None = None, height: int = 1600) -> Watch:
    page = open_page(browser, url, height=height, wait_ms=500)
    watch = Watch(page)
    if wait_for:
        try:
            page.locator(wait_for).first.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "xss_failed_open.png"), full_page=True)
            raise
    settle(page)
    return watch


def settle(page, ms: int = 500) -> None:
    page.wait_for_timeout(ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(ms)


def literal(text: str) -> None:
    """What a person reads of the hostile text: every trick visible as the characters that were typed."""
    for typed in ("window.__xss=1", "onerror=", "javascript", "**tebal**", ":red[merah]", "$$\\LaTeX$$"):
        assert typed in text, typed


def test_public_pages_and_operator_show_hostile_text_as_text(hostile, browser):
    server, ids = hostile
    warm = open_page(browser, server.url, wait_ms=300)  # a fresh server's first session lands on the default page
    warm.get_by_role("heading").first.wait_for(timeout=60_000)
    warm.close()
    # the explorer: the hostile complaint, the imported one (every raw field) and the confidential one
    watch = visit(browser, f"{server.url}/explorer?complaint={ids['overdue']}", "[role=dialog]")
    page = watch.page
    for key in ("overdue", "lapor"):
        if key != "overdue":
            go(page, f"/explorer?complaint={ids[key]}")
        dialog = page.get_by_role("dialog")
        dialog.get_by_text(f"XSS-{key.upper()}").first.wait_for(timeout=30_000)
        literal(dialog.inner_text())
        assert dialog.inner_text().count(":red[y]") >= 4  # the source's own wording: category, classification…
        watch.assert_inert(f"explorer detail {key}")
        watch.assert_no_reporter(f"explorer detail {key}", REPORTER)
        page.screenshot(path=str(SCREENSHOTS / f"xss_explorer_{key}.png"), full_page=True)
    go(page, f"/explorer?complaint={ids['secret']}")
    page.get_by_role("dialog").get_by_text("Rahasia").first.wait_for(timeout=30_000)
    assert "XSS-RAHASIA" not in page.content()
    watch.assert_inert("explorer confidential")
    watch.assert_no_reporter("explorer confidential", SECRET_REPORTER)

    go(page, "/explorer")
    box = page.get_by_placeholder("Kata di judul/isi, atau nomor laporan…")
    box.fill("xss")
    box.press("Enter")
    page.get_by_text(re.compile(r"^[23] aduan · halaman 1 dari 1")).wait_for(timeout=30_000)
    settle(page)
    watch.assert_inert("explorer list")
    watch.assert_no_reporter("explorer list", REPORTER, SECRET_REPORTER)

    # the channel page: the failed run's error (the quarantined rows are for staff: below)
    go(page, "/channels")
    settle(page)
    shown = page.locator("[data-testid=stMain]").inner_text()
    assert "HTTP 500 dari sumber" in shown and "XSS-KARANTINA" not in shown
    literal(shown)
    watch.assert_inert("channels")
    watch.assert_no_reporter("channels", REPORTER)

    for path, heading in (("overview", "Ringkasan"), ("response", "Waktu respons"), ("how", "Cara kerja"),
                          ("agencies", "Peringkat OPD"), ("map", "Peta")):
        go(page, f"/{path}")
        page.locator(f"h1:has-text('{heading}')").first.wait_for(timeout=60_000)
        settle(page)
        watch.assert_inert(path)
        watch.assert_no_reporter(path, REPORTER, SECRET_REPORTER)
    hover_map(page)
    watch.assert_inert("map tooltip")

    # an operator (signed in, same session) sees the same masked texts and no reporter
    sign_in(page, "operator")
    go(page, "/channels")  # the quarantined row, raw content included
    page.get_by_text("Data mentah terbaru (teks)").click()
    settle(page)
    shown = page.locator("[data-testid=stMain]").inner_text()
    assert "XSS-KARANTINA" in shown
    literal(shown)
    watch.assert_inert("operator channels")
    watch.assert_no_reporter("operator channels", REPORTER)
    page.screenshot(path=str(SCREENSHOTS / "xss_channels.png"), full_page=True)
    for key in ("overdue", "secret"):
        go(page, f"/explorer?complaint={ids[key]}")
        page.get_by_role("dialog").wait_for(timeout=30_000)
        watch.assert_inert(f"operator explorer {key}")
        watch.assert_no_reporter(f"operator explorer {key}", REPORTER, SECRET_REPORTER)
    page.close()


def hover_map(page) -> None:
    """Point at Genteng, where the hostile complaint and seeded ones are: the tooltip that opens is plain text."""
    from metrics import geo
    from regions import load_region
    from tests.test_map import MAP_HEIGHT, MAP_WIDTH, pixel

    region = load_region("surabaya")
    view = geo.fit_view(geo.district_geojson(region)["bbox"], MAP_WIDTH, MAP_HEIGHT, region.map_view.get("zoom"))
    genteng = next(d for d in region.districts if d.code == "genteng")
    dx, dy = pixel(view, round(genteng.lon, 3), round(genteng.lat, 3))
    canvas = page.locator("[data-testid=stDeckGlJsonChart] canvas").first
    canvas.wait_for(timeout=60_000)
    tooltip = page.locator(".deck-tooltip")
    for attempt in range(40):  # deck.gl picks once its layers are drawn: point again until a tooltip opens
        box = canvas.bounding_box()
        x, y = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy
        page.mouse.move(x + 30 - attempt % 2 * 60, y + 30)
        page.mouse.move(x, y, steps=4)
        page.wait_for_timeout(500)
        if tooltip.count() and tooltip.first.is_visible() and tooltip.first.inner_text().strip():
            break
    assert tooltip.first.inner_text().strip()  # a tooltip is up, and it is only text
    assert tooltip.first.locator("*").count() == tooltip.first.locator("br").count()


def test_kiosk_wall_and_ticker_stay_inert(hostile, browser):
    server, _ = hostile
    watch = visit(browser, f"{server.url}/?kiosk=1", "[class*=st-key-kiosk-ticker]", height=1080)
    watch.page.wait_for_timeout(2000)
    watch.assert_inert("kiosk")
    watch.assert_no_reporter("kiosk", REPORTER, SECRET_REPORTER)
    watch.page.close()


def test_scorecard_pdf_lists_the_hostile_complaint_by_number_only(hostile, tmp_path):
    import shutil
    import subprocess

    from models.db import get_engine
    from regions import load_region
    from reports.pdf import render_pdf
    from reports.scorecard import build_scorecard

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    server, _ = hostile
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    path = tmp_path / "dsdabm.pdf"
    path.write_bytes(render_pdf(build_scorecard(get_engine(server.database_url), load_region("surabaya"), month,
                                                "DSDABM")))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    flat = re.sub(r"\s+", "", text)
    # the number, drawn as its characters (broken over lines at each "_" in a narrow column)
    assert '<img src=x' in text and 'onerror="window._' in text and 'xss=1">' in text and SECRET_ID in flat
    assert not re.search(r"XSS-(OVERDUE|RAHASIA|LAPOR)|tebal", text)  # no title, no text
    for token in distinctive(REPORTER) + distinctive(SECRET_REPORTER):
        assert re.sub(r"\s+", "", token) not in flat


def sign_in(page, role: str) -> None:
    from tests.test_roles_browser import ACCOUNTS
    from tests.test_roles_browser import sign_in as sidebar_sign_in

    sidebar_sign_in(page, ACCOUNTS[role], PASSWORDS[ACCOUNTS[role]])


def go(page, path: str) -> None:
    """Another page in the same signed-in session (a fresh page load would start signed out)."""
    page.evaluate(f"() => {{ history.pushState({{}}, '', '{path}'); dispatchEvent(new PopStateEvent('popstate')); }}")
    settle(page, 800)


def open_number(page, number: str) -> str:
    box = page.get_by_label("Buka aduan dengan nomor")
    box.fill(number)
    box.press("Enter")
    settle(page)
    return page.locator("[data-testid=stMain]").inner_text()


def test_agency_head_sees_own_reporter_as_text_but_never_a_confidential_one(hostile, browser):
    server, _ = hostile
    watch = visit(browser, server.url)
    sign_in(watch.page, "agency_head")
    watch.page.locator("h1:has-text('OPD saya')").wait_for(timeout=60_000)
    settle(watch.page)
    watch.assert_inert("my agency")
    shown = open_number(watch.page, OVERDUE_ID)
    literal(shown)
    assert REPORTER["phone"] in shown and "Wiranata" in shown  # own agency: the reporter, as plain text
    watch.assert_inert("my agency detail")
    watch.page.screenshot(path=str(SCREENSHOTS / "xss_my_agency.png"), full_page=True)
    shown = open_number(watch.page, SECRET_ID)
    assert "RAHASIA" in shown
    watch.assert_no_reporter("my agency confidential", SECRET_REPORTER)
    watch.assert_inert("my agency confidential")
    watch.page.close()


def test_admin_pages_stay_inert_and_confidential_reporter_stays_hidden(hostile, browser):
    server, ids = hostile
    watch = visit(browser, server.url)
    sign_in(watch.page, "admin")
    watch.page.locator("h1:has-text('Administrasi')").wait_for(timeout=60_000)
    watch.page.get_by_role("tab", name="Log audit").click()
    settle(watch.page)
    watch.assert_inert("admin audit")
    go(watch.page, f"/explorer?complaint={ids['secret']}")
    watch.page.get_by_role("dialog").wait_for(timeout=30_000)
    watch.assert_inert("admin explorer confidential")
    watch.assert_no_reporter("admin explorer confidential", SECRET_REPORTER)
    watch.page.close()
