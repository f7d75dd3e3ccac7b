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
