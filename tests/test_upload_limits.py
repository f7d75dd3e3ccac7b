"""Hostile files at the door, on SQLite and PostgreSQL: size limits, zip-bomb workbooks, symbolic links and '..'
paths in drop folders, and upload names that try to choose where they are written. The checks live in
connectors/files.py and are shared by the command line, the drop folders and the admin upload."""
from __future__ import annotations

import logging
import os
import struct
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.base import SourceError
from connectors.files import UploadRefused, display_name, store_upload
from models import Complaint, ImportRun, QuarantinedRecord
from tests.lapor_files import report, write_csv, write_xlsx
from tests.test_file_faults import OBSERVED, count, reliability_table, run_cli  # noqa: F401 (fixture)

SHEET = "xl/worksheets/sheet1.xml"


def refused_whole(monkeypatch, capsys, db_url, engine, path: Path, expected: str) -> str:
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code != 0 and (summary is None or summary["state"] == "failed")
    assert err.count("\n") == 1 and err.startswith(f"error: {path.name}: ") and expected in err, err
    assert count(engine) == 0 and count(engine, QuarantinedRecord) == 0
    return err.strip()


def zip_bomb(tmp_path: Path, name: str = "bomb.xlsx", expanded_mb: int = 150) -> Path:
    """A real LAPOR workbook whose sheet XML is padded with `expanded_mb` MB of whitespace: ~1000:1."""
    with tempfile.TemporaryDirectory() as scratch:
        good = write_xlsx(Path(scratch) / "seed.xlsx", [report(9900001)])
        parts = [(info, zipfile.ZipFile(good).read(info)) for info in zipfile.ZipFile(good).infolist()]
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info, data in parts:
            if info.filename != SHEET:
                bomb.writestr(info, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with bomb.open(SHEET, "w", force_zip64=True) as sheet:
                sheet.write(head + b"<sheetData>")
                block = b" " * (1 << 20)
                for _ in range(expanded_mb):
                    sheet.write(block)
                sheet.write(tail)
    return path


def lying_zip(tmp_path: Path) -> Path:
    """A workbook whose zip directory understates its sheet: 40 MB of XML declared as 60 kB (no ratio to see)."""
    good = write_xlsx(tmp_path / "seed.xlsx", [report(9900002)])
    path = tmp_path / "liar.xlsx"
    declared = 60_000
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as liar:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == SHEET:
                head, tail = data.split(b"<sheetData>")
                data = head + b"<sheetData>" + b" " * (40 << 20) + tail
            liar.writestr(info.filename, data)
    raw = bytearray(path.read_bytes())
    name = SHEET.encode()
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + len(name)] == name:
                raw[start + size_at:start + size_at + 4] = struct.pack("<I", declared)
            start += 4
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as check:
        assert check.getinfo(SHEET).file_size == declared
    return path


# --- size limits --------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(monkeypatch, capsys, db_url, engine, tmp_path):
    path = write_csv(tmp_path / "laporan.csv", [report(9800000 + i, **{"Isi Laporan Akhir": "x" * 1000})
                                                for i in range(1200)])
    assert 1.1 * 2**20 < path.stat().st_size < 2 * 2**20
    monkeypatch.setenv("SIGAP_MAX_FILE_MB", "1")
    error = refused_whole(monkeypatch, capsys, db_url, engine, path, "is larger than the 1 MB limit")
    assert "MB is larger than the 1 MB limit" in error
    monkeypatch.setenv("SIGAP_MAX_FILE_MB", "2")  # the limit is a setting: raised, the same file imports
    code, summary, _ = run_cli(monkeypatch, capsys, db_url, "lapor", path)
    assert code == 0 and summary["inserted"] == 1200
    OBSERVED.append(("LAPOR CSV of 1.5 MB with SIGAP_MAX_FILE_MB=1 (then 2)", 0, 0, 0,
                     error + " — with the limit at 2 MB: 1,200 read, 1,200 stored"))


