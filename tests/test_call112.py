"""The Command Center 112 import, end to end through the command line, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from connectors.__main__ import main as cli
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord
from models.base import COMPLAINT_KINDS
from tests.conftest import PROJECT_ROOT
from tests.lapor_files import OFFICIAL_PREAMBLE, report
from tests.lapor_files import write_xlsx as write_lapor_xlsx

WIB = ZoneInfo("Asia/Jakarta")
COLUMNS = ["UID", "WAKTU LAPOR", "TIPE LAPORAN", "KATEGORI", "SUB KATEGORI 1", "KECAMATAN", "KELURAHAN",
           "LATITUDE", "LONGITUDE", "AGENT L1", "DURASI PENGERJAAN"]
NON_EMERGENCY = ("information", "prank", "ghost", "silent call")


# --- helpers ------------------------------------------------------------------------------------


def call(uid, when="2025-10-01 08:00:00", kind="emergency", kategori="LAKA LANTAS", sub="KECELAKAAN TUNGGAL",
         kec="GENTENG", kel="", lat="", lon="", agent="AGT-01", durasi="0 Hari : 1 Jam : 30 Menit : 0 Detik") -> dict:
    if kind != "emergency":  # as the room logs them: no category, no place
        kategori = sub = kec = kel = lat = lon = ""
    return dict(zip(COLUMNS, [str(uid), when, kind, kategori, sub, kec, kel, lat, lon, agent, durasi]))


def write_csv(path: Path, rows: list[dict], columns=COLUMNS, delimiter=",", encoding="utf-8-sig") -> Path:
    """As the export: UTF-8 with BOM, comma-separated, \\n line ends."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in COLUMNS])
    return path


def write_xlsx(path: Path, rows: list[dict], title_rows: int = 0) -> Path:
    """The current month's file: a date-time cell for WAKTU LAPOR, numbers for the coordinates and the UID."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for i in range(title_rows):
        sheet.append([f"REKAP INSIDEN COMMAND CENTER 112 ({i + 1})"])
    sheet.append(COLUMNS)
    for row in rows:
        cells = dict(row)
        cells["UID"] = int(row["UID"])
        cells["WAKTU LAPOR"] = datetime.strptime(row["WAKTU LAPOR"], "%Y-%m-%d %H:%M:%S")
        for key in ("LATITUDE", "LONGITUDE"):
            cells[key] = float(row[key]) if row[key] != "" else None
        sheet.append([None if cells[c] == "" else cells[c] for c in COLUMNS])
    workbook.save(path)
    return path


def run_cli(monkeypatch, capsys, db_url, *args) -> tuple[int, dict | None, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli(["import", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def stored(engine, channel="call112") -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Complaint.__table__).where(Complaint.channel == channel)).mappings().all()
    return {r["source_id"]: dict(r) for r in rows}


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def reconciles(summary: dict) -> bool:
    return summary["read"] == (summary["inserted"] + summary["updated"] + summary["unchanged"]
                               + summary["quarantined"])


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def inside():
    """A point well inside a district of the region's configured boundary layer, as (lat, lon) text."""
    from regions import load_region
    from regions.geo import load_boundaries

    region = load_region("surabaya")
    layer = load_boundaries(region.boundary_path(), region.boundaries["crs"], region.boundaries.get("name_property"),
                            region.districts)

    def point(code: str) -> tuple[str, str]:
        p = layer[code].representative_point()
        return f"{p.y:.6f}", f"{p.x:.6f}"

    return point


# --- tests --------------------------------------------------------------------------------------


