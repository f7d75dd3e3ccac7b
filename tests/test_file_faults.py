"""File faults, on SQLite and PostgreSQL: every damaged, oddly encoded or oddly built file ends imported
correctly, quarantined with a reason and its raw content, or refused whole with one error line and nothing
written; the counts always reconcile (inserted + updated + unchanged + quarantined == read).

Decisions documented by these tests:
- content decides the format, not the extension (a CSV saved as .xlsx imports; HTML saved as .xlsx is refused);
- dates in the future (more than an hour ahead) or before 2000 are quarantined with the date in the reason;
- times without a zone are read per channel mapping: LAPOR as UTC, 112 and social as the region's zone (WIB);
- a repeated id in one file: the later row wins (also across the pipeline's batches), the earlier counts unchanged;
- an over-long text field is never a lost record: the body is kept up to 100,000 characters, short columns are
  cut with an ellipsis, an over-long id (no row can be matched by it) is quarantined.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from connectors.__main__ import main as cli
from models import Complaint, ComplaintStatusEvent, ImportRun, QuarantinedRecord
from tests.lapor_files import COLUMNS_20, OFFICIAL_PREAMBLE, report, write_csv, write_xlsx

CALL_COLUMNS = ["UID", "WAKTU LAPOR", "TIPE LAPORAN", "KATEGORI", "SUB KATEGORI 1", "KECAMATAN", "KELURAHAN",
                "LATITUDE", "LONGITUDE", "AGENT L1", "DURASI PENGERJAAN"]
SOCIAL_COLUMNS = ["post_id", "platform", "account", "posted_at", "author_handle", "text", "topic", "location_hint",
                  "handled_by", "status", "replied_at", "closed_at"]
PLACE = "Ngagel Jaya Selatan – Gubeng"  # the en dash is byte 0x96 in cp1252
OBSERVED: list[tuple] = []  # (case, read, stored, quarantined, error) as the tests saw them, for the README table


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def reliability_table():
    """With SIGAP_RELIABILITY_TABLE=path, the rows these tests saw are added there as Markdown table rows."""
    import os

    yield
    target = os.environ.get("SIGAP_RELIABILITY_TABLE")
    if target and OBSERVED:
        lines = [f"| {case} | {read} | {kept} | {held} | {error} |"
                 for case, read, kept, held, error in dict.fromkeys(OBSERVED)]
        with Path(target).open("a", encoding="utf-8") as table:
            table.write("\n".join(lines) + "\n")
    OBSERVED.clear()


def run_cli(monkeypatch, capsys, db_url, *args) -> tuple[int, dict | None, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli(["import", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    summary = json.loads(out) if out.strip() else None
    if summary is not None:
        assert summary["read"] == (summary["inserted"] + summary["updated"] + summary["unchanged"]
                                   + summary["quarantined"]), summary
    return code, summary, err


def stored(engine, channel: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Complaint.__table__).where(Complaint.channel == channel)).mappings().all()
    return {r["source_id"]: dict(r) for r in rows}


def quarantined(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(QuarantinedRecord.source_id, QuarantinedRecord.reason, QuarantinedRecord.raw)
                            .order_by(QuarantinedRecord.id)).all()


def count(engine, model=Complaint) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def call(uid, when="2025-10-01 08:00:00", kind="emergency", kategori="LAKA LANTAS", sub="KECELAKAAN TUNGGAL",
         kec="GENTENG", kel="", lat="", lon="", agent="AGT-01", durasi="0 Hari : 1 Jam : 30 Menit : 0 Detik") -> dict:
    return dict(zip(CALL_COLUMNS, [str(uid), when, kind, kategori, sub, kec, kel, lat, lon, agent, durasi]))


def csv_text(rows: list[dict], columns: list[str], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def social_post(post_id, posted_at="2025-10-01 21:00:00", **extra) -> dict:
    row = {"post_id": post_id, "platform": "instagram", "account": "@sapawargasby", "posted_at": posted_at,
           "author_handle": "@warga_sby", "text": "Lampu PJU mati di Jl. Ngagel", "topic": "Lampu jalan",
           "location_hint": "Kec. Gubeng", "handled_by": "DSDABM", "status": "new", "replied_at": "",
           "closed_at": ""}
    row.update(extra)
    return row


def unreadable(monkeypatch, capsys, db_url, engine, channel: str, path: Path, expected: str) -> str:
    """The file is refused: non-zero exit, one error line naming the file, nothing written, a failed run."""
    before = (stored(engine, channel), count(engine, QuarantinedRecord))
    code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
    assert code != 0 and summary is None or summary["state"] == "failed"
    assert err.count("\n") == 1 and err.startswith(f"error: {path.name}"), err
    assert expected in err, err
    assert (stored(engine, channel), count(engine, QuarantinedRecord)) == before
    with engine.connect() as conn:
        last = conn.execute(select(ImportRun.state, ImportRun.read).order_by(ImportRun.id.desc())).first()
    assert last.state == "failed"
    return err.strip()


# --- repeated ids -------------------------------------------------------------------------------


def test_a_repeated_id_across_batches_keeps_the_later_row_and_reimports_unchanged(monkeypatch, capsys, db_url,
                                                                                  engine, tmp_path):
    """2,003 rows: id 9000001 in row 1 (not yet verified) and again in row 2,003 (resolved), a batch apart."""
    rows = [report(9000001, status="Belum Terverifikasi")]
    rows += [report(9100000 + i) for i in range(2001)]
    rows += [report(9000001, status="Selesai")]
    path = tmp_path / "dup.csv"
    write_csv(path, rows)
    code, first, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0, err
    assert (first["read"], first["inserted"], first["updated"], first["unchanged"]) == (2003, 2002, 0, 1)
    assert stored(engine, "lapor")["9000001"]["status"] == "resolved"
    code, again, _ = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert (again["read"], again["unchanged"], again["updated"], again["inserted"]) == (2003, 2003, 0, 0)
    with engine.connect() as conn:
        events = conn.execute(select(ComplaintStatusEvent.status).join(
            Complaint, Complaint.id == ComplaintStatusEvent.complaint_id).where(Complaint.source_id == "9000001")
        ).scalars().all()
    assert events == ["resolved"]  # never flipped to "new" and back
    OBSERVED.append(("LAPOR CSV, one id twice 2,002 rows apart (across import batches)", first["read"],
                     first["inserted"], first["quarantined"], "—; re-import: 2,003 unchanged"))


def test_a_repeated_112_call_across_batches_keeps_the_later_row(db_url, engine, tmp_path, surabaya):
    """The same through the import function with tiny batches: a call logged open, then finished."""
    from connectors.pipeline import run_import
    from connectors.registry import connector_for

    rows = [call("202510090001", durasi=""), call("202510090002"), call("202510090003"), call("202510090001")]
    path = tmp_path / "calls.csv"
    path.write_text(csv_text(rows, CALL_COLUMNS), encoding="utf-8")
    summaries = [run_import(connector_for("call112", surabaya, source=path), engine, batch_size=2).as_dict()
                 for _ in range(2)]
    assert [(s["read"], s["inserted"], s["updated"], s["unchanged"]) for s in summaries] == [(4, 3, 0, 1),
                                                                                            (4, 0, 0, 4)]
    assert stored(engine, "call112")["202510090001"]["status"] == "resolved"


# --- unreadable files: refused whole ---------------------------------------------------------------


def _truncated_xlsx(tmp_path: Path) -> Path:
    good = write_xlsx(tmp_path / "good.xlsx", [report(6000000 + i) for i in range(200)])
    data = good.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt_xlsx(tmp_path: Path) -> Path:
    """A valid zip whose sheet XML is garbage (bit rot inside the archive)."""
    good = write_xlsx(tmp_path / "good.xlsx", [report(6100001)])
    path = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[:200] + b"\x00\xff<<garbage" + data[260:]
            target.writestr(info, data)
    return path


def _html_xlsx(tmp_path: Path) -> Path:
    """What some web portals send as 'Export to Excel': an HTML table named .xlsx."""
    path = tmp_path / "laporan.xlsx"
    path.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><th>Tracking ID</th><th>Status "
                    "Laporan</th></tr><tr><td>1</td><td>Selesai</td></tr></table></body></html>", encoding="utf-8")
    return path


def _html_xls(tmp_path: Path) -> Path:
    path = tmp_path / "laporan.xls"
    path.write_bytes(b"\xef\xbb\xbf  <table><tr><td>UID</td></tr></table>")
    return path


def _empty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _binary_csv(tmp_path: Path) -> Path:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return path


def _old_xls(tmp_path: Path) -> Path:
    path = tmp_path / "laporan.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an OLE2 (Excel 97-2003) header
    return path


def _uncached_formulas(tmp_path: Path) -> Path:
    """Formulas written by a program and never calculated: their cells have no value to read."""
    path = write_xlsx(tmp_path / "generated.xlsx", [report(6200001), report(6200002)])
    workbook = openpyxl.load_workbook(path)
    workbook.active["A12" if workbook.active["A12"].value else "A2"] = "=6200000+1"
    workbook.save(path)
    return path


UNREADABLE = [  # (channel, file maker, expected in the error, README label)
    ("lapor", _truncated_xlsx, "not a readable xlsx workbook", "LAPOR xlsx cut in half (truncated download)"),
    ("call112", _truncated_xlsx, "not a readable xlsx workbook", "112 xlsx cut in half"),
    ("lapor", _corrupt_xlsx, "not a readable xlsx workbook", "LAPOR xlsx with garbage inside its sheet XML"),
    ("lapor", _html_xlsx, "web page (HTML)", "LAPOR: an HTML table saved as .xlsx"),
    ("call112", _html_xls, "web page (HTML)", "112: an HTML table saved as .xls"),
    ("lapor", _empty_csv, "the file is empty", "LAPOR: an empty file"),
    ("call112", _binary_csv, "not a CSV", "112: a PNG image named .csv"),
    ("lapor", _uncached_formulas, "no saved result", "LAPOR xlsx with formulas never calculated (no saved results)"),
    ("lapor", _old_xls, "Excel 97-2003 (.xls) files are not supported", "LAPOR: an old Excel 97-2003 .xls"),
]


@pytest.mark.parametrize("channel, make, expected, label", UNREADABLE, ids=[case[3] for case in UNREADABLE])
def test_unreadable_files_are_refused_whole_with_one_line(monkeypatch, capsys, db_url, engine, tmp_path, channel,
                                                         make, expected, label):
    code, _, _ = run_cli(monkeypatch, capsys, db_url, "lapor", write_xlsx(tmp_path / "ok.xlsx", [report(5000001)]))
    assert code == 0
    error = unreadable(monkeypatch, capsys, db_url, engine, channel, make(tmp_path), expected)
    OBSERVED.append((label, 0, 0, 0, error))


def test_a_file_with_only_its_header_imports_nothing_and_says_so(monkeypatch, capsys, db_url, engine, tmp_path):
    path = _encoded(tmp_path, "kosong.csv", csv_text([], COLUMNS_20), "utf-8-sig")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0 and summary["state"] == "succeeded" and summary["read"] == 0 and err == ""
    OBSERVED.append(("LAPOR CSV with the header and no rows", 0, 0, 0, "— (a succeeded run that read 0 rows)"))


# --- encodings and delimiters: imported, text decoded ------------------------------------------------


ENCODINGS = {  # name: (Python codec, delimiter) as the files arrive
    "cp1252": ("cp1252", ","),               # Excel "CSV" on an Indonesian/Western Windows
    "utf-8 with BOM": ("utf-8-sig", ","),    # Excel "CSV UTF-8"
    "utf-16 tab": ("utf-16", "\t"),          # Excel "Unicode Text"
    "cp1252 semicolon": ("cp1252", ";"),     # Indonesian-locale Excel: ';' because ',' is the decimal mark
}


def _encoded(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _lapor_rows(n: int, delimiter: str) -> tuple[list[dict], list[str], str]:
    rows = [report(7100000 + 10 * n, **{"Isi Laporan Akhir": f"Saluran tersumbat di {PLACE}", "Kecamatan": "GUBENG",
                                        "Kelurahan": "NGAGEL"}),
            report(7100001 + 10 * n, status="Belum Terverifikasi")]
    return rows, COLUMNS_20, str(7100000 + 10 * n)


def _lapor_check(complaint: dict) -> None:
    assert complaint["body"] == f"Saluran tersumbat di {PLACE}" and complaint["district_code"] == "gubeng"
    assert complaint["received_at"] == datetime(2023, 5, 29, 4, 5, 34, tzinfo=timezone.utc)


def _call_rows(n: int, delimiter: str) -> tuple[list[dict], list[str], str]:
    comma = delimiter == ";"  # a ';' file writes decimals with a comma
    rows = [call(f"20251010{n:02d}01", sub=f"POHON TUMBANG – {PLACE}", kec="GUBENG",
                 lat="-7,2912" if comma else "-7.2912", lon="112,7481" if comma else "112.7481"),
            call(f"20251010{n:02d}02", kind="prank")]
    return rows, CALL_COLUMNS, f"20251010{n:02d}01"


def _call_check(complaint: dict) -> None:
    assert complaint["title"] == f"POHON TUMBANG – {PLACE}"
    assert (complaint["lat"], complaint["lon"]) == (-7.2912, 112.7481)
    assert complaint["received_at"] == datetime(2025, 10, 1, 1, 0, tzinfo=timezone.utc)  # 08:00 WIB


def _social_rows(n: int, delimiter: str) -> tuple[list[dict], list[str], str]:
    return [social_post(f"sm-{n}a", text=f"Lampu PJU mati di {PLACE}"), social_post(f"sm-{n}b")], SOCIAL_COLUMNS, \
        f"sm-{n}a"


def _social_check(complaint: dict) -> None:
    assert complaint["body"] == f"Lampu PJU mati di {PLACE}"
    assert complaint["received_at"] == datetime(2025, 10, 1, 14, 0, tzinfo=timezone.utc)  # 21:00 WIB, no zone given


ENCODING_CASES = {"lapor": ("LAPOR", _lapor_rows, _lapor_check), "call112": ("112", _call_rows, _call_check),
                  "social": ("social", _social_rows, _social_check)}


@pytest.mark.parametrize("channel", list(ENCODING_CASES))
def test_csv_encodings_and_delimiters_import_with_text_decoded(monkeypatch, capsys, db_url, engine, tmp_path,
                                                              channel):
    """Each encoding/delimiter variant as its own file; the en dash of PLACE must come out as '–'."""
    name, make_rows, check = ENCODING_CASES[channel]
    for n, (variant, (encoding, delimiter)) in enumerate(ENCODINGS.items()):
        rows, columns, key = make_rows(n, delimiter)
        path = _encoded(tmp_path, f"{channel}-{n}.csv", csv_text(rows, columns, delimiter), encoding)
        code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
        assert code == 0, (variant, err)
        assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 2, 0), variant
        check(stored(engine, channel)[key])
        OBSERVED.append((f"{name} CSV, {variant}", 2, 2, 0, "— (“–” decoded)"))


@pytest.mark.parametrize("channel", ["lapor", "call112"])
def test_a_csv_saved_with_an_xlsx_name_imports_by_its_content(monkeypatch, capsys, db_url, engine, tmp_path,
                                                              channel):
    rows, columns = (([report(7200001), report(7200002)], COLUMNS_20) if channel == "lapor"
                     else ([call("202510110001"), call("202510110002")], CALL_COLUMNS))
    path = _encoded(tmp_path, "export.xlsx", csv_text(rows, columns), "utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
    assert code == 0, err
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 2, 0)
    assert len(stored(engine, channel)) == 2
    OBSERVED.append((f"{'LAPOR' if channel == 'lapor' else '112'}: a CSV named .xlsx", 2, 2, 0, "—"))


# --- workbook structure: merged headers, formulas, serial dates ----------------------------------------


def _with_saved_results(path: Path, results: dict[str, object]) -> Path:
    """Put the results Excel saves next to each formula (openpyxl writes formulas without them)."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == "xl/worksheets/sheet1.xml":
                for ref, value in results.items():
                    kind = ' t="str"' if isinstance(value, str) else ""
                    data, found = re.subn(rf'<c r="{ref}"([^>]*)><f>([^<]*)</f><v ?/>'.encode(),
                                          rf'<c r="{ref}"\1{kind}><f>\2</f><v>{value}</v>'.encode(), data)
                    assert found == 1, ref
            target.writestr(info, data)
    return path


