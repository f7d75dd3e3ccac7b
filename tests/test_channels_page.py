"""The channel-health page in a real Chromium: healthy, failing and stale channels are told apart at a glance,
the quarantine shows reasons without personal data, and an administrator can poll a channel now."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update

from models import ImportRun, QuarantinedRecord, utcnow
from models.db import get_engine
from tests.browser import SCREENSHOTS, Dashboard, exceptions, open_page
from tests.conftest import PROJECT_ROOT
from tests.lapor_files import OFFICIAL_PREAMBLE, report, write_xlsx
from tests.test_auth import PASSWORDS, make_users
from tests.test_roles_browser import sign_in

WIB = ZoneInfo("Asia/Jakarta")


def _copy_database(seeded_url: str, target: Path) -> str:
    with sqlite3.connect(seeded_url.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def _region_with_drop_folder(tmp_path: Path, folder: Path) -> Path:
    region = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", region)
    channels = (region / "channels.toml").read_text(encoding="utf-8")
    channels = channels.replace('drop_folder = "var/drop/lapor"', f'drop_folder = "{folder}"\nsettle_seconds = 0')
    (region / "channels.toml").write_text(channels, encoding="utf-8")
    return region


@pytest.fixture
def channels_dashboard(seeded_url, tmp_path):
    """A dashboard on a copy of the seeded database where 112 has gone quiet, Wargaku's server is failing
    and two LAPOR rows sit in quarantine."""
    url = _copy_database(seeded_url, tmp_path / "sigap.db")
    engine = get_engine(url)
    now = utcnow()
    runs = ImportRun.__table__
    with engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.channel == "call112").values(
            started_at=now - timedelta(hours=3, seconds=20), finished_at=now - timedelta(hours=3)))
        conn.execute(insert(runs), {
            "channel": "wargaku", "source": "http://127.0.0.1:8765/wargaku/complaints", "state": "failed",
            "started_at": now - timedelta(minutes=1), "finished_at": now - timedelta(seconds=50),
            "error": "wargaku: connection refused by http://127.0.0.1:8765/wargaku/complaints after 3 attempts"})
        run_id = conn.execute(insert(runs).returning(runs.c.id), {
            "channel": "lapor", "source": "var/drop/lapor/laporan.xlsx", "state": "succeeded",
            "started_at": now - timedelta(minutes=30), "finished_at": now - timedelta(minutes=29), "read": 3,
            "inserted": 1, "quarantined": 2}).scalar_one()
        conn.execute(insert(QuarantinedRecord.__table__), [
            {"run_id": run_id, "channel": "lapor", "source_id": "9000001", "created_at": now - timedelta(minutes=29),
             "reason": "unknown status 'Dalam Proses': add it to the [status] table of the lapor mapping",
             "raw": json.dumps({"tracking_id": "9000001", "status_laporan": "Dalam Proses",
                                "nama_pelapor": "Siti Aminah", "isi_laporan_akhir": "Lampu PJU mati, hubungi "
                                "081234567890, NIK 3578012345678901", "kecamatan": "GENTENG"})},
            {"run_id": run_id, "channel": "lapor", "source_id": "9000002", "created_at": now - timedelta(minutes=29),
             "reason": "Tanggal Laporan Masuk: '31 Foo 2023' is not a date",
             "raw": json.dumps({"tracking_id": "9000002", "tanggal_laporan_masuk": "31 Foo 2023",
                                "status_laporan": "Selesai"})},
        ])
    get_engine(url).dispose()
    folder = tmp_path / "drop"
    folder.mkdir()
    region = _region_with_drop_folder(tmp_path, folder)
    app = Dashboard(url, env={"SIGAP_REGION": str(region)})
    app.drop_folder, app.database_url = folder, url
    yield app
    app.stop()


def open_channels(browser, url: str):
    """The page, fully drawn. A cold server's very first request lands on the default page (app.py takes over
    from Streamlit's own page discovery), so wait for the app to be up, then open the page itself."""
    page = open_page(browser, url, height=1400)
    page.wait_for_selector("[data-testid=stMetricValue]", timeout=90_000)
    if not page.locator("[data-testid=stAlertContainer]").count():
        page.goto(url, timeout=90_000)
    page.wait_for_selector("[data-testid=stAlertContainer]", timeout=90_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    page.wait_for_timeout(500)
    return page


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the window to the content."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1600, "height": min(max(height + 40, 1000), 4000)})
    page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_channels_page_tells_healthy_from_stale_at_a_glance(channels_dashboard, browser):
    page = open_channels(browser, f"{channels_dashboard.url}/channels")
    assert exceptions(page) == []
    alerts = page.locator("[data-testid=stAlertContainer]").all_inner_texts()
    stale = [a for a in alerts if "DATA LAMA" in a]
    assert len(stale) == 1 and "3,0 j lalu" in stale[0], alerts
    assert any("Gagal" in a for a in alerts) and sum("Sehat" in a for a in alerts) >= 3
    metrics = dict(zip(page.locator("[data-testid=stMetricLabel]").all_inner_texts(),
                       page.locator("[data-testid=stMetricValue]").all_inner_texts()))
    metrics = {re.sub(r"^\W*(?:check_circle|error|warning|pause_circle)\s*", "", k): v for k, v in metrics.items()}
    assert (metrics["DATA LAMA"], metrics["Gagal"], metrics["Nonaktif"]) == ("1", "1", "2"), metrics
    assert page.get_by_text("connection refused", exact=False).count() >= 1
    # the public sees how many records are in quarantine, never the records (raw text can name a reporter)
    body = page.locator("[data-testid=stMain]").inner_text()
    assert "Karantina: 2" in body and "hanya untuk petugas" in body
    assert page.get_by_text("Data mentah terbaru (teks)").count() == 0 and "Siti" not in page.content()
    screenshot(page, "channels.png")

    english = open_channels(browser, f"{channels_dashboard.url}/channels?lang=en")
    assert exceptions(english) == []
    assert any("STALE" in a for a in english.locator("[data-testid=stAlertContainer]").all_inner_texts())
    screenshot(english, "channels_en.png")


def test_an_operator_polls_a_channel_now_and_the_public_cannot(channels_dashboard, browser):
    # generated today: the seeded database already holds exports up to today, and an older one is skipped
    today = {**OFFICIAL_PREAMBLE, "Tanggal Generate": utcnow().astimezone(WIB).date().isoformat()}
    write_xlsx(channels_dashboard.drop_folder / "laporan_hari_ini.xlsx", [report(9100001), report(9100002)],
               preamble=today)
    make_users(get_engine(channels_dashboard.database_url))
    page = open_channels(browser, f"{channels_dashboard.url}/channels")
    main = page.locator("[data-testid=stMain]")
    assert main.get_by_text("Administrasi", exact=True).count() == 0  # the public wall only looks
    assert main.get_by_role("button", name=re.compile("Jalankan sekarang")).count() == 0
    sign_in(page, "operator.112", PASSWORDS["operator.112"])
    page.locator("[data-testid=stSidebarNavLink]", has_text="Kesehatan kanal").first.click()
    # staff see the quarantine's reasons and raw records, masked
    page.get_by_text("Data mentah terbaru (teks)").click()
    page.locator("[data-testid=stCode]").first.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    raw = page.locator("[data-testid=stCode]").all_inner_texts()
    assert raw and any("Dalam Proses" in r for r in raw)
    assert not any("081234567890" in r or "3578012345678901" in r for r in raw)
    main.get_by_text("Administrasi", exact=True).click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name=re.compile("Jalankan sekarang")).click()
    notice = page.locator("[data-testid=stAlertContainer]").filter(has_text="impor selesai")
    notice.wait_for(timeout=60_000)
    assert "2 baru" in notice.inner_text()
    assert exceptions(page) == []