def test_exact_export_columns_csv_and_xlsx_give_the_same_calls(monkeypatch, capsys, db_url, engine, tmp_path, inside):
    lat, lon = inside("genteng")
    rows = [
        call("202510010001", "2025-10-01 08:00:00", kategori="LAKA LANTAS", sub="KECELAKAAN SEPEDA MOTOR",
             kec="GENTENG", kel="KETABANG", lat=lat, lon=lon, durasi="0 Hari : 20 Jam : 41 Menit : 56 Detik"),
        call("202510010002", "2025-10-01 23:30:00", kategori="PDAM", sub="PIPA BOCOR", kec="TAMBAKSARI",
             durasi="2 Hari : 0 Jam : 5 Menit : 0 Detik"),
        call("202510010003", "2025-10-01 10:00:00", kategori="KEBAKARAN", sub="KEBAKARAN RUMAH", kec="BUBUTAN",
             durasi=""),  # still being handled at the cut-off
        call("202510010004", "2025-10-01 11:00:00", kind="prank", durasi="0 Hari : 0 Jam : 0 Menit : 40 Detik"),
        call("202510010005", "2025-10-01 11:05:00", kind="ghost", durasi="0 Hari : 0 Jam : 0 Menit : 12 Detik"),
        call("202510010006", "2025-10-01 11:10:00", kind="silent call", durasi="0 Hari : 0 Jam : 0 Menit : 20 Detik"),
        call("202510010007", "2025-10-01 11:15:00", kind="information", durasi="0 Hari : 0 Jam : 2 Menit : 30 Detik"),
    ]
    path = write_csv(tmp_path / "call112-2025-10.csv", rows)
    code, first, err = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0, err
    assert (first["read"], first["inserted"], first["quarantined"]) == (7, 7, 0)

    # The same calls as the current month's xlsx (title rows above the header, numbers and date cells): unchanged.
    code, again, err = run_cli(monkeypatch, capsys, db_url, "call112",
                               write_xlsx(tmp_path / "call112-2025-10.xlsx", rows, title_rows=2))
    assert code == 0, err
    assert (again["read"], again["unchanged"], again["quarantined"]) == (7, 7, 0), again

    calls = stored(engine)
    accident = calls["202510010001"]
    assert accident["received_at"] == datetime(2025, 10, 1, 1, 0, tzinfo=timezone.utc)  # 08:00 WIB
    assert accident["kind"] == "emergency_call" and accident["source_type"] == "emergency"
    assert accident["category"] == "traffic_accident" and accident["agency_code"] == "POLRI"
    assert accident["title"] == "KECELAKAAN SEPEDA MOTOR"
    assert accident["district_code"] == "genteng" and accident["district_raw"] == "GENTENG"
    assert accident["subdistrict"] == "Ketabang"
    assert (accident["lat"], accident["lon"]) == (pytest.approx(float(lat)), pytest.approx(float(lon)))
    assert accident["status"] == "resolved"
    assert accident["first_response_at"] == accident["received_at"]
    assert accident["resolved_at"] == accident["closed_at"] == accident["received_at"] + timedelta(
        hours=20, minutes=41, seconds=56)
    assert accident["response_due_at"] == accident["received_at"] + timedelta(minutes=15)  # region SLA rule

    water = calls["202510010002"]
    assert water["received_at"] == utc("2025-10-01 23:30:00") == datetime(2025, 10, 1, 16, 30, tzinfo=timezone.utc)
    assert water["resolved_at"] - water["received_at"] == timedelta(days=2, minutes=5)
    assert (water["category"], water["agency_code"], water["district_code"]) == ("water", "PDAM", "tambaksari")

    fire = calls["202510010003"]
    assert fire["status"] == "in_progress" and fire["resolved_at"] is None and fire["closed_at"] is None
    assert fire["first_response_at"] == fire["received_at"]

    for uid, raw_type in zip(("202510010004", "202510010005", "202510010006", "202510010007"),
                             ("prank", "ghost", "silent call", "information")):
        other = calls[uid]
        assert (other["kind"], other["source_type"], other["status"]) == ("non_emergency_call", raw_type, "closed")
        assert other["response_due_at"] is None and other["resolve_due_at"] is None  # counted, never overdue
    assert calls["202510010004"]["closed_at"] - calls["202510010004"]["received_at"] == timedelta(seconds=40)

    # The operator code is never in a field shown to users.
    for c in calls.values():
        assert c["source_detail"] and c["source_detail"].startswith("AGT-")
        assert not any("AGT-" in str(c[f] or "") for f in ("title", "body", "category_raw", "district_raw",
                                                           "subdistrict", "status_raw", "agency_raw"))


