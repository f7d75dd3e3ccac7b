"""The sample-data generator: determinism, real source formats, coverage of the window, shares, status changes."""
from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from sample_data import generate

WIB = timezone(timedelta(hours=7))
TODAY = date(2025, 11, 14)
MONTHS = 3
WINDOW_START = date(2025, 8, 15)
END_OF_TODAY = datetime(2025, 11, 14, 23, 59, 59)
LAPOR_17 = ["Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Klasifikasi Laporan", "ID Kategori",
            "Kategori", "Judul Laporan", "Isi Laporan Awal", "Isi Laporan Akhir", "Tipe Laporan (Anonim/Rahasia)",
            "Sumber Laporan", "Instansi Induk", "Instansi Terdisposisi", "Status Laporan", "Alasan Tunda/Arsip",
            "Provinsi", "Kota/Kabupaten"]
LAPOR_20 = LAPOR_17[:12] + ["ID Instansi Terdisposisi"] + LAPOR_17[12:] + ["Kecamatan", "Kelurahan"]
CALL112 = ["UID", "WAKTU LAPOR", "TIPE LAPORAN", "KATEGORI", "SUB KATEGORI 1", "KECAMATAN", "KELURAHAN",
           "LATITUDE", "LONGITUDE", "AGENT L1", "DURASI PENGERJAAN"]
OPEN311 = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
           "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
           "address", "address_id", "zipcode", "lat", "long", "media_url"}
SOCIAL = ["post_id", "platform", "account", "posted_at", "author_handle", "text", "url", "topic", "location_hint",
          "sentiment", "handled_by", "status", "replied_at", "closed_at"]
MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# Later stages never go back to earlier ones between exports.
LAPOR_RANK = {"Belum Terverifikasi": 0, "Terverifikasi": 1, "Menunggu Kelengkapan Informasi": 1,
              "Didisposisikan": 2, "Ditindaklanjuti": 3}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, TODAY, seed=7, scale=0.1, months=MONTHS)


