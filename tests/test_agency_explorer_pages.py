"""The agency ranking and the complaint explorer in a real Chromium: they render, they export what they show,
no personal data reaches the page, and hostile complaint text stays text."""
from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from models import Complaint, ReporterContact
from tests.browser import SCREENSHOTS, Dashboard, exceptions, open_page

# Independent detectors of what must never reach a page
NIK = re.compile(r"(?<![\d.])\d{16}(?!\d)|(?<!\d)\d{4}[ .\-]\d{4}[ .\-]\d{4}[ .\-]\d{4}(?!\d)")
PHONE = re.compile(r"(?<![\d.])(?:\+\s?62[\s.\-]*|62|0)8(?:[\s.\-]?\d){8,11}(?!\d)")  # not "0.8961…"
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+\.[A-Za-z]{2,}")
TALL = 2600  # the app scrolls inside its own container: a tall window gets the whole page on one screenshot


def personal_data(text: str) -> list[str]:
    return NIK.findall(text) + PHONE.findall(text) + EMAIL.findall(text)


def open_view(browser, url: str, heading: str, height: int = TALL):
    """Open a page and wait until it shows its own heading and has finished running."""
    page = open_page(browser, url, height=height)
    try:
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / "failed_open.png"))
        raise
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(1500)
    return page


def warm_up(browser, url: str) -> None:
    """The first session of a fresh server lands on the default page whatever its URL (Streamlit runs the
    requested file from pages/ before app.py set up navigation, and ui.filters.shared() hands over to
    app.py, which opens the default page): open that first session here."""
    page = open_page(browser, url)
    page.get_by_role("heading").first.wait_for(timeout=60_000)
    page.close()


@pytest.fixture(scope="module")
def app(dashboard, browser):
    warm_up(browser, dashboard.url)
    return dashboard


@pytest.fixture(scope="module")
def seeded(seeded_url):
    engine = create_engine(seeded_url)
    yield engine
    engine.dispose()


def test_agency_ranking_page(app, browser, seeded):
    from metrics import Filters
    from metrics.ranking import league_table
    from regions import load_region

    page = open_view(browser, f"{app.url}/agencies", "Peringkat OPD")
    assert exceptions(page) == []
    assert page.get_by_text("Klasemen OPD", exact=True).count() == 1
    page.wait_for_selector("[data-testid=stDataFrame]", timeout=30_000)  # the league table
    page.wait_for_selector("[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg",
                           timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / "agencies.png"), full_page=True)

    # the export (the first CSV button: the league table's) holds exactly its rows, in order, with its columns
    with page.expect_download() as download:
        page.locator("[data-testid=stDownloadButton] button", has_text="CSV").first.click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[0] == ["#", "OPD", "Aduan", "Penyelesaian (%)", "n", "Skor Wilson (%)", "Tepat waktu (%)",
                       "Median respons", "Lewat tenggat", "Tren tepat waktu"]
    region = load_region("surabaya")
    today = datetime.now(region.timezone).date()
    expected = league_table(seeded, Filters.last_days(30, today), datetime.now(timezone.utc), region.timezone)
    assert [int(r[0]) for r in rows[1:]] == list(range(1, len(expected) + 1))
    assert [r[2] for r in rows[1:]] == [str(n) for n in expected["received"]]
    assert rows[1][1].rstrip(" ↗") == expected.iloc[0]["agency"]
    assert rows[1][3] == str(round(expected.iloc[0]["resolution_rate"] * 100))  # whole percent, as shown
    assert personal_data(page.content()) == []

    english = open_view(browser, f"{app.url}/agencies?lang=en", "Agency ranking", height=1200)
    assert exceptions(english) == []
    assert english.get_by_text("League table", exact=True).count() == 1
    english.close()
    page.close()


def test_explorer_page_lists_complaints_without_personal_data(app, browser):
    page = open_view(browser, f"{app.url}/explorer", "Telusuri aduan", height=1500)
    assert exceptions(page) == []
    page.wait_for_selector("[data-testid=stDataFrame]", timeout=30_000)
    assert page.locator("[data-testid=stDataFrame]").count() == 1
    assert re.search(r"\d+ aduan · halaman 1 dari \d+", page.inner_text("body"))
    page.screenshot(path=str(SCREENSHOTS / "explorer.png"), full_page=True)
    assert personal_data(page.content()) == []

    # choosing a row opens it in a side drawer and puts it in the URL; closing forgets it
    grid = page.locator("[data-testid=stDataFrame]").bounding_box()
    page.mouse.click(grid["x"] + 14, grid["y"] + 35 + 35 * 2 + 17)  # the third row's checkbox
    page.get_by_role("dialog").wait_for(timeout=30_000)
    assert re.search(r"[?&]complaint=\d+", page.url)
    assert "Riwayat status" in page.get_by_role("dialog").inner_text()
    assert personal_data(page.content()) == []
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('complaint=')", timeout=30_000)
    assert page.get_by_role("dialog").count() == 0

    # searching by a phone number is refused rather than used to find a person's complaints
    box = page.get_by_placeholder("Kata di judul/isi, atau nomor laporan…")
    box.fill("081234567890")
    box.press("Enter")
    page.get_by_text("Pencarian dengan data pribadi").wait_for(timeout=30_000)
    page.close()