def test_lapor_xlsx_with_merged_headers_formulas_and_serial_dates(monkeypatch, capsys, db_url, engine, tmp_path):
    """A hand-made report: a merged title, every header merged over two rows, an id and a title computed by
    formulas (with the results Excel saves), dates as Excel serial numbers and times as fractions of a day."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "REKAP LAPORAN SP4N-LAPOR! KOTA SURABAYA"
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS_20))
    for c, name in enumerate(COLUMNS_20, start=1):
        sheet.cell(row=3, column=c, value=name)
        sheet.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    rows = [report(7300001, date=45075, time=0.5, Kecamatan="GUBENG"),   # 2023-05-29 12:00
            report(7300002, date=45292.0, time=0.25, Kecamatan="TEGALSARI")]  # 2024-01-01 06:00
    for r, row in enumerate(rows, start=5):
        for c, name in enumerate(COLUMNS_20, start=1):
            sheet.cell(row=r, column=c, value=row.get(name))
    sheet["A6"] = "=A5+1"
    sheet["G5"] = '=CONCATENATE("Jalan rusak ",K5)'
    path = tmp_path / "rekap.xlsx"
    workbook.save(path)
    _with_saved_results(path, {"A6": 7300002, "G5": "Jalan rusak Website"})
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0, err
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 2, 0)
    complaints = stored(engine, "lapor")
    assert complaints["7300001"]["received_at"] == datetime(2023, 5, 29, 12, 0, tzinfo=timezone.utc)
    assert complaints["7300002"]["received_at"] == datetime(2024, 1, 1, 6, 0, tzinfo=timezone.utc)
    assert complaints["7300001"]["title"] == "Jalan rusak Website"
    assert {c["district_code"] for c in complaints.values()} == {"gubeng", "tegalsari"}
    OBSERVED.append(("LAPOR xlsx: merged title and two-row merged headers, formulas with saved results, serial "
                     "dates", 2, 2, 0, "—"))


def test_112_xlsx_with_a_two_level_header_and_serial_times(monkeypatch, capsys, db_url, engine, tmp_path):
    """'KOORDINAT' merged over LATITUDE | LONGITUDE, the other headers merged over both rows; WAKTU LAPOR as
    a serial number (local time)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    upper = [c if c not in ("LATITUDE", "LONGITUDE") else None for c in CALL_COLUMNS]
    upper[CALL_COLUMNS.index("LATITUDE")] = "KOORDINAT"
    for c, name in enumerate(upper, start=1):
        sheet.cell(row=1, column=c, value=name)
        if name != "KOORDINAT" and name is not None:
            sheet.merge_cells(start_row=1, start_column=c, end_row=2, end_column=c)
    lat_col = CALL_COLUMNS.index("LATITUDE") + 1
    sheet.merge_cells(start_row=1, start_column=lat_col, end_row=1, end_column=lat_col + 1)
    sheet.cell(row=2, column=lat_col, value="LATITUDE")
    sheet.cell(row=2, column=lat_col + 1, value="LONGITUDE")
    for uid, serial in ((202510120001, 45931.291666666664), (202510120002, 45931.75)):  # 07:00, 18:00 WIB
        values = call(uid, kec="GUBENG", lat="-7.2912", lon="112.7481")
        values.update(UID=uid, **{"WAKTU LAPOR": serial, "LATITUDE": -7.2912, "LONGITUDE": 112.7481})
        sheet.append([values[c] for c in CALL_COLUMNS])
    path = tmp_path / "rekap112.xlsx"
    workbook.save(path)
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0, err
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 2, 0), summary
    calls = stored(engine, "call112")
    assert calls["202510120001"]["received_at"] == datetime(2025, 10, 1, 0, 0, tzinfo=timezone.utc)
    assert calls["202510120002"]["received_at"] == datetime(2025, 10, 1, 11, 0, tzinfo=timezone.utc)
    assert (calls["202510120001"]["lat"], calls["202510120001"]["lon"]) == (-7.2912, 112.7481)
    OBSERVED.append(("112 xlsx: two-level header (KOORDINAT over LATITUDE, LONGITUDE), serial date-times", 2, 2,
                     0, "—"))