def test_an_upload_over_its_limit_is_refused_before_anything_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("SIGAP_MAX_UPLOAD_MB", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    content = b"Tracking ID,Status Laporan,Tanggal Laporan Masuk\n" + b"1,Selesai,1 Jan 2025\n" * 60_000
    with pytest.raises(UploadRefused) as refused:
        store_upload(content, "laporan.csv")
    assert refused.value.code == "too_big" and refused.value.params["limit"] == 1
    assert "laporan.csv: 1.2 MB is larger than the 1 MB limit" == str(refused.value)
    assert list(tmp_path.iterdir()) == []


# --- zip bombs ----------------------------------------------------------------------------------


def test_a_zip_bomb_workbook_is_refused_from_its_directory_before_it_is_expanded(monkeypatch, capsys, db_url, engine,
                                                                                 tmp_path):
    bomb = zip_bomb(tmp_path)
    assert bomb.stat().st_size < 1 << 20  # under 1 MB on disk, 150 MB of XML inside
    tracemalloc.start()
    try:
        error = first = refused_whole(monkeypatch, capsys, db_url, engine, bomb, "refused as a zip bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20, f"{peak / 2**20:.0f} MB allocated while refusing"
    assert "xl/worksheets/sheet1.xml is compressed" in error
    # a total over the limit is refused too, whatever the ratio (SIGAP_MAX_UNCOMPRESSED_MB)
    monkeypatch.setenv("SIGAP_MAX_UNCOMPRESSED_MB", "100")
    error = refused_whole(monkeypatch, capsys, db_url, engine, bomb, "over the 100 MB limit")
    assert "would expand to 150 MB" in error
    OBSERVED.append(("zip-bomb xlsx: 150 MB of sheet XML in a {:,} kB file".format(bomb.stat().st_size // 1000),
                     0, 0, 0, first + f" (Python peak {peak / 2**20:.1f} MB)"))
    with engine.connect() as conn:
        assert conn.execute(select(ImportRun.state)).scalars().all() == ["failed", "failed"]


def test_a_zip_whose_directory_lies_about_sizes_is_refused_when_read(monkeypatch, capsys, db_url, engine, tmp_path):
    error = refused_whole(monkeypatch, capsys, db_url, engine, lying_zip(tmp_path), "not a readable xlsx workbook")
    assert "CRC" in error or "Bad" in error, error
    OBSERVED.append(("xlsx whose zip directory declares its 40 MB sheet as 60 kB", 0, 0, 0, error))


# --- drop folders -------------------------------------------------------------------------------


def test_a_drop_folder_refuses_links_escapes_bombs_and_oversize_files_and_imports_the_rest(
        monkeypatch, caplog, engine, tmp_path, surabaya):
    from connectors.drop_folder import import_folder, snapshot

    folder = tmp_path / "drop"
    folder.mkdir()
    secret = write_xlsx(tmp_path / "secret.xlsx", [report(9700001)])  # outside the folder
    write_xlsx(folder / "good.xlsx", [report(9700002), report(9700003)])
    (folder / "link.xlsx").symlink_to(secret)
    (folder / "up.xlsx").symlink_to(Path("..") / "secret.xlsx")
    (folder / "parent").symlink_to(tmp_path, target_is_directory=True)
    zip_bomb(folder, "bomb.xlsx", expanded_mb=50)
    write_csv(folder / "big.csv", [report(9750000 + i, **{"Isi Laporan Akhir": "y" * 1000}) for i in range(1200)])
    monkeypatch.setenv("SIGAP_MAX_FILE_MB", "1")
    for path in folder.iterdir():
        os.utime(path, (1e9, 1e9), follow_symlinks=False)

    with caplog.at_level(logging.WARNING, logger="sigap.drop_folder"):
        result = import_folder("lapor", surabaya, engine, folder=folder, settle_seconds=0)
    assert [Path(r.source).name for r in result.runs] == ["good.xlsx"] and result.stopped is None
    assert result.runs[0].inserted == 2
    reasons = dict(result.skipped)
    assert {name: reasons[name].split(" (")[0] for name in ("link.xlsx", "up.xlsx", "parent")} == dict.fromkeys(
        ("link.xlsx", "up.xlsx", "parent"), "symbolic link")
    assert "refused as a zip bomb" in reasons["bomb.xlsx"]
    assert "is larger than the 1 MB limit" in reasons["big.csv"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("link.xlsx", "up.xlsx", "parent", "bomb.xlsx", "big.csv"):
        assert f"refused {name} in the drop folder" in logged
    with engine.connect() as conn:
        assert sorted(conn.execute(select(Complaint.source_id)).scalars()) == ["9700002", "9700003"]
    OBSERVED.append(("drop folder: good.xlsx, 2 links to a file outside, a link to the parent folder, a zip bomb, "
                     "a 1.5 MB CSV (limit 1 MB)", 2, 2, 0, "5 skipped and logged: " + "; ".join(
                         f"{name}: {reasons[name]}" for name in ("up.xlsx", "bomb.xlsx", "big.csv"))))
    # a file swapped for a link after it was listed is not followed when it is copied for import
    (folder / "good.xlsx").unlink()
    (folder / "good.xlsx").symlink_to(secret)
    with pytest.raises(OSError):
        snapshot(folder / "good.xlsx", tmp_path)


# --- upload names -------------------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["../../evil.csv", "/tmp/sigap_abs_evil.csv", "..\\..\\evil.csv",
                                         "C:\\Windows\\evil.csv", "../.././../etc/cron.d/evil.csv",
                                         "laporan<script>.csv"])
def test_upload_names_never_choose_where_a_file_is_written(monkeypatch, tmp_path, client_name):
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    before = {p for p in tmp_path.rglob("*")}
    path = store_upload(b"Tracking ID,Status Laporan\n1,Selesai\n", client_name)
    assert path.name == "upload.csv" and path.parent.parent == uploads
    assert path.parent.name.startswith("sigap_upload_") and oct(path.stat().st_mode)[-3:] == "600"
    assert {p for p in tmp_path.rglob("*")} - before == {path, path.parent}
    assert not Path("/tmp/sigap_abs_evil.csv").exists()
    label = display_name(client_name)
    assert "/" not in label and "\\" not in label and ".." not in label and "<" not in label
    OBSERVED.append((f"upload named {client_name!r}", 0, 0, 0, f"— stored as {path.parent.name[:13]}…/upload.csv, "
                     f"shown as {label!r}"))


@pytest.mark.parametrize("client_name, content, code", [
    ("laporan.pdf", b"%PDF-1.4", "bad_type"),
    ("laporan.xlsx", b"Tracking ID,Status\n1,Selesai\n", "mismatch"),
    ("laporan.csv", b"PK\x03\x04" + b"\x00" * 100, "mismatch"),
    ("laporan.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "mismatch"),
    ("laporan.csv", b"", "empty"),
])
def test_uploads_of_the_wrong_kind_are_refused_with_a_reason(monkeypatch, tmp_path, client_name, content, code):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(UploadRefused) as refused:
        store_upload(content, client_name)
    assert refused.value.code == code and str(refused.value).startswith(f"{client_name}: ")
    assert list(tmp_path.iterdir()) == []
    OBSERVED.append((f"upload {client_name} holding {content[:12]!r}", 0, 0, 0, str(refused.value)))


def test_an_uploaded_zip_bomb_is_refused_and_removed(monkeypatch, tmp_path):
    bomb = zip_bomb(tmp_path, expanded_mb=50).read_bytes()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    with pytest.raises(SourceError, match="laporan.xlsx: .*refused as a zip bomb"):
        store_upload(bomb, "laporan.xlsx")
    assert list(uploads.iterdir()) == []
    utf16 = "Tracking ID\tStatus Laporan\n1\tSelesai\n".encode("utf-16")
    assert store_upload(utf16, "unicode.csv").read_bytes() == utf16  # Excel's "Unicode Text" is a CSV upload


# --- the admin upload in a real Chromium ----------------------------------------------------------


@pytest.fixture(scope="module")
def upload_app(seeded_url, tmp_path_factory):
    from models.db import get_engine
    from tests.browser import Dashboard
    from tests.test_auth import copy_seeded, make_users

    work = tmp_path_factory.mktemp("upload_browser")
    url = copy_seeded(seeded_url, work / "sigap.db")
    make_users(get_engine(url))
    (work / "tmp").mkdir()
    app = Dashboard(url, env={"SIGAP_MAX_UPLOAD_MB": "1", "TMPDIR": str(work / "tmp")})
    app.database_url, app.tmp = url, work / "tmp"
    yield app
    app.stop()


def test_the_admin_upload_refuses_a_bomb_and_stores_a_dotted_name_only_in_its_own_folder(upload_app, browser,
                                                                                         tmp_path):
    from models.db import get_engine
    from tests.browser import SCREENSHOTS, exceptions, open_page
    from tests.test_auth import PASSWORDS
    from tests.test_roles_browser import settle, sign_in

    page = open_page(browser, upload_app.url)
    sign_in(page, "admin.kominfo", PASSWORDS["admin.kominfo"])
    page.wait_for_selector("h1:has-text('Administrasi')", timeout=60_000)
    page.get_by_role("tab", name="Unggah data").click()
    page.get_by_text("maks. 1 MB").first.wait_for(timeout=30_000)
    chooser = page.locator("[data-testid=stFileUploaderDropzoneInput]")

    bomb = zip_bomb(tmp_path, expanded_mb=50).read_bytes()
    chooser.set_input_files(files=[{"name": "../../bomb.xlsx", "mimeType": "application/vnd.openxmlformats-"
                                    "officedocument.spreadsheetml.sheet", "buffer": bomb}])
    page.get_by_text("refused as a zip bomb").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_text("Impor sekarang").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "upload_zip_bomb_refused.png"), full_page=True)

    rows = [report(9600001, **{"Isi Laporan Akhir": "Saluran tersumbat – Ngagel"}), report(9600002)]
    header = "\t".join(["Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Status Laporan",
                        "Isi Laporan Akhir", "Kecamatan"])
    lines = [header] + ["\t".join(str(r[c] or "") for c in header.split("\t")) for r in rows]
    utf16 = ("\r\n".join(lines) + "\r\n").encode("utf-16")
    chooser.set_input_files(files=[{"name": "..\\..\\..\\laporan unicode.csv", "mimeType": "text/csv",
                                    "buffer": utf16}])
    page.get_by_text("Impor sekarang").wait_for(timeout=60_000)
    assert [p.name for p in upload_app.tmp.iterdir()][0].startswith("sigap_upload_")
    assert [p.name for p in next(upload_app.tmp.iterdir()).iterdir()] == ["upload.csv"]
    page.get_by_role("button", name="Impor sekarang").click()
    page.get_by_text("Hasil impor").wait_for(timeout=60_000)
    settle(page)
    assert exceptions(page) == []
    page.screenshot(path=str(SCREENSHOTS / "upload_utf16_imported.png"), full_page=True)
    with get_engine(upload_app.database_url).connect() as conn:
        body = conn.execute(select(Complaint.body).where(Complaint.source_id == "9600001")).scalar_one()
        runs = conn.execute(select(ImportRun.source, ImportRun.inserted).order_by(ImportRun.id.desc())).first()
    assert body == "Saluran tersumbat – Ngagel"
    assert runs.source == "upload:laporan unicode.csv" and runs.inserted == 2
    assert list(upload_app.tmp.iterdir()) == []  # the private copy is gone after the import
    OBSERVED.append(("admin upload in Chromium: zip bomb '../../bomb.xlsx', then UTF-16 CSV "
                     "'..\\..\\..\\laporan unicode.csv'", 2, 2, 0, "bomb: “Berkas tidak dapat dibaca: bomb.xlsx: … "
                     "refused as a zip bomb”; CSV imported as upload:laporan unicode.csv"))
    page.close()