def _with_personal_data(engine) -> tuple[Complaint, ReporterContact]:
    """A non-confidential complaint whose own text carries a NIK, phone or e-mail, with its reporter."""
    with Session(engine) as session:
        rows = session.exec(select(Complaint, ReporterContact)
                            .join(ReporterContact, ReporterContact.complaint_id == Complaint.id)
                            .where(Complaint.is_confidential.is_(False), Complaint.body.isnot(None))).all()
    for complaint, contact in rows:
        if personal_data(complaint.body) and contact.name and contact.name.split()[0] in complaint.body:
            return complaint, contact
    pytest.fail("the sample data has no complaint text with personal data in it")


def test_explorer_detail_masks_the_text_and_loads_no_reporter_data(app, browser, seeded):
    complaint, contact = _with_personal_data(seeded)
    page = open_view(browser, f"{app.url}/explorer?complaint={complaint.id}", "Telusuri aduan", height=1500)
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    assert exceptions(page) == []
    shown = dialog.inner_text()
    assert "Riwayat status" in shown and complaint.source_id in shown
    assert re.search(r"\[(NIK|telepon|email)\]", shown)
    html = page.content()
    assert personal_data(html) == []
    for secret in (contact.nik, contact.phone, contact.email, contact.address):
        if secret:
            assert secret not in html
    assert contact.name.lower() not in html.lower()
    page.screenshot(path=str(SCREENSHOTS / "explorer_detail.png"), full_page=True)
    page.close()


def test_confidential_complaint_shows_badge_and_no_text(app, browser, seeded):
    with Session(seeded) as session:
        complaint = session.exec(select(Complaint).where(Complaint.is_confidential.is_(True),
                                                         Complaint.body.isnot(None))).first()
    if complaint is None:
        pytest.skip("no confidential complaint in the sample")
    page = open_view(browser, f"{app.url}/explorer?complaint={complaint.id}", "Telusuri aduan", height=1500)
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    shown = dialog.inner_text()
    assert "Rahasia" in shown and "isi laporan tidak ditampilkan" in shown
    html = page.content()
    assert complaint.body[:40] not in html and complaint.body[-40:] not in html
    if complaint.title:  # sample titles are generic ("Jalan berlubang"): other rows may share it, the dialog not
        assert complaint.title not in dialog.inner_html()
    page.close()


HOSTILE_TITLE = "<script>window.__pwned=1</script> Lampu mati"
HOSTILE_BODY = ('Tolong <img src=x onerror="window.__pwned=1"> perbaiki [klik](javascript:window.__pwned=1) '
                "<b>segera</b>")


def test_hostile_complaint_text_is_shown_as_text(browser, seeded_url, tmp_path):
    """A complaint whose text is an XSS attempt, in a copy of the seeded database, on its own server."""
    source = seeded_url.removeprefix("sqlite:///")
    copy = tmp_path / "hostile.db"
    shutil.copyfile(source, copy)
    url = f"sqlite:///{copy}"
    engine = create_engine(url)
    with Session(engine) as session:
        hostile = Complaint(channel="wargaku", source_id="WG-XSS-0001", kind="complaint", status="in_progress",
                            received_at=datetime.now(timezone.utc) - timedelta(hours=2), category="street_lights",
                            title=HOSTILE_TITLE, body=HOSTILE_BODY, row_hash="0" * 32)
        session.add(hostile)
        session.commit()
        hostile_id = hostile.id
    engine.dispose()

    server = Dashboard(url)
    try:
        warm_up(browser, server.url)
        page = open_view(browser, f"{server.url}/explorer?complaint={hostile_id}", "Telusuri aduan", height=1500)
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=30_000)
        assert exceptions(page) == []
        page.wait_for_timeout(1000)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        shown = dialog.inner_text()
        assert "window.__pwned=1" in shown and "onerror" in shown  # visible, as text
        assert page.locator("img[src=x], img[onerror]").count() == 0
        assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__pwned'))") is False
        assert page.locator("a[href^='javascript']").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "explorer_hostile.png"), full_page=True)

        # and in the list, found by searching for it
        listing = open_view(browser, f"{server.url}/explorer", "Telusuri aduan", height=1200)
        box = listing.get_by_placeholder("Kata di judul/isi, atau nomor laporan…")
        box.fill("pwned")
        box.press("Enter")
        listing.get_by_text("1 aduan · halaman 1 dari 1").wait_for(timeout=30_000)
        listing.wait_for_timeout(1000)
        assert listing.evaluate("typeof window.__pwned") == "undefined"
        listing.close()
        page.close()
    finally:
        server.stop()
