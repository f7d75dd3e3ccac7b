"""The social-listening import and the generic mapping-driven channels, end to end through the command line,
on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.__main__ import main as cli
from models import Complaint, QuarantinedRecord, ReporterContact
from tests.conftest import PROJECT_ROOT

SOCIAL_COLUMNS = ["post_id", "platform", "account", "posted_at", "author_handle", "text", "url", "topic",
                  "location_hint", "sentiment", "handled_by", "status", "replied_at", "closed_at"]
TEXT_COLUMNS = ("source_id", "source_type", "classification", "category_raw", "title", "body", "status_raw",
                "district_raw", "subdistrict", "agency_raw", "source_detail")


# --- helpers ------------------------------------------------------------------------------------


def run_cli(monkeypatch, capsys, db_url, *args) -> tuple[int, dict | None, str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = cli(["import", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def stored(engine, channel: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Complaint.__table__).where(Complaint.channel == channel)).mappings().all()
    return {r["source_id"]: dict(r) for r in rows}


def reporters(engine, channel: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Complaint.source_id, ReporterContact.__table__)
                            .join(ReporterContact, ReporterContact.complaint_id == Complaint.id)
                            .where(Complaint.channel == channel)).mappings().all()
    return {r["source_id"]: dict(r) for r in rows}


def reasons(engine) -> dict[str | None, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(QuarantinedRecord.source_id, QuarantinedRecord.reason)).all())


def reconciles(summary: dict) -> bool:
    return summary["read"] == (summary["inserted"] + summary["updated"] + summary["unchanged"]
                               + summary["quarantined"])


def text_values(complaint: dict) -> str:
    """Everything a dashboard could show of a complaint, as one string."""
    return " | ".join(str(complaint[c]) for c in TEXT_COLUMNS if complaint[c] is not None)


def post(post_id, posted_at="2025-10-01T21:00:00+07:00", author="@budi_genteng12", topic="Jalan rusak",
         location="Kec. Genteng", handled_by="DSDABM", status="closed", replied="2025-10-02T08:00:00+07:00",
         closed="2025-10-05T10:00:00+07:00", platform="x", text=None, **extra) -> dict:
    row = {"post_id": post_id, "platform": platform, "account": "@sapawargasby", "posted_at": posted_at,
           "author_handle": author,
           "text": text or "@sapawargasby min, jalan rusak parah di Jl. Tunjungan dari minggu lalu 🙏",
           "url": f"https://x.com/{author[1:]}/status/{post_id}", "topic": topic, "location_hint": location,
           "sentiment": "negative", "handled_by": handled_by, "status": status, "replied_at": replied,
           "closed_at": closed}
    row.update(extra)
    return row


def write_social(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, SOCIAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def region_with(tmp_path: Path, channels: str, files: dict[str, str] | None = None) -> Path:
    """A copy of the Surabaya region with extra channels.toml tables and files."""
    folder = tmp_path / "region"
    shutil.copytree(PROJECT_ROOT / "regions" / "surabaya", folder)
    with (folder / "channels.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + channels)
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def inside():
    from regions import load_region
    from regions.geo import load_boundaries

    region = load_region("surabaya")
    layer = load_boundaries(region.boundary_path(), region.boundaries["crs"], region.boundaries.get("name_property"),
                            region.districts)

    def point(code: str) -> tuple[float, float]:
        p = layer[code].representative_point()
        return round(p.y, 6), round(p.x, 6)

    return point


# --- social -------------------------------------------------------------------------------------


def test_social_export_imports_with_the_author_only_as_reporter(monkeypatch, capsys, db_url, engine, tmp_path):
    rows = [
        post("1001"),
        post("1002", author="@siti.pabean7", topic="Pertanyaan", location="Bongkaran", handled_by="Diskominfo",
             status="replied", closed="", platform="instagram",
             text="@sapawargasby kapan pendaftaran beasiswa pemkot dibuka?"),
        post("1003", author="@arek_sby3", topic="Mention", location="Jl. Kebon Rojo", handled_by="", status="new",
             replied="", closed=""),
        post("555_1004", author="@ning_tambak", topic="Sampah", location="", handled_by="Dinas Lingkungan Hidup",
             status="forwarded", replied="", closed="", platform="facebook",
             text="@pemkotsurabaya sampah menumpuk di kecamatan Tambaksari dekat pasar"),
        post("1005", author="@cak.x9", status="dismissed", handled_by="", replied="", closed=""),
        post("1006", status="hilang"),                         # unknown status
        post("1007", posted_at=""),                            # no time
        post("1008", posted_at="2025-10-02T10:00:00+07:00", replied="2025-10-01T10:00:00+07:00"),  # reply before post
    ]
    path = write_social(tmp_path / "social-2025-10.csv", rows)
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "social", path)
    assert code == 0, err
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (8, 5, 3) and reconciles(summary)
    why = reasons(engine)
    assert "unknown status 'hilang'" in why["1006"]
    assert "posted_at is empty" in why["1007"]
    assert "first_response_at is before received_at" in why["1008"]

    posts = stored(engine, "social")
    roads = posts["1001"]
    assert roads["received_at"] == datetime(2025, 10, 1, 14, 0, tzinfo=timezone.utc)
    assert (roads["kind"], roads["category"], roads["agency_code"]) == ("complaint", "roads", "DSDABM")
    assert (roads["status"], roads["status_raw"]) == ("resolved", "closed")
    assert roads["first_response_at"] == datetime(2025, 10, 2, 1, 0, tzinfo=timezone.utc)
    assert roads["resolved_at"] == roads["closed_at"] == datetime(2025, 10, 5, 3, 0, tzinfo=timezone.utc)
    assert roads["district_code"] == "genteng" and roads["district_raw"] == "Kec. Genteng"
    assert roads["source_type"] == "x" and roads["source_detail"] == "x @sapawargasby"
    assert roads["resolve_due_at"] > roads["response_due_at"] > roads["received_at"]

    question = posts["1002"]
    assert (question["kind"], question["category"], question["status"]) == ("information_request", "information",
                                                                           "in_progress")
    assert (question["district_code"], question["subdistrict"]) == ("pabean_cantian", "Bongkaran")
    assert question["agency_code"] == "DISKOMINFO" and question["resolved_at"] is None

    mention = posts["1003"]
    assert (mention["status"], mention["category"], mention["agency_code"]) == ("new", "other", None)
    assert mention["district_code"] is None and mention["district_raw"] is None  # a street is not a district
    assert posts["555_1004"]["district_code"] == "tambaksari"  # from the post text
    assert (posts["555_1004"]["status"], posts["555_1004"]["agency_code"]) == ("dispatched", "DLH")
    assert posts["1005"]["status"] == "rejected"
    assert summary["unmapped_district"] == 0 and summary["unmapped_agency"] == 0

    # the handle lives only in the protected reporter table; neither it nor the post URL is in complaint text
    contacts = reporters(engine, "social")
    assert {sid: c["name"] for sid, c in contacts.items()} == {
        "1001": "@budi_genteng12", "1002": "@siti.pabean7", "1003": "@arek_sby3", "555_1004": "@ning_tambak",
        "1005": "@cak.x9"}
    for sid, complaint in posts.items():
        shown = text_values(complaint)
        handle = contacts[sid]["name"]
        assert handle not in shown and handle[1:] not in shown and "https://" not in shown

    code, again, _ = run_cli(monkeypatch, capsys, db_url, "social", path)
    assert code == 0 and (again["unchanged"], again["inserted"], again["updated"]) == (5, 0, 0)


def test_the_generators_social_exports_import_whole(monkeypatch, capsys, db_url, engine, tmp_path):
    from sample_data import generate

    files = generate(tmp_path / "sample", today=date(2025, 11, 14), scale=0.05, months=2,
                     channels=["call112", "social"])["social"]
    assert files
    expected = {}
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        code, summary, err = run_cli(monkeypatch, capsys, db_url, "social", path)
        assert code == 0, err
        assert summary["quarantined"] == 0, summary["quarantine_reasons"]
        assert reconciles(summary) and summary["read"] == len(rows)
        expected.update({r["post_id"]: r for r in rows})
    posts = stored(engine, "social")
    assert set(posts) == set(expected)
    contacts = reporters(engine, "social")
    assert {sid: c["name"] for sid, c in contacts.items()} == {sid: r["author_handle"] for sid, r in expected.items()}
    for sid, complaint in posts.items():
        assert expected[sid]["author_handle"] not in text_values(complaint)
    routed = [sid for sid, r in expected.items() if r["handled_by"]]
    assert routed and [sid for sid in routed if posts[sid]["agency_code"] is None] == []
    assert [sid for sid, p in posts.items() if p["category"] is None] == []
    hinted = [sid for sid, r in expected.items() if r["location_hint"].startswith("Kec. ")]
    assert hinted and [sid for sid in hinted if posts[sid]["district_code"] is None] == []


# --- generic ------------------------------------------------------------------------------------

SMS_MAPPING = """\
# An SMS gateway: a channel defined only by this file.
required = ["source_id", "received_at"]
timezone = "region"
records = "data.messages"

