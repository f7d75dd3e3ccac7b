"""The SP4N-LAPOR! import, end to end through the command line, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from connectors.__main__ import main as cli
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord
from tests.conftest import PROJECT_ROOT, REAL_LAPOR
from tests.lapor_files import COLUMNS_17, OFFICIAL_PREAMBLE, report, write_csv, write_xlsx

WIB = ZoneInfo("Asia/Jakarta")


def run_cli(monkeypatch, capsys, db_url, *args) -> tuple[int, dict | None, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli(["import", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def complaints(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Complaint.__table__)).mappings().all()
    return {r["source_id"]: dict(r) for r in rows}


@pytest.mark.skipif(not REAL_LAPOR.exists(), reason="the real export is only in ../shared/real")
def test_real_export_lands_whole_with_districts_and_agencies_resolved(monkeypatch, capsys, db_url, engine):
    import pandas as pd

    source = pd.read_excel(REAL_LAPOR)
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", REAL_LAPOR, "--region", "kab_bandung")
    assert code == 0
    assert summary["read"] == len(source) == summary["inserted"] + summary["quarantined"]
    assert summary["quarantined"] == 0
    assert count(engine) == len(source)
    stored = complaints(engine)
    assert set(stored) == {str(t) for t in source["Tracking ID"]}
    # every routed report resolves to a configured agency
    assert [c["agency_raw"] for c in stored.values() if c["agency_raw"] and not c["agency_code"]] == []
    # the regency's own kecamatan resolve; names from other regencies stay raw and are counted as unmapped
    from regions import load_region
    from regions.normalise import place_key

    own = {place_key(d.name) for d in load_region("kab_bandung").districts}
    in_regency = source["Kecamatan"].dropna().map(place_key).isin(own).sum()
    resolved_from_column = sum(1 for c in stored.values() if c["district_raw"] and c["district_code"])
    assert resolved_from_column == in_regency
    assert summary["unmapped_district"] == source["Kecamatan"].notna().sum() - in_regency
    # confidential flags survive
    assert sum(c["is_confidential"] for c in stored.values()) == source["Tipe Laporan (Anonim/Rahasia)"].fillna(
        "").str.contains("Rahasia").sum()

    code, again, _ = run_cli(monkeypatch, capsys, db_url, "lapor", REAL_LAPOR, "--region", "kab_bandung")
    assert code == 0 and again["unchanged"] == len(source) and again["inserted"] == again["updated"] == 0


def test_every_export_variant_yields_the_same_complaints(monkeypatch, capsys, db_url, engine, tmp_path):
    rows = [
        report(1000001, date="29 May 2023", time="04:05:34", **{"Tipe Laporan (Anonim/Rahasia)": "Anonim|Rahasia"}),
        report(1000002, date="18 Jan 2024", time="23:59:59", Kecamatan="KEC. KARANGPILANG",
               status="Belum Terverifikasi", **{"Instansi Terdisposisi": None}),
        report(1000003, date="2 Jan 2024", time="00:00:01", Kecamatan="Pabean Cantikan", Kelurahan="Bongkaran",
               **{"Tipe Laporan (Anonim/Rahasia)": None, "Klasifikasi Laporan": "Permintaan Informasi"}),
    ]
    official = write_xlsx(tmp_path / "official.xlsx", rows, preamble=OFFICIAL_PREAMBLE)
    code, first, _ = run_cli(monkeypatch, capsys, db_url, "lapor", official)
    assert code == 0 and first["inserted"] == 3

    as_numbers_and_cells = [
        {**r, "Tracking ID": str(r["Tracking ID"]),
         "Tanggal Laporan Masuk": datetime.strptime(r["Tanggal Laporan Masuk"], "%d %b %Y")}
        for r in rows
    ]
    variants = [
        write_xlsx(tmp_path / "no_preamble.xlsx", rows),
        write_xlsx(tmp_path / "text_ids_date_cells.xlsx", as_numbers_and_cells),
        write_csv(tmp_path / "save.csv", rows),
        write_csv(tmp_path / "excel_id.csv", rows, delimiter=";", encoding="utf-8-sig"),
    ]
    for variant in variants:
        code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", variant)
        assert code == 0, err
        assert summary["unchanged"] == 3, (variant.name, summary)

    stored = complaints(engine)
    assert stored["1000001"]["received_at"] == datetime(2023, 5, 29, 4, 5, 34, tzinfo=timezone.utc)
    assert stored["1000001"]["is_anonymous"] and stored["1000001"]["is_confidential"]
    assert stored["1000002"]["district_code"] == "karang_pilang" and stored["1000002"]["status"] == "new"
    assert stored["1000002"]["agency_code"] is None
    assert stored["1000003"]["district_code"] == "pabean_cantian"
    assert stored["1000003"]["kind"] == "information_request"
    assert stored["1000001"]["agency_code"] == "DSDABM" and stored["1000001"]["category"] == "roads"
    assert stored["1000001"]["resolve_due_at"] > stored["1000001"]["received_at"]


def test_the_17_column_variant_imports(monkeypatch, capsys, db_url, engine, tmp_path):
    path = write_xlsx(tmp_path / "old.xlsx", [report(2000001), report(2000002)], columns=COLUMNS_17,
                      preamble=OFFICIAL_PREAMBLE)
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0 and summary["inserted"] == 2
    assert {c["district_code"] for c in complaints(engine).values()} == {None}


def test_status_changes_between_exports_become_history(monkeypatch, capsys, db_url, engine, tmp_path):
    def export(name, status, generated):
        return write_xlsx(tmp_path / name, [report(3000001, date="3 Nov 2025", time="01:00:00", status=status)],
                          preamble={**OFFICIAL_PREAMBLE, "Tanggal Generate": generated})

    steps = [("Belum Terverifikasi", "2025-11-03"), ("Ditindaklanjuti", "2025-11-05"),
             ("Ditutup oleh Sistem", "2025-11-20")]
    for i, (status, generated) in enumerate(steps):
        code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", export(f"e{i}.xlsx", status, generated))
        assert code == 0 and summary["inserted" if i == 0 else "updated"] == 1

    with engine.connect() as conn:
        events = conn.execute(select(ComplaintStatusEvent.previous_status, ComplaintStatusEvent.status,
                                     ComplaintStatusEvent.observed_at).order_by(ComplaintStatusEvent.id)).all()
    assert [(e.previous_status, e.status) for e in events] == [
        (None, "new"), ("new", "in_progress"), ("in_progress", "resolved")]
    end_of = lambda day: datetime(2025, 11, day, 23, 59, 59, 999999, tzinfo=WIB).astimezone(timezone.utc)  # noqa: E731
    assert [e.observed_at for e in events][1:] == [end_of(5), end_of(20)]
    stored = complaints(engine)["3000001"]
    assert stored["first_response_at"] == end_of(5)
    assert stored["resolved_at"] == end_of(20)


def test_bad_rows_are_quarantined_with_reasons_and_counts_reconcile(monkeypatch, capsys, db_url, engine, tmp_path):
    rows = [
        report(4000001),
        report(4000002, date="31 Foo 2023"),
        report(None),
        report(4000004, status="Dibakar"),
        report(4000005, date="1 Jan 2099"),
        report(4000006, date="1 Jan 1990"),
        report(4000001, status="Belum Terverifikasi"),  # the same id again, later in the file
    ]
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", write_xlsx(tmp_path / "messy.xlsx", rows))
    assert code == 0
    assert summary["read"] == 7
    # the later row with id 4000001 supersedes the earlier one, which counts as unchanged
    assert (summary["inserted"], summary["updated"], summary["unchanged"], summary["quarantined"]) == (1, 0, 1, 5)
    with engine.connect() as conn:
        reasons = conn.execute(select(QuarantinedRecord.source_id, QuarantinedRecord.reason, QuarantinedRecord.raw)
                               .order_by(QuarantinedRecord.id)).all()
    by_id = {r.source_id: r.reason for r in reasons}
    assert "not a date" in by_id["4000002"]
    assert "Tracking ID is empty" in by_id[None]
    assert "unknown status 'Dibakar'" in by_id["4000004"]
    assert "future" in by_id["4000005"]
    assert "before 2000" in by_id["4000006"]
    assert all(json.loads(r.raw)["judul_laporan"] for r in reasons)  # the raw row is kept whole
    assert complaints(engine)["4000001"]["status"] == "new"
    code, again, _ = run_cli(monkeypatch, capsys, db_url, "lapor", tmp_path / "messy.xlsx")
    assert (again["unchanged"], again["updated"], again["quarantined"]) == (2, 0, 5)


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"<html><body><table><tr><td>Tracking ID</td></tr></table></body></html>", "HTML"),
    (b"PK\x03\x04 truncated zip", "not a readable xlsx"),
    ("UID,WAKTU LAPOR,TIPE LAPORAN,KATEGORI\n1,2025-01-01 10:00:00,emergency,BANJIR\n".encode(), "no header row"),
])
def test_unreadable_files_fail_with_one_line_and_write_nothing(monkeypatch, capsys, db_url, engine, tmp_path,
                                                              content, expected):
    run_cli(monkeypatch, capsys, db_url, "lapor", write_xlsx(tmp_path / "ok.xlsx", [report(5000001)]))
    before = complaints(engine)
    bad = tmp_path / "laporan.xlsx"
    bad.write_bytes(content)
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", bad)
    assert code != 0
    assert expected in err and err.count("\n") == 1
    assert complaints(engine) == before
    assert count(engine, QuarantinedRecord) == 0
    with engine.connect() as conn:
        last = conn.execute(select(ImportRun.state, ImportRun.error).order_by(ImportRun.id.desc())).first()
    assert last.state == "failed" and expected in last.error


def test_a_file_damaged_part_way_writes_nothing(monkeypatch, capsys, db_url, engine, tmp_path):
    good = write_xlsx(tmp_path / "big.xlsx", [report(6000000 + i) for i in range(300)])
    data = good.read_bytes()
    broken = tmp_path / "cut.xlsx"
    broken.write_bytes(data[: len(data) * 2 // 3])
    code, _, err = run_cli(monkeypatch, capsys, db_url, "lapor", broken)
    assert code != 0 and err.startswith("error: cut.xlsx")
    assert count(engine) == 0


def test_command_line_contract(tmp_path, db_url):
    path = write_xlsx(tmp_path / "one.xlsx", [report(7000001)], preamble=OFFICIAL_PREAMBLE)
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)}
    ok = subprocess.run([sys.executable, "-m", "connectors", "import", "lapor", str(path), "--json"],
                        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert {k: summary[k] for k in ("read", "inserted", "updated", "unchanged", "quarantined")} == {
        "read": 1, "inserted": 1, "updated": 0, "unchanged": 0, "quarantined": 0}
    missing = subprocess.run([sys.executable, "-m", "connectors", "import", "lapor", str(tmp_path / "nope.xlsx")],
                             cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr


def test_formulas_and_serial_dates(monkeypatch, capsys, db_url, engine, tmp_path):
    path = write_xlsx(tmp_path / "serial.xlsx", [report(8000001, date=45075, time=0.5)])  # 2023-05-29 12:00
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0 and summary["inserted"] == 1
    assert complaints(engine)["8000001"]["received_at"] == datetime(2023, 5, 29, 12, 0, tzinfo=timezone.utc)
    workbook = openpyxl.load_workbook(path)
    assert workbook.active.max_row == 2
