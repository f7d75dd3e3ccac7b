"""Exports carry exactly the filtered rows and totals, open as real spreadsheets, and never carry personal data
for roles without rights; the monthly scorecard PDF is made from the seeded data and is not blank."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from metrics import queries
from models.db import get_engine
from reports import data
from ui.export import export_bytes, file_name, sanitise, to_csv, to_xlsx

NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
PHONE = re.compile(r"(?<![\d+])(?:\+62|62|0)8\d{7,11}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def surabaya_tz():
    from regions import load_region

    return load_region("surabaya").timezone


def _last_full_month(today: date | None = None) -> str:
    first = (today or datetime.now(timezone.utc).date()).replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _overdue_table(engine, filters, now, tz) -> pd.DataFrame:
    """The my-agency overdue table as a page builds it: names, local datetimes, day counts."""
    overdue = data.overdue_list(engine, filters, now)
    return pd.DataFrame({
        "No. aduan": overdue["source_id"], "Kanal": overdue["channel"], "Kategori": overdue["category"],
        "Diterima": list(overdue["received_at"]), "Tenggat": list(overdue["due_at"]),
        "Terlambat (hari)": overdue["overdue_days"].round(1),
    })


def test_csv_and_xlsx_hold_exactly_the_filtered_rows_and_totals(seeded_url, surabaya_tz, tmp_path):
    engine = get_engine(seeded_url)
    now = datetime.now(timezone.utc)
    filters = data.for_agency(data.Filters.last_days(90, now.astimezone(surabaya_tz).date()), "DSDABM")
    table = _overdue_table(engine, filters, now, surabaya_tz)
    assert len(table) == data.overdue_count(engine, filters, now) > 0

    rows = list(csv.reader(io.StringIO(to_csv(table, surabaya_tz).decode("utf-8-sig"))))
    assert rows[0] == list(table.columns) and len(rows) - 1 == len(table)
    assert sum(float(r[5]) for r in rows[1:]) == pytest.approx(table["Terlambat (hari)"].sum())
    first_local = table["Diterima"].iloc[0].astimezone(surabaya_tz)
    assert rows[1][3] == first_local.strftime("%Y-%m-%d %H:%M")  # local time, not UTC

    path = tmp_path / "overdue.xlsx"
    path.write_bytes(to_xlsx(table, surabaya_tz, "Lewat tenggat"))
    sheet = load_workbook(path).active
    assert sheet.title == "Lewat tenggat" and sheet.max_row == len(table) + 1
    assert [c.value for c in sheet[1]] == list(table.columns)
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    received = sheet.cell(row=2, column=4)
    assert isinstance(received.value, datetime) and received.value == first_local.replace(tzinfo=None)
    assert received.number_format == "dd/mm/yyyy hh:mm"
    assert sum(sheet.cell(row=r, column=6).value for r in range(2, sheet.max_row + 1)) == pytest.approx(
        table["Terlambat (hari)"].sum())
    assert sheet.column_dimensions["A"].width >= len("No. aduan") + 2


def test_category_export_totals_equal_the_headline_count(seeded_url, surabaya_tz, tmp_path):
    engine = get_engine(seeded_url)
    now = datetime.now(timezone.utc)
    filters = replace(data.month_filters(_last_full_month()), agencies=("DSDABM",), channels=("lapor", "wargaku"))
    arrivals = data.arrivals(engine, filters, surabaya_tz, "category")
    expected = queries.headline(engine, filters, now, surabaya_tz).received
    assert expected > 0
    rows = list(csv.reader(io.StringIO(export_bytes(arrivals, "csv", surabaya_tz).decode("utf-8-sig"))))
    assert sum(int(r[1]) for r in rows[1:]) == expected
    path = tmp_path / "categories.xlsx"
    path.write_bytes(export_bytes(arrivals, "xlsx", surabaya_tz))
    sheet = load_workbook(path).active
    assert sum(sheet.cell(row=r, column=2).value for r in range(2, sheet.max_row + 1)) == expected


def _texts_with_personal_data(engine, limit: int = 40) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select c.source_id, c.title, c.body, r.name, r.nik, r.phone, r.email, r.address from complaint c "
            "left join reporter_contact r on r.complaint_id = c.id "
            "where c.body like '%nik%' or c.body like '%08%' or c.body like '%@%' or r.phone is not null "
            "order by c.id limit :limit"), {"limit": limit}).mappings().all()
    return pd.DataFrame(rows)


def test_exports_for_roles_without_rights_carry_no_personal_data(seeded_url, surabaya_tz):
    frame = _texts_with_personal_data(get_engine(seeded_url))
    raw = " ".join(str(v) for v in frame.to_numpy().ravel())
    assert NIK.search(raw) and PHONE.search(raw.replace(" ", "").replace("-", ""))  # the input does have some
    for fmt in ("csv", "xlsx"):
        content = export_bytes(frame, fmt, surabaya_tz)
        if fmt == "xlsx":
            sheet = load_workbook(io.BytesIO(content)).active
            header = [c.value for c in sheet[1]]
            exported = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        else:
            header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            exported = content.decode("utf-8-sig")
        assert header == ["source_id", "title", "body"]  # reporter_contact never leaves
        assert not NIK.search(exported), NIK.search(exported)
        assert not PHONE.search(exported.replace(" ", "").replace("-", "")), PHONE.search(exported)
        assert not EMAIL.search(exported), EMAIL.search(exported)


def test_privileged_exports_keep_text_but_still_drop_reporter_columns():
    frame = pd.DataFrame({"ID": ["1"], "Isi": ["saya budi, nik 3578205904694335"], "reporter_phone": ["0812345678"],
                          "Nama": ["Budi"], "NIK": ["3578205904694335"]})
    assert list(sanitise(frame, personal_data=True).columns) == ["ID", "Isi"]
    assert "3578205904694335" in sanitise(frame, personal_data=True)["Isi"][0]
    assert "3578205904694335" not in sanitise(frame)["Isi"][0]


def test_text_never_runs_as_a_spreadsheet_formula(surabaya_tz):
    frame = pd.DataFrame({"Judul": ['=HYPERLINK("http://x.example","klik")', "+1+1", "-5", "@SUM(A1)"],
                          "Angka": [-5, 1, 2, 3]})
    rows = list(csv.reader(io.StringIO(to_csv(frame, surabaya_tz).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x.example\",\"klik\")", "'+1+1", "-5", "'@SUM(A1)"]
    assert rows[1][1] == "-5"
    sheet = load_workbook(io.BytesIO(to_xlsx(frame, surabaya_tz))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet["B2"].value == -5
    assert re.fullmatch(r"sigap_aduan_lewat_tenggat_\d{4}-\d{2}-\d{2}\.xlsx", file_name("Aduan lewat tenggat!", "xlsx"))


# --- the monthly scorecard ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scorecard_pdfs(seeded_url, tmp_path_factory):
    """The city and DSDABM scorecards of the last full month of the seeded data."""
    from regions import load_region
    from reports.pdf import render_pdf
    from reports.scorecard import build_scorecard

    engine, region = get_engine(seeded_url), load_region("surabaya")
    month = _last_full_month()
    folder = tmp_path_factory.mktemp("scorecards")
    city = build_scorecard(engine, region, month)
    agency = build_scorecard(engine, region, month, "DSDABM")
    paths = {"city": folder / "city.pdf", "agency": folder / "dsdabm.pdf"}
    paths["city"].write_bytes(render_pdf(city))
    paths["agency"].write_bytes(render_pdf(agency))
    return month, city, agency, paths


def test_scorecard_figures_come_from_the_month(scorecard_pdfs, seeded_url, surabaya_tz):
    month, city, agency, paths = scorecard_pdfs
    assert city.sections[0].current.received > 0 and city.sections[0].agency_code is None
    section = agency.sections[0]
    assert section.agency_code == "DSDABM" and section.standing.rank is not None
    assert section.standing.of == len(city.ranking)
    assert section.current.received == int(city.ranking.set_index("agency_code").loc["DSDABM", "received"])
    assert section.daily["received"].sum() == section.current.received
    assert len(section.history) == 6 and section.history["month"].iloc[-1] == month
    assert set(section.overdue.columns).isdisjoint({"title", "body", "name", "nik", "phone", "email", "address"})
    for path in paths.values():
        content = path.read_bytes()
        assert content.startswith(b"%PDF") and content.count(b"/Type /Page") - content.count(b"/Type /Pages") >= 1


def test_scorecard_command_line(seeded_url, monkeypatch, tmp_path):
    from reports.__main__ import main

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("SIGAP_SEED", "0")
    out = tmp_path / "kartu.pdf"
    assert main(["scorecard", "--month", _last_full_month(), "--agency", "dlh", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["scorecard", "--month", "2026-13", "--out", str(out)]) == 2
    assert main(["scorecard", "--month", _last_full_month(), "--agency", "NOPE", "--out", str(out)]) == 2


def _require_poppler() -> None:
    if not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed: apt-get install poppler-utils")


def test_scorecard_pages_render_and_are_not_blank(scorecard_pdfs, tmp_path):
    from PIL import Image, ImageStat

    _require_poppler()
    _, _, _, paths = scorecard_pdfs
    for name, path in paths.items():
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / name)], check=True)
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        assert len(pages) >= 1
        for page in pages:
            gray = Image.open(page).convert("L")
            dark = sum(gray.histogram()[:200]) / (gray.width * gray.height)
            assert dark > 0.01, f"{page.name} looks blank"
        first = ImageStat.Stat(Image.open(pages[0]).convert("L"))
        assert first.stddev[0] > 20  # text, tables and charts, not a flat page


def test_scorecard_text_is_indonesian_and_has_no_personal_data(scorecard_pdfs):
    _require_poppler()
    month, city, agency, paths = scorecard_pdfs
    for path, scorecard in ((paths["city"], city), (paths["agency"], agency)):
        words = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                               text=True).stdout
        for source_id in scorecard.sections[0].overdue["source_id"]:  # complaint numbers are not NIKs
            for part in str(source_id).split("_"):
                words = words.replace(part, "#")
        assert "Kartu Kinerja Penanganan Pengaduan" in words and "Halaman 1 dari" in words
        assert "Tingkat penyelesaian" in words and "Aduan lewat tenggat" in words
        assert not NIK.search(words) and not EMAIL.search(words)
        assert not PHONE.search(words.replace(" ", "").replace("-", ""))