def test_non_emergency_calls_are_counted_but_never_complaints(monkeypatch, capsys, db_url, engine, tmp_path):
    short = "0 Hari : 0 Jam : 0 Menit : 9 Detik"
    rows = [call(f"2025100200{i:02d}", f"2025-10-02 0{i % 10}:00:00", kind=kind, durasi=short)
            for i, kind in enumerate(NON_EMERGENCY * 3 + ("emergency",) * 4)]
    rows += [call("202510029901", kind="silent", durasi=""), call("202510029902", kind="SALAH SAMBUNG", durasi=""),
             call("202510029903", kind="Prank Call", durasi="")]
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "mix.csv", rows))
    assert code == 0 and summary["inserted"] == len(rows) and summary["quarantined"] == 0
    with engine.connect() as conn:
        by_kind = dict(conn.execute(select(Complaint.kind, func.count()).group_by(Complaint.kind)).all())
        by_type = dict(conn.execute(select(Complaint.source_type, func.count())
                                    .where(Complaint.kind == "non_emergency_call")
                                    .group_by(Complaint.source_type)).all())
    assert by_kind == {"non_emergency_call": 15, "emergency_call": 4}
    assert not set(by_kind) & {k.value for k in COMPLAINT_KINDS}
    assert by_type == {"information": 3, "prank": 3, "ghost": 3, "silent call": 3, "silent": 1,
                       "SALAH SAMBUNG": 1, "Prank Call": 1}


def test_places_from_names_and_coordinates(monkeypatch, capsys, db_url, engine, tmp_path, inside):
    lat_r, lon_r = inside("rungkut")
    lat_w, lon_w = inside("wonokromo")
    lat_b, lon_b = inside("benowo")
    rows = [
        call("1", kec="KARANGPILANG"),                                   # upper case, alias spelling
        call("2", kec="KEC. PABEAN CANTIKAN"),                           # prefix + alias
        call("3", kec="TAMBAKSARRI"),                                    # doubled letter
        call("4", kec="SUKOMANUNGAL"),                                   # dropped letter
        call("5", kec="GENTENG", lat="0", lon="0"),                      # no GPS
        call("6", kec="GENTENG", lat=lon_r, lon=lat_r),                  # swapped, point in Rungkut
        call("7", kec="GENTENG", lat=lat_w, lon=lon_w),                  # wrong name, point in Wonokromo
        call("8", kec="", lat=lat_b, lon=lon_b),                         # no name, point in Benowo
        call("9", kec="ANTAH BERANTAH", lat=lat_r, lon=lon_r),           # unknown name, point in Rungkut
        call("10", kec="ANTAH BERANTAH"),                                # unknown name, no point: unmapped
        call("11", kec="", kel="BONGKARAN"),                             # only the kelurahan
    ]
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "places.csv", rows))
    assert code == 0 and summary["inserted"] == 11
    assert summary["unmapped_district"] == 1
    calls = stored(engine)
    district = {uid: c["district_code"] for uid, c in calls.items()}
    assert district == {"1": "karang_pilang", "2": "pabean_cantian", "3": "tambaksari", "4": "sukomanunggal",
                        "5": "genteng", "6": "rungkut", "7": "wonokromo", "8": "benowo", "9": "rungkut", "10": None,
                        "11": "pabean_cantian"}
    assert calls["5"]["lat"] is None and calls["5"]["lon"] is None
    assert (calls["6"]["lat"], calls["6"]["lon"]) == (pytest.approx(float(lat_r)), pytest.approx(float(lon_r)))
    assert calls["7"]["district_raw"] == "GENTENG"  # the source text is kept whatever we decided
    assert calls["3"]["district_raw"] == "TAMBAKSARRI" and calls["8"]["district_raw"] is None