def relative_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def lapor_sheet(path: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return rows


def lapor_table(path: Path) -> list[dict]:
    rows = lapor_sheet(path)
    header = [c for c in rows[10] if c is not None]
    return [dict(zip(header, r)) for r in rows[11:]]


def read_112(path: Path) -> list[dict]:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        assert list(rows[0]) == CALL112
        return [dict(zip(CALL112, r)) for r in rows[1:]]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CALL112
        return list(reader)


def local_from_lapor(row: dict) -> datetime:
    day, mon, year = row["Tanggal Laporan Masuk"].split()
    utc = datetime(int(year), MONTHS_EN.index(mon) + 1, int(day), *map(int, row["Waktu Laporan Masuk"].split(":")))
    return utc + timedelta(hours=7)


def parse_local(text: str) -> datetime:
    """ISO-8601 with an offset or Z -> naive WIB."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(WIB).replace(tzinfo=None)


def test_same_inputs_give_identical_bytes(run, tmp_path):
    out, _ = run
    generate(tmp_path, TODAY, seed=7, scale=0.1, months=MONTHS)
    first, second = relative_files(out), relative_files(tmp_path)
    assert first.keys() == second.keys() and len(first) >= 15
    assert [name for name in first if first[name] != second[name]] == []


def test_another_seed_gives_other_data(run, tmp_path):
    out, _ = run
    generate(tmp_path, TODAY, seed=8, scale=0.1, months=MONTHS, channels=["wargaku"])
    assert (out / "wargaku" / "page-0001.json").read_bytes() != (tmp_path / "wargaku" / "page-0001.json").read_bytes()


def test_returns_every_channel_in_import_order(run):
    out, written = run
    assert set(written) == {"lapor", "call112", "wargaku", "mediacenter", "jss", "social", "open311"}
    for paths in written.values():
        assert paths and all(p.exists() and out in p.parents for p in paths)
    assert [p.name for p in written["lapor"]] == sorted(p.name for p in written["lapor"])
    assert written["lapor"][-1].name == f"laporan-ringkas-{TODAY}.xlsx"
    assert written["call112"][-1].suffix == ".xlsx" and all(p.suffix == ".csv" for p in written["call112"][:-1])


def test_lapor_preamble_and_header_on_row_11(run):
    _, written = run
    widths = []
    for path in written["lapor"]:
        rows = lapor_sheet(path)
        labels = ["Judul Laporan", "Nama Instansi", "Tanggal Generate", "Periode Masuk", "Pengelola"]
        assert [rows[i][0] for i in range(0, 10, 2)] == labels
        assert all(not any(rows[i] or ()) for i in range(1, 10, 2))  # blank separator rows
        values = {rows[i][0]: rows[i][2] for i in range(0, 10, 2)}
        assert values["Judul Laporan"] == "Laporan Ringkas"
        assert values["Nama Instansi"] == "Pemerintah Kota Surabaya"
        assert path.stem.endswith(values["Tanggal Generate"])
        assert re.fullmatch(r"\(\d{4}-\d\d-\d\d\) - \(" + values["Tanggal Generate"] + r"\)", values["Periode Masuk"])
        header = [c for c in rows[10] if c is not None]
        assert header in (LAPOR_20, LAPOR_17)
        widths.append(len(header))
        assert len(rows) > 11
    assert widths[-1] == 20 and widths.count(17) >= 1 and widths.count(20) > widths.count(17)


def test_lapor_values_look_like_the_real_export(run):
    _, written = run
    kinds = set()
    for path in written["lapor"]:
        for row in lapor_table(path):
            kinds.add(type(row["Tracking ID"]))
            assert re.fullmatch(r"\d{7}", str(row["Tracking ID"]))
            assert re.fullmatch(r"\d{1,2} (" + "|".join(MONTHS_EN) + r") \d{4}", row["Tanggal Laporan Masuk"])
            assert re.fullmatch(r"\d\d:\d\d:\d\d", row["Waktu Laporan Masuk"])
            assert row["Tipe Laporan (Anonim/Rahasia)"] in (None, "Anonim", "Rahasia", "Anonim|Rahasia")
            assert row["Provinsi"] == "Jawa Timur"
            if row["Status Laporan"] == "Belum Terverifikasi":
                assert row["Instansi Terdisposisi"] is None
    assert kinds == {str, int}


def test_lapor_kecamatan_filled_for_a_quarter_in_upper_case(run):
    _, written = run
    rows = lapor_table(written["lapor"][-1])
    filled = [r["Kecamatan"] for r in rows if r["Kecamatan"]]
    assert 0.15 <= len(filled) / len(rows) <= 0.35
    assert all(name == name.upper() for name in filled)


def test_lapor_statuses_progress_between_exports(run):
    _, written = run
    exports = [{str(r["Tracking ID"]): r["Status Laporan"] for r in lapor_table(p)} for p in written["lapor"]]
    changed = 0
    for before, after in zip(exports, exports[1:]):
        assert set(before) <= set(after)  # the same reports keep their Tracking ID
        for tid, old in before.items():
            new = after[tid]
            changed += old != new
            assert LAPOR_RANK.get(new, 9) >= LAPOR_RANK.get(old, 9), (tid, old, new)
    assert changed >= 5


def test_call112_columns_and_shares(run):
    _, written = run
    rows = [r for path in written["call112"] for r in read_112(path)]
    fake = sum(r["TIPE LAPORAN"] in ("prank", "ghost", "silent call") for r in rows)
    assert 0.40 <= fake / len(rows) <= 0.55
    assert {r["TIPE LAPORAN"] for r in rows} == {"emergency", "information", "prank", "ghost", "silent call"}
    for r in rows:
        if r["TIPE LAPORAN"] != "emergency":
            assert not r["KATEGORI"] and not r["KECAMATAN"] and not r["LATITUDE"]
        else:
            assert r["KATEGORI"] == r["KATEGORI"].upper()
        if r["DURASI PENGERJAAN"]:
            assert re.fullmatch(r"\d+ Hari : \d+ Jam : \d+ Menit : \d+ Detik", r["DURASI PENGERJAAN"])
        assert re.fullmatch(r"AGT-\d\d", r["AGENT L1"])
    assert len({r["UID"] for r in rows}) == len(rows)


def test_feeds_parse_with_unique_ids(run):
    _, written = run
    pages = [json.loads(p.read_text()) for p in written["wargaku"]]
    wargaku = [i for page in pages for i in page["data"]]
    assert pages[-1]["next_page"] is None and all(p["total"] == len(wargaku) for p in pages)
    assert all(re.fullmatch(r"WG-\d{4}-\d{6}", i["id"]) for i in wargaku)
    pages = [json.loads(p.read_text()) for p in written["mediacenter"]]
    tickets = [i for page in pages for i in page["items"]]
    assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    jss = [i for p in written["jss"] for i in json.loads(p.read_text())["result"]["complaints"]]
    open311 = [i for p in written["open311"] for i in json.loads(p.read_text())]
    assert all(set(i) == OPEN311 for i in open311)
    social = []
    for path in written["social"]:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == SOCIAL
            social += list(reader)
    for items, key in ((wargaku, "id"), (tickets, "ticket_no"), (jss, "complaint_id"),
                       (open311, "service_request_id"), (social, "post_id")):
        assert items and len({i[key] for i in items}) == len(items), key


def feed_times(out: Path) -> list[datetime]:
    times = []
    for p in (out / "wargaku").glob("*.json"):
        times += [parse_local(i["created_at"]) for i in json.loads(p.read_text())["data"]]
    for p in (out / "mediacenter").glob("*.json"):
        times += [parse_local(i["submitted"]) for i in json.loads(p.read_text())["items"]]
    for p in (out / "jss").glob("*.json"):
        times += [parse_local(i["reported_at"]) for i in json.loads(p.read_text())["result"]["complaints"]]
    for p in (out / "open311").glob("*.json"):
        times += [parse_local(i["requested_datetime"]) for i in json.loads(p.read_text())]
    for p in (out / "social").glob("*.csv"):
        with p.open(encoding="utf-8", newline="") as handle:
            times += [parse_local(r["posted_at"]) for r in csv.DictReader(handle)]
    return times


def test_dates_cover_the_window_and_nothing_after_today(run):
    out, written = run
    times = feed_times(out)
    times += [local_from_lapor(r) for r in lapor_table(written["lapor"][-1])]
    for path in written["call112"]:
        for r in read_112(path):
            stamp = r["WAKTU LAPOR"]
            times.append(stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp))
    assert min(times).date() == WINDOW_START
    assert max(times) <= END_OF_TODAY and max(times).date() == TODAY


def wargaku_ids(root: Path) -> dict[str, str]:
    pages = [json.loads(p.read_text()) for p in (root / "wargaku").glob("*.json")]
    return {i["id"]: i["created_at"] for page in pages for i in page["data"]}


def test_exact_cut_off_and_ids_stable_when_today_moves(run, tmp_path):
    out, _ = run
    cutoff = datetime(2025, 11, 15, 9, 30)
    generate(tmp_path, cutoff, seed=7, scale=0.1, months=MONTHS, channels=["wargaku", "jss"])
    assert max(feed_times(tmp_path)) <= cutoff
    old, new = wargaku_ids(out), wargaku_ids(tmp_path)
    shared = [k for k in old if old[k] >= "2025-08-16"]
    assert shared and all(new.get(k) == old[k] for k in shared)


def test_some_texts_carry_fake_personal_data(run):
    _, written = run
    texts = " ".join(r["Isi Laporan Awal"] for r in lapor_table(written["lapor"][-1]))
    assert re.search(r"\b3578\d{12}\b|\b08\d{8,11}\b|\+62\d{9,12}|@\w+\.\w+", texts)