def test_serial_dates_written_as_text_in_a_csv(monkeypatch, capsys, db_url, engine, tmp_path):
    rows = [report(7400001, date="45075", time="12:00"), report(7400002, date="45075.0", time="0.75")]
    path = _encoded(tmp_path, "serial.csv", csv_text(rows, COLUMNS_20), "utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0, err
    complaints = stored(engine, "lapor")
    assert complaints["7400001"]["received_at"] == datetime(2023, 5, 29, 12, 0, tzinfo=timezone.utc)
    # '0.75' is not read as a fraction of a day: Indonesians write 00:45 as '0.45', so it is ambiguous
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 1, 1)
    [held] = quarantined(engine)
    assert held.source_id == "7400002" and "'0.75' is not a time of day" in held.reason
    assert json.loads(held.raw)["waktu_laporan_masuk"] == "0.75"
    OBSERVED.append(("LAPOR CSV: serial date as text '45075' (+ time '12:00'; another row's time '0.75')", 2, 1, 1,
                     held.reason))
    calls = [call("202510160001", when="45931.5"), call("202510160002", when="45931.291666666664")]
    path = _encoded(tmp_path, "serial112.csv", csv_text(calls, CALL_COLUMNS), "utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "call112", path)
    assert code == 0 and summary["inserted"] == 2, (err, summary)
    at = {k: v["received_at"] for k, v in stored(engine, "call112").items()}
    assert at == {"202510160001": datetime(2025, 10, 1, 5, 0, tzinfo=timezone.utc),  # 12:00 WIB
                  "202510160002": datetime(2025, 10, 1, 0, 0, tzinfo=timezone.utc)}  # 07:00 WIB
    OBSERVED.append(("112 CSV: WAKTU LAPOR as serial text '45931.5' (local time)", 2, 2, 0, "— (05:00 UTC)"))


# --- dates out of range and times without a zone -------------------------------------------------------


def test_dates_in_the_future_or_before_2000_are_quarantined_with_the_date(monkeypatch, capsys, db_url, engine,
                                                                          tmp_path):
    # noon UTC: the 112 export's local (WIB) reading of the same text stays on the same UTC date at any hour
    soon = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    lapor = [report(7500001), report(7500002, date=soon.strftime("%d %b %Y")), report(7500003, date="31 Dec 1999"),
             report(7500004, date=36000)]  # 36000 = 1998-07-24 as an Excel serial
    calls = [call("202510130001"), call("202510130002", when=soon.strftime("%Y-%m-%d %H:%M:%S")),
             call("202510130003", when="1999-12-31 23:59:59")]
    posts = [social_post("sm-10"), social_post("sm-11", posted_at=soon.isoformat()),
             social_post("sm-12", posted_at="1970-01-01T00:00:00Z")]
    files = [("lapor", write_xlsx(tmp_path / "l.xlsx", lapor)),
             ("call112", _encoded(tmp_path, "c.csv", csv_text(calls, CALL_COLUMNS), "utf-8")),
             ("social", _encoded(tmp_path, "s.csv", csv_text(posts, SOCIAL_COLUMNS), "utf-8"))]
    for channel, path in files:
        code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
        assert code == 0, err
        assert summary["inserted"] == 1 and summary["quarantined"] == summary["read"] - 1
    held = {r.source_id: r for r in quarantined(engine)}
    assert set(held) == {"7500002", "7500003", "7500004", "202510130002", "202510130003", "sm-11", "sm-12"}
    for source_id in ("7500002", "202510130002", "sm-11"):
        assert f"received_at {soon:%Y-%m-%d}" in held[source_id].reason and "is in the future" in held[source_id].reason
    assert "before 2000-01-01 (1999-12-31)" in held["7500003"].reason
    assert "before 2000-01-01 (1998-07-24)" in held["7500004"].reason
    assert "before 2000-01-01 (1999-12-31)" in held["202510130003"].reason  # 23:59 WIB is 16:59 UTC
    assert "before 2000-01-01 (1970-01-01)" in held["sm-12"].reason
    assert all(json.loads(r.raw) for r in held.values())
    OBSERVED.append(("a date 3 days in the future / before 2000 (LAPOR xlsx 4 rows, 112 CSV 3, social CSV 3)", 10, 3,
                     7, held["7500002"].reason + " / " + held["7500003"].reason))


def test_times_without_a_zone_are_read_per_channel_mapping(monkeypatch, capsys, db_url, engine, tmp_path):
    """LAPOR: UTC (the export's times cluster at 00-04h); 112 and social: the region's zone (WIB, UTC+7);
    an explicit offset always wins."""
    lapor = write_xlsx(tmp_path / "l.xlsx", [report(7600001, date="3 Nov 2025", time="01:30:00")])
    calls = [call("202510140001", when="2025-11-03 08:30:00"), call("202510140002", when="2025-11-03T08:30:00+08:00"),
             call("202510140003", when="03/11/2025 08.30")]
    posts = [social_post("sm-20", posted_at="2025-11-03 08:30"), social_post("sm-21", posted_at="2025-11-03T01:30Z")]
    for channel, path in [("lapor", lapor),
                          ("call112", _encoded(tmp_path, "c.csv", csv_text(calls, CALL_COLUMNS), "utf-8")),
                          ("social", _encoded(tmp_path, "s.csv", csv_text(posts, SOCIAL_COLUMNS), "utf-8"))]:
        code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
        assert code == 0 and summary["quarantined"] == 0, (err, summary)
    at = {k: v["received_at"] for ch in ("lapor", "call112", "social") for k, v in stored(engine, ch).items()}
    utc = lambda hour, minute: datetime(2025, 11, 3, hour, minute, tzinfo=timezone.utc)  # noqa: E731
    assert at == {"7600001": utc(1, 30), "202510140001": utc(1, 30), "202510140002": utc(0, 30),
                  "202510140003": utc(1, 30), "sm-20": utc(1, 30), "sm-21": utc(1, 30)}
    OBSERVED.append(("times without a zone (LAPOR 01:30 → 01:30 UTC; 112/social 08:30 → 01:30 UTC; +08:00 kept)",
                     6, 6, 0, "—"))


# --- 100,000-character text fields ---------------------------------------------------------------------


LONG = ("Air meluap dari saluran, warga minta segera ditangani. " * 2000)[:100_000]


def test_100k_character_fields_are_kept_or_cut_never_lose_a_record(monkeypatch, capsys, db_url, engine, tmp_path):
    lapor = [report(7700001, **{"Isi Laporan Akhir": LONG, "Judul Laporan": LONG, "Kategori": LONG,
                                "Klasifikasi Laporan": LONG, "Instansi Terdisposisi": LONG, "Kecamatan": LONG,
                                "Kelurahan": LONG, "Sumber Laporan": LONG}),
             report("7" * 100_000)]  # an id no one can match: quarantined, raw row kept
    calls = [call("202510150001", kategori=LONG, sub=LONG, kec=LONG, kel=LONG, agent=LONG, kind="emergency")]
    # CSV: an xlsx cell holds at most 32,767 characters (Excel's limit; openpyxl cuts there too)
    for channel, path in [("lapor", _encoded(tmp_path, "long_l.csv", csv_text(lapor, COLUMNS_20), "utf-8")),
                          ("call112", _encoded(tmp_path, "long.csv", csv_text(calls, CALL_COLUMNS), "utf-8"))]:
        code, summary, err = run_cli(monkeypatch, capsys, db_url, channel, path)
        assert code == 0, err
        assert summary["inserted"] == 1 and summary["quarantined"] == summary["read"] - 1, summary
    long_report = stored(engine, "lapor")["7700001"]
    assert long_report["body"] == LONG  # the whole text
    assert len(long_report["title"]) == 500 and long_report["title"].endswith("…")
    assert long_report["category_raw"].endswith("…") and len(long_report["category_raw"]) == 200
    assert long_report["district_raw"].startswith("Air meluap") and long_report["district_code"] is None
    long_call = stored(engine, "call112")["202510150001"]
    assert long_call["title"].startswith("Air meluap") and len(long_call["title"]) == 500
    [held] = quarantined(engine)
    assert "source_id" in held.reason and "80 characters" in held.reason
    assert json.loads(held.raw)["tracking_id"] == "7" * 100_000
    OBSERVED.append(("100,000-character text in every text column (LAPOR CSV 2 rows, 112 CSV 1 row)", 3, 2, 1,
                     "body kept whole, short columns cut with “…”; a 100,000-character id quarantined: " + held.reason))


def test_a_field_longer_than_the_csv_modules_limit_is_no_crash(monkeypatch, capsys, db_url, engine, tmp_path):
    """Python's csv module refuses fields over 131,072 characters by default; a 300,000-character complaint
    text is still one record (its body cut to the 100,000 characters Sigap keeps)."""
    rows = [report(7800001, **{"Isi Laporan Akhir": LONG * 3}), report(7800002)]
    path = _encoded(tmp_path, "huge_field.csv", csv_text(rows, COLUMNS_20), "utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0, err
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 2, 0)
    assert len(stored(engine, "lapor")["7800001"]["body"]) == 100_000
    OBSERVED.append(("LAPOR CSV: a 300,000-character complaint text", 2, 2, 0,
                     "— (body kept to its first 100,000 characters)"))


# --- an older LAPOR export after a newer one -----------------------------------------------------------


def test_an_older_lapor_export_after_a_newer_one_is_refused_without_moving_statuses(monkeypatch, capsys, db_url,
                                                                                    engine, tmp_path, surabaya):
    from connectors.lapor import LaporConnector
    from connectors.pipeline import run_import

    def export(name, status, generated):
        return write_xlsx(tmp_path / name, [report(7900001, date="3 Nov 2025", status=status), report(7900002)],
                          preamble={**OFFICIAL_PREAMBLE, "Tanggal Generate": generated})

    newer = export("newer.xlsx", "Selesai", "2025-11-20")
    older = export("older.xlsx", "Belum Terverifikasi", "2025-11-05")
    same_day = export("same_day.xlsx", "Selesai", "2025-11-20")
    code, first, _ = run_cli(monkeypatch, capsys, db_url, "lapor", newer)
    assert code == 0 and first["inserted"] == 2
    error = unreadable(monkeypatch, capsys, db_url, engine, "lapor", older, "before the newest LAPOR export")
    assert "generated on 2025-11-05" in error and "(2025-11-20)" in error and "statuses backwards" in error
    assert stored(engine, "lapor")["7900001"]["status"] == "resolved"
    code, again, _ = run_cli(monkeypatch, capsys, db_url, "lapor", same_day)  # same generation day: fine
    assert code == 0 and again["unchanged"] == 2
    # the deliberate way: the channel setting, for a back-fill
    forced = run_import(LaporConnector(source=older, region=surabaya, settings={"allow_older_exports": True}),
                        engine, source=str(older))
    assert forced.state == "succeeded" and (forced.read, forced.updated, forced.unchanged) == (2, 1, 1)
    OBSERVED.append(("LAPOR export generated 2025-11-05 imported after one generated 2025-11-20", 0, 0, 0, error))


def test_a_drop_folder_skips_an_older_lapor_export_and_imports_the_rest(monkeypatch, capsys, db_url, engine,
                                                                        tmp_path, surabaya):
    from connectors.drop_folder import import_folder

    newest = write_xlsx(tmp_path / "newest.xlsx", [report(7950001, date="3 Nov 2025", status="Selesai")],
                        preamble={**OFFICIAL_PREAMBLE, "Tanggal Generate": "2025-11-20"})
    assert run_cli(monkeypatch, capsys, db_url, "lapor", newest)[0] == 0  # imported by hand, before the poll
    folder = tmp_path / "drop"
    folder.mkdir()
    write_xlsx(folder / "late_old.xlsx", [report(7950001, date="3 Nov 2025", status="Belum Terverifikasi")],
               preamble={**OFFICIAL_PREAMBLE, "Tanggal Generate": "2025-11-05"})
    write_xlsx(folder / "next.xlsx", [report(7950002, date="21 Nov 2025")],
               preamble={**OFFICIAL_PREAMBLE, "Tanggal Generate": "2025-11-21"})
    result = import_folder("lapor", surabaya, engine, folder=folder, settle_seconds=0)
    assert [Path(r.source).name for r in result.runs] == ["next.xlsx"] and result.stopped is None
    reason = dict(result.skipped)["late_old.xlsx"]
    assert "before the newest export already imported" in reason and "statuses backwards" in reason
    assert stored(engine, "lapor")["7950001"]["status"] == "resolved"