def test_without_a_boundary_file_the_approximate_layer_places_points(monkeypatch, capsys, db_url, engine, tmp_path):
    from regions import load_region

    folder = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", folder)
    region_toml = folder / "region.toml"
    text = region_toml.read_text(encoding="utf-8")
    assert 'file = "districts_approx.geojson"' in text
    region_toml.write_text(text.replace('file = "districts_approx.geojson"', ""), encoding="utf-8")
    (folder / "districts_approx.geojson").unlink()
    assert load_region(str(folder)).boundary_path() is None
    centroid = {d.code: d for d in load_region(str(folder)).districts}["bulak"]
    rows = [call("1", kec="", lat=str(centroid.lat), lon=str(centroid.lon))]
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "a.csv", rows),
                                 "--region", folder)
    assert code == 0, err
    assert stored(engine)["1"]["district_code"] == "bulak"


def test_durations_become_resolution_times_and_later_files_close_calls(monkeypatch, capsys, db_url, engine, tmp_path):
    open_call = call("202510030001", "2025-10-03 09:00:00", kategori="POHON TUMBANG", sub="MENUTUP JALAN", durasi="")
    code, first, _ = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "a.csv", [open_call]))
    assert code == 0 and first["inserted"] == 1
    assert stored(engine)["202510030001"]["status"] == "in_progress"

    done = {**open_call, "DURASI PENGERJAAN": "1 Hari : 2 Jam : 3 Menit : 4 Detik"}
    code, second, _ = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "b.csv", [done]))
    assert code == 0 and second["updated"] == 1
    tree = stored(engine)["202510030001"]
    assert tree["status"] == "resolved" and (tree["category"], tree["agency_code"]) == ("trees", "DLH")
    assert tree["resolved_at"] == utc("2025-10-03 09:00:00") + timedelta(days=1, hours=2, minutes=3, seconds=4)
    with engine.connect() as conn:
        events = conn.execute(select(ComplaintStatusEvent.previous_status, ComplaintStatusEvent.status,
                                     ComplaintStatusEvent.observed_at).order_by(ComplaintStatusEvent.id)).all()
    assert [(e.previous_status, e.status) for e in events] == [(None, "in_progress"), ("in_progress", "resolved")]
    assert events[1].observed_at == tree["resolved_at"]  # the source's own moment, not the import time


def test_duplicates_and_bad_rows_reconcile_and_are_quarantined_with_reasons(monkeypatch, capsys, db_url, engine,
                                                                            tmp_path):
    good = call("202510040001", "2025-10-04 07:00:00")
    rows = [
        good,
        dict(good),                                                        # the same row twice
        call("202510040002", durasi=""),
        call("202510040002", durasi="0 Hari : 3 Jam : 0 Menit : 0 Detik"),  # the same call, finished later
        call(""),                                                          # no UID
        call("202510040004", when=""),                                     # no time
        call("202510040005", when="kemarin sore"),                         # not a time
        call("202510040006", kind="hoax"),                                 # unknown type
        call("202510040007", kind=""),                                     # no type
        call("202510040008", durasi="lama sekali"),                        # not a duration
        call("209901010001", when="2099-01-01 10:00:00"),                  # in the future
    ]
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "messy.csv", rows))
    assert code == 0
    assert summary["read"] == len(rows) and reconciles(summary)
    # a later row with the same UID supersedes the earlier one, which counts as unchanged
    assert (summary["inserted"], summary["updated"], summary["unchanged"], summary["quarantined"]) == (2, 0, 2, 7)
    with engine.connect() as conn:
        reasons = conn.execute(select(QuarantinedRecord.source_id, QuarantinedRecord.reason, QuarantinedRecord.raw)
                               .order_by(QuarantinedRecord.id)).all()
    by_id = {r.source_id: r.reason for r in reasons}
    assert "UID is empty" in by_id[None]
    assert "WAKTU LAPOR is empty" in by_id["202510040004"]
    assert "WAKTU LAPOR 'kemarin sore' is not a date and time" in by_id["202510040005"]
    assert "unknown call type 'hoax'" in by_id["202510040006"] and "[call_type]" in by_id["202510040006"]
    assert "TIPE LAPORAN is empty" in by_id["202510040007"]
    assert "DURASI PENGERJAAN 'lama sekali' is not a duration" in by_id["202510040008"]
    assert "future" in by_id["209901010001"]
    assert all(json.loads(r.raw)["agent_l1"] == "AGT-01" for r in reasons)  # the raw row is kept whole
    assert stored(engine)["202510040002"]["status"] == "resolved"
    assert count(engine) == 2

    code, again, _ = run_cli(monkeypatch, capsys, db_url, "call112", tmp_path / "messy.csv")
    assert code == 0 and reconciles(again) and again["read"] == len(rows)
    assert (again["inserted"], again["updated"], again["unchanged"], again["quarantined"]) == (0, 0, 4, 7)
    assert stored(engine)["202510040002"]["status"] == "resolved" and count(engine) == 2