[columns]
source_id = ["msg_id", "id"]
received_at = ["received", "meta.received_at"]
kind = ["type"]
body = ["message"]
category = ["keyword"]
status = ["status"]
district = ["location.district"]
subdistrict = ["location.village"]
lat = ["location.lat"]
lon = ["location.lon"]
agency = ["forwarded_to"]
first_response_at = ["replied_at"]
reporter_name = ["sender.name"]
reporter_phone = ["sender.phone"]
reporter_nik = ["sender.nik"]
reporter_email = ["sender.email"]
confidential = ["sender.confidential"]

[status]
masuk = "new"
diteruskan = "dispatched"
dibalas = "in_progress"
selesai = "resolved"
default = "new"

[kind]
aduan = "complaint"
info = "information_request"
default = "complaint"
"""
SMS_CHANNEL = '[sms]\nenabled = true\ninterval_minutes = 10\nmapping = "mappings/sms.toml"\n'
SITI = {"name": "Siti Aminah", "phone": "081234567890", "nik": "3578012345678901", "email": "siti@example.com"}


def sms_records(inside) -> list[dict]:
    lat, lon = inside("rungkut")
    return [
        {"msg_id": "SMS-0001", "received": "2025-10-08T09:15:00+07:00", "type": "aduan",
         "message": "Lampu jalan mati sudah seminggu", "keyword": "PJU", "status": "dibalas",
         "location": {"district": "KEC. GENTENG", "village": "KETABANG", "lat": None, "lon": None},
         "forwarded_to": "DSDABM", "replied_at": "2025-10-08T11:00:00+07:00",
         "sender": {**SITI, "confidential": True}},
        {"msg_id": "SMS-0002", "received": "2025-10-08T10:00:00+07:00", "type": "info",
         "message": "Kapan banjir di depan rumah surut?", "keyword": "banjir", "status": "",
         "location": {"district": "", "village": "", "lat": lat, "lon": lon},
         "forwarded_to": "", "replied_at": "",
         "sender": {"name": "Budi", "phone": "+6285712345678", "nik": "", "email": "", "confidential": False}},
        {"msg_id": "", "received": "2025-10-08T10:05:00+07:00", "type": "aduan", "message": "tanpa id",
         "keyword": "", "status": "masuk", "location": {}, "forwarded_to": "", "replied_at": "",
         "sender": {"name": "X", "phone": "", "nik": "", "email": "", "confidential": False}},
        {"msg_id": "SMS-0004", "received": "2025-10-08T10:10:00+07:00", "type": "aduan", "message": "status aneh",
         "keyword": "", "status": "hilang", "location": {}, "forwarded_to": "", "replied_at": "",
         "sender": {"name": "Y", "phone": "", "nik": "", "email": "", "confidential": False}},
    ]


def flat(record: dict) -> dict:
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def write_sms_csv(path: Path, records: list[dict]) -> Path:
    rows = [flat(r) for r in records]
    columns = sorted({k for r in rows for k in r})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            # a spreadsheet save: local wall-clock time without an offset, yes/no as words
            row = {**row, "received": row["received"].replace("T", " ").removesuffix("+07:00"),
                   "sender.confidential": "ya" if row.get("sender.confidential") else "tidak"}
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return path


def test_a_channel_defined_only_by_a_mapping_file_imports_csv_json_and_json_lines(monkeypatch, capsys, db_url,
                                                                                  engine, tmp_path, inside):
    region = region_with(tmp_path, SMS_CHANNEL, {"mappings/sms.toml": SMS_MAPPING})
    records = sms_records(inside)
    csv_path = write_sms_csv(tmp_path / "sms.csv", records)
    json_path = tmp_path / "sms-page-1.json"
    json_path.write_text(json.dumps({"data": {"messages": records, "next": None}}), encoding="utf-8")
    lines_path = tmp_path / "sms.jsonl"
    lines_path.write_text("\n".join(json.dumps(r) for r in records) + "\n{not json\n\n", encoding="utf-8")

    code, first, err = run_cli(monkeypatch, capsys, db_url, "sms", csv_path, "--region", region)
    assert code == 0, err
    assert (first["read"], first["inserted"], first["quarantined"]) == (4, 2, 2) and reconciles(first)
    code, second, err = run_cli(monkeypatch, capsys, db_url, "sms", json_path, "--region", region)
    assert code == 0, err
    assert (second["read"], second["unchanged"], second["quarantined"]) == (4, 2, 2), second
    code, third, err = run_cli(monkeypatch, capsys, db_url, "sms", lines_path, "--region", region)
    assert code == 0, err
    assert (third["read"], third["unchanged"], third["quarantined"]) == (5, 2, 3), third

    with engine.connect() as conn:
        why = conn.execute(select(QuarantinedRecord.reason)).scalars().all()
    assert len(why) == 2 + 2 + 3
    assert any("msg_id is empty" in r for r in why)
    assert any("unknown status 'hilang'" in r and "[status]" in r for r in why)
    assert any("line 5 is not valid JSON" in r for r in why)

    messages = stored(engine, "sms")
    lamp = messages["SMS-0001"]
    assert lamp["received_at"] == datetime(2025, 10, 8, 2, 15, tzinfo=timezone.utc)
    assert (lamp["kind"], lamp["source_type"], lamp["category"]) == ("complaint", "aduan", "street_lights")
    assert (lamp["status"], lamp["agency_code"]) == ("in_progress", "DSDABM")
    assert (lamp["district_code"], lamp["district_raw"], lamp["subdistrict"]) == ("genteng", "KEC. GENTENG",
                                                                                   "Ketabang")
    assert lamp["first_response_at"] == datetime(2025, 10, 8, 4, 0, tzinfo=timezone.utc)
    assert lamp["is_confidential"] and not lamp["is_anonymous"]
    flood = messages["SMS-0002"]
    assert (flood["kind"], flood["category"], flood["status"]) == ("information_request", "flooding", "new")
    assert flood["district_code"] == "rungkut" and flood["lat"] == pytest.approx(records[1]["location"]["lat"])
    assert flood["agency_code"] is None  # the source routes it, and has not yet
    assert not flood["is_confidential"]

    contacts = reporters(engine, "sms")
    assert {k: contacts["SMS-0001"][k] for k in SITI} == SITI
    assert contacts["SMS-0002"]["phone"] == "+6285712345678" and contacts["SMS-0002"]["nik"] is None
    for complaint in messages.values():
        shown = text_values(complaint)
        for secret in (*SITI.values(), "Budi", "85712345678"):
            assert secret not in shown


def test_the_kantorku_example_mapping_works_from_the_connectors_folder(monkeypatch, capsys, db_url, engine,
                                                                      tmp_path):
    region = region_with(tmp_path, '[kantorku]\nmapping = "mappings/kantorku.toml"\n')
    assert not (region / "mappings" / "kantorku.toml").exists()  # found in connectors/mappings/
    path = tmp_path / "agenda.csv"
    path.write_text(
        "AGENDA SURAT MASUK - KANTORKU\n\n"
        "No. Agenda;Tanggal Diterima;Jenis;Perihal;Isi Ringkas;Kategori;Status Disposisi;Tujuan Disposisi;"
        "Kecamatan;Nama Pengirim;No HP;NIK;Rahasia\n"
        "K-001;03/11/2025 09:30;Pengaduan;Saluran tersumbat;Saluran depan rumah tersumbat sampah;Drainase;"
        "Didisposisikan;Dinas Sumber Daya Air dan Bina Marga;Kec. Wonokromo;Ahmad Fauzi;0812999888777;"
        "3578019999999999;Y\n"
        "K-002;03/11/2025 10:00;Permohonan Informasi;Data bansos;Mohon informasi data penerima bansos;Bansos;"
        "Selesai;;;Rina;;;\n",
        encoding="cp1252")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "kantorku", path, "--region", region)
    assert code == 0, err
    assert (summary["inserted"], summary["quarantined"]) == (2, 0), summary
    letters = stored(engine, "kantorku")
    drain = letters["K-001"]
    assert drain["received_at"] == datetime(2025, 11, 3, 2, 30, tzinfo=timezone.utc)
    assert (drain["kind"], drain["category"], drain["status"]) == ("complaint", "drainage", "dispatched")
    assert (drain["agency_code"], drain["district_code"], drain["title"]) == ("DSDABM", "wonokromo",
                                                                             "Saluran tersumbat")
    assert drain["is_confidential"]
    info = letters["K-002"]
    assert (info["kind"], info["category"], info["status"]) == ("information_request", "social_assistance",
                                                                "resolved")
    contacts = reporters(engine, "kantorku")
    assert (contacts["K-001"]["name"], contacts["K-001"]["phone"], contacts["K-001"]["nik"]) == (
        "Ahmad Fauzi", "0812999888777", "3578019999999999")
    assert all("Ahmad" not in text_values(c) and "0812999888777" not in text_values(c) for c in letters.values())


@pytest.mark.parametrize("mapping, expected", [
    ('[columns]\nsource_id = ["id"]\nreceived_at = ["at"]\ntimezone = "UTC"\n',
     "'timezone' is inside [columns]; top-level keys must come before the first [table] header"),
    ('kind = "complaint"\n[columns]\nsource_id = ["id"]\nreceived_at = ["at"]\n', "must be a [kind] table"),
    ('[columns]\nsource_id = "id"\nreceived_at = ["at"]\n', "source_id must be a list of column names"),
    ('[columns]\nsource_id = ["id"]\nreceived_at = ["at"]\n[status]\nbaru = "fresh"\n', "'fresh' is not one of"),
    ('timezone = "Mars/Olympus"\n[columns]\nsource_id = ["id"]\nreceived_at = ["at"]\n', "unknown timezone"),
    ('required = ["source_id", "title"]\n[columns]\nsource_id = ["id"]\n', "'title' has no [columns] entry"),
    (None, "does not exist"),
])
def test_mapping_mistakes_fail_with_one_clear_line(monkeypatch, capsys, db_url, engine, tmp_path, mapping, expected):
    files = {"mappings/sms.toml": mapping} if mapping is not None else {}
    region = region_with(tmp_path, SMS_CHANNEL, files)
    data = tmp_path / "sms.csv"
    data.write_text("id,at\n1,2025-10-01 10:00\n", encoding="utf-8")
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "sms", data, "--region", region)
    assert code != 0 and summary is None
    assert expected in err and err.startswith("error: ") and err.count("\n") == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b'{"data": [1, 2', "not valid JSON"),
    (b'{"meta": {"total": 0}}', "no list of records"),
    (b'[{"foo": 1}, {"bar": 2}]', "no record has the expected field(s) source_id"),
])
def test_unusable_json_fails_with_one_line_and_writes_nothing(monkeypatch, capsys, db_url, engine, tmp_path,
                                                             inside, content, expected):
    mapping = SMS_MAPPING.replace('records = "data.messages"\n', "")
    region = region_with(tmp_path, SMS_CHANNEL, {"mappings/sms.toml": mapping})
    good = tmp_path / "good.json"
    good.write_text(json.dumps(sms_records(inside)[:1]), encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, db_url, "sms", good, "--region", region)
    assert code == 0, err
    before = stored(engine, "sms")
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, summary, err = run_cli(monkeypatch, capsys, db_url, "sms", bad, "--region", region)
    assert code != 0 and summary["state"] == "failed"
    assert expected in err and err.count("\n") == 1
    assert stored(engine, "sms") == before