def test_header_spelling_variants_semicolons_and_excel_encoding(monkeypatch, capsys, db_url, engine, tmp_path):
    variant = ["Uid", "Waktu Laporan", "Tipe", "Kategori", "Sub Kategori", "Kecamatan", "Kelurahan", "Lat", "Long",
               "Agent", "Durasi"]
    rows = [call("202510050001", kec="SAWAHAN", kel="PETEMON"), call("202510050002", kind="ghost")]
    path = write_csv(tmp_path / "export.csv", rows, columns=variant, delimiter=";", encoding="cp1252")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0, err
    assert summary["inserted"] == 2 and summary["quarantined"] == 0
    calls = stored(engine)
    assert calls["202510050001"]["subdistrict"] == "Petemon" and calls["202510050001"]["district_code"] == "sawahan"
    assert calls["202510050002"]["kind"] == "non_emergency_call"


def test_reimport_of_the_same_file_changes_nothing(monkeypatch, capsys, db_url, engine, tmp_path, inside):
    lat, lon = inside("tegalsari")
    rows = [call(f"20251006{i:04d}", f"2025-10-06 1{i % 10}:00:00", lat=lat, lon=lon) for i in range(1, 31)]
    rows += [call(f"20251006{i:04d}", kind="prank") for i in range(31, 41)]
    path = write_xlsx(tmp_path / "month.xlsx", rows)
    code, first, _ = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0 and first["inserted"] == 40
    with engine.connect() as conn:
        before = conn.execute(select(Complaint.__table__).order_by(Complaint.id)).all()
    code, again, _ = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0 and (again["read"], again["unchanged"], again["inserted"], again["updated"]) == (40, 40, 0, 0)
    with engine.connect() as conn:
        after = conn.execute(select(Complaint.__table__).order_by(Complaint.id)).all()
        assert count(engine, ComplaintStatusEvent) == 40
    assert after == before


def test_a_lapor_export_given_to_call112_fails_with_one_line_and_writes_nothing(monkeypatch, capsys, db_url, engine,
                                                                                tmp_path):
    run_cli(monkeypatch, capsys, db_url, "call112", write_csv(tmp_path / "ok.csv", [call("202510070001")]))
    before = stored(engine)
    lapor = write_lapor_xlsx(tmp_path / "laporan.xlsx", [report(1000001), report(1000002)], preamble=OFFICIAL_PREAMBLE)
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", lapor)
    assert code != 0 and summary["state"] == "failed" and summary["read"] == 0
    assert err.startswith("error: laporan.xlsx") and err.count("\n") == 1
    assert "no header row" in err
    assert stored(engine) == before and count(engine, QuarantinedRecord) == 0
    with engine.connect() as conn:
        last = conn.execute(select(ImportRun.state, ImportRun.read).order_by(ImportRun.id.desc())).first()
    assert last.state == "failed" and last.read == 0


def _file_rows(path: Path) -> list[dict]:
    """The rows of a generated file, read independently of the connector."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:] if any(v is not None for v in row)]


def test_the_generators_112_logs_import_whole(monkeypatch, capsys, db_url, engine, tmp_path):
    from sample_data import generate

    files = generate(tmp_path / "sample", today=date(2025, 11, 14), scale=0.05, months=2,
                     channels=["call112", "social"])["call112"]
    assert [p.suffix for p in files][-1] == ".xlsx" and len(files) >= 2
    expected: dict[str, dict] = {}
    for path in files:
        rows = _file_rows(path)
        code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path)
        assert code == 0, err
        assert summary["quarantined"] == 0, summary["quarantine_reasons"]
        assert reconciles(summary) and summary["read"] == len(rows)
        expected.update({str(r["UID"]): r for r in rows})
    calls = stored(engine)
    assert set(calls) == set(expected)
    types = {uid: r["TIPE LAPORAN"] for uid, r in expected.items()}
    assert {uid for uid, c in calls.items() if c["kind"] == "emergency_call"} == {
        uid for uid, t in types.items() if t == "emergency"}
    assert {c["source_type"] for c in calls.values() if c["kind"] == "non_emergency_call"} <= set(NON_EMERGENCY)
    # every emergency with a place name or a GPS point has a district, and every one a unified category
    emergencies = [uid for uid, c in calls.items() if c["kind"] == "emergency_call"]
    placed = [uid for uid in emergencies
              if expected[uid]["KECAMATAN"] or str(expected[uid]["LATITUDE"]) not in ("0", "0.0", "", "None")]
    assert len(placed) > len(emergencies) * 0.9
    assert [uid for uid in placed if calls[uid]["district_code"] is None] == []
    assert [uid for uid in emergencies if calls[uid]["category"] is None] == []
    # 0/0 became "no GPS"
    zero = [uid for uid, r in expected.items() if str(r["LATITUDE"]) in ("0", "0.0")]
    assert zero and all(calls[uid]["lat"] is None for uid in zero)
    # finished calls carry their durations; open ones are in progress
    blank = {uid for uid, r in expected.items() if not r["DURASI PENGERJAAN"]}
    assert {uid for uid, c in calls.items() if c["status"] == "in_progress"} == blank


def test_a_region_can_bring_its_own_112_mapping_and_time_zone(monkeypatch, capsys, db_url, engine, tmp_path):
    folder = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", folder)
    mapping = (PROJECT_ROOT / "connectors" / "mappings" / "call112.toml").read_text(encoding="utf-8")
    assert 'timezone = "region"' in mapping
    mapping = mapping.replace('timezone = "region"', 'timezone = "Asia/Makassar"')  # a WITA call centre
    mapping = mapping.replace('source_id   = ["UID"', 'source_id   = ["NOMOR INSIDEN", "UID"')
    (folder / "mappings").mkdir()
    (folder / "mappings" / "my112.toml").write_text(mapping, encoding="utf-8")
    channels = (folder / "channels.toml").read_text(encoding="utf-8")
    (folder / "channels.toml").write_text(channels.replace('drop_folder = "var/drop/call112"',
                                                           'drop_folder = "var/drop/call112"\n'
                                                           'mapping = "mappings/my112.toml"'), encoding="utf-8")
    path = write_csv(tmp_path / "wita.csv", [call("77", "2025-10-01 08:00:00")],
                     columns=["NOMOR INSIDEN", *COLUMNS[1:]])
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path, "--region", folder)
    assert code == 0, err
    assert summary["inserted"] == 1
    assert stored(engine)["77"]["received_at"] == datetime(2025, 10, 1, 0, 0, tzinfo=timezone.utc)  # 08:00 WITA

    # A top-level key written below a [table] header is caught with one clear line.
    broken = mapping.replace('timezone = "Asia/Makassar"\n', "") + '\ntimezone = "Asia/Makassar"\n'
    (folder / "mappings" / "my112.toml").write_text(broken, encoding="utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path, "--region", folder)
    assert code != 0 and summary is None and err.count("\n") == 1
    assert "'timezone' is inside [call_type]" in err
