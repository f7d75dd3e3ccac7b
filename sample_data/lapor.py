"""SP4N-LAPOR! "Laporan Ringkas" exports (.xlsx): a preamble, the header on row 11, one row per report."""
from __future__ import annotations

import zlib
from datetime import date, datetime, time, timedelta
from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_xlsx
from .people import chance, pick, weighted

COLUMNS_17 = ["Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Klasifikasi Laporan", "ID Kategori",
              "Kategori", "Judul Laporan", "Isi Laporan Awal", "Isi Laporan Akhir", "Tipe Laporan (Anonim/Rahasia)",
              "Sumber Laporan", "Instansi Induk", "Instansi Terdisposisi", "Status Laporan", "Alasan Tunda/Arsip",
              "Provinsi", "Kota/Kabupaten"]
COLUMNS_20 = (COLUMNS_17[:12] + ["ID Instansi Terdisposisi"] + COLUMNS_17[12:] + ["Kecamatan", "Kelurahan"])
HEADER_ROW = 11
INSTITUTION = "Pemerintah Kota Surabaya"
MANAGER = "Dinas Komunikasi dan Informatika Kota Surabaya"
MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

PRIORS = {"roads": 12, "street_lights": 4, "drainage": 5, "flooding": 3, "pollution": 6, "waste": 4, "trees": 2,
          "civil_registration": 9, "social_assistance": 9, "public_order": 6, "street_vendors": 2,
          "building_permits": 2, "crime": 2, "traffic": 4, "parking": 2, "health": 6, "education": 6, "water": 3,
          "electricity": 2, "housing": 3, "women_children": 1, "disaster": 0.5, "fire": 0.3, "other": 10,
          "information": 3}
CLASSES = [("Pengaduan Berkadar Pengawasan", 0.57), ("Pengaduan Tidak Berkadar Pengawasan", 0.28),
           ("Aspirasi", 0.02), ("", 0.13)]
TYPES = [("Anonim", 0.47), ("Anonim|Rahasia", 0.28), ("Rahasia", 0.10), ("", 0.15)]
SOURCES = [("Website", 0.54), ("Android", 0.22), ("Website - pemerintah-kota-surabaya", 0.04),
           ("Hotline Service", 0.05), ("Instagram", 0.04), ("Whatsapp", 0.02), ("iOS", 0.02),
           ("Email Instansi", 0.02), ("SMS", 0.015), ("Tatap Muka", 0.015), ("Call Center", 0.01),
           ("Pos Surat", 0.005), ("Facebook", 0.005)]
CLOSERS = [("Sistem", 0.72), ("Admin", 0.22), ("Pelapor", 0.06)]
ARCHIVERS = [("Diarsipkan oleh Admin", 0.6), ("Diarsipkan oleh Pelapor", 0.3), ("Konten Terblokir", 0.1)]
REASONS = {
    "Diarsipkan oleh Sistem": "Laporan diarsipkan karena sudah mencapai batas kadaluarsa pengaduan.",
    "Diarsipkan oleh Admin": ("Laporan ini diarsipkan karena Mengandung SARA, Tidak Memiliki Bukti Dukung, "
                              "Tidak Jelas, dan Tidak Relevan dengan Kinerja Pemerintah"),
    "Diarsipkan oleh Pelapor": "Laporan ini diarsipkan sesuai dengan keinginan Pelapor",
    "Menunggu Kelengkapan Informasi": "Mohon melengkapi lokasi kejadian dan bukti pendukung (foto) laporan Anda.",
}
NOT_ROUTED = {"Belum Terverifikasi", "Menunggu Kelengkapan Informasi", "Diarsipkan oleh Sistem",
              "Diarsipkan oleh Admin", "Diarsipkan oleh Pelapor", "Konten Terblokir"}
SYSTEM_CLOSE = timedelta(days=14)  # 10 working days without a reply to the follow-up
ID_EPOCH, ID_BASE, ID_STRIDE, ID_SLOTS = date(2024, 1, 18), 7_282_582, 7, 60


def extras(rng, case: Case) -> dict:
    """Fields LAPOR has and other channels do not, drawn once per report."""
    info = case.category == "information"
    place = None
    if chance(rng, 0.25):
        place = (place_name(rng, case.district.name, case.district.aliases, "KEC. "),
                 place_name(rng, case.kelurahan, case.district.sub_aliases.get(case.kelurahan, []), "KEL. ")
                 if case.kelurahan and chance(rng, 0.85) else "")
    return {
        "class": "Permintaan Informasi" if info and chance(rng, 0.9) else weighted(rng, CLASSES),
        "type": weighted(rng, TYPES), "source": weighted(rng, SOURCES), "closer": weighted(rng, CLOSERS),
        "archiver": weighted(rng, ARCHIVERS), "no_category": chance(rng, 0.06), "place": place,
        "city": weighted(rng, [("Surabaya", 0.7), ("Kota Surabaya", 0.25), ("", 0.05)]),
        "id_jitter": int(rng.random() * ID_STRIDE),
    }


def place_name(rng, name: str | None, aliases: list[str], prefix: str) -> str:
    if not name:
        return ""
    if aliases and chance(rng, 0.15):
        name = pick(rng, aliases)
    return (prefix if chance(rng, 0.1) else "") + name.upper()


SPEC = ChannelSpec("lapor", 1, 250, clock.hour_profile([(10, 2.5, 1.0), (14.5, 2, 0.6), (20, 2, 0.3)], 0.03),
                   PRIORS, verify_hours=20, response_factor=1.5, detail=0.55, pii=0.05, reject=0.03,
                   waiting_info=0.05, extras=extras)


def tracking_id(case: Case, scale: float) -> int:
    slots = ID_SLOTS * max(1, int(-(-scale // 1)))
    number = ID_BASE + (case.day - ID_EPOCH).days * slots * ID_STRIDE + (case.seq - 1) * ID_STRIDE
    number += case.extra["id_jitter"]
    return 1_000_000 + (number - 1_000_000) % 9_000_000  # always 7 digits


def status(case: Case, at: datetime) -> str:
    stage = case.stage(at)
    simple = {"new": "Belum Terverifikasi", "waiting_info": "Menunggu Kelengkapan Informasi",
              "archived": "Diarsipkan oleh Sistem", "verified": "Terverifikasi", "dispatched": "Didisposisikan"}
    if stage in simple:
        return simple[stage]
    if stage == "rejected":
        return case.extra["archiver"]
    closer = case.extra["closer"]
    if closer == "Sistem" or stage == "in_progress":
        system_closed = case.responded is not None and at >= case.responded + SYSTEM_CLOSE and closer == "Sistem"
        return "Ditutup oleh Sistem" if system_closed else "Ditindaklanjuti"
    return f"Ditutup oleh {closer}"


def agency_id(code: str) -> str:
    return str(10000 + zlib.crc32(code.encode()) % 9000)


def category_id(text: str) -> str:
    return str(900 + zlib.crc32(text.encode()) % 1700)


def row(world: World, case: Case, at: datetime, wide: bool, numeric_id: bool) -> list:
    state = status(case, at)
    utc = case.received - clock.LOCAL_OFFSET
    unverified = state == "Belum Terverifikasi"
    blank_category = unverified or case.extra["no_category"]
    agency = world.region.agencies.get(case.agency or "") if state not in NOT_ROUTED else None
    tid = tracking_id(case, world.window.scale)
    awal = case.body
    values = {
        "Tracking ID": tid if numeric_id else str(tid),
        "Tanggal Laporan Masuk": f"{utc.day} {MONTHS_EN[utc.month - 1]} {utc.year}",
        "Waktu Laporan Masuk": utc.strftime("%H:%M:%S"),
        "Klasifikasi Laporan": None if unverified else case.extra["class"] or None,
        "ID Kategori": None if blank_category else category_id(case.source.text),
        "Kategori": None if blank_category else case.source.text,
        "Judul Laporan": case.title,
        "Isi Laporan Awal": awal,
        "Isi Laporan Akhir": awal[:1].upper() + awal[1:].lower(),
        "Tipe Laporan (Anonim/Rahasia)": case.extra["type"] or None,
        "Sumber Laporan": case.extra["source"],
        "Instansi Induk": INSTITUTION,
        "ID Instansi Terdisposisi": agency_id(agency.code) if agency else None,
        "Instansi Terdisposisi": agency.official_name if agency else None,
        "Status Laporan": state,
        "Alasan Tunda/Arsip": REASONS.get(state),
        "Provinsi": "Jawa Timur",
        "Kota/Kabupaten": case.extra["city"] or None,
        "Kecamatan": case.extra["place"][0] if case.extra["place"] else None,
        "Kelurahan": (case.extra["place"][1] or None) if case.extra["place"] else None,
    }
    return [values[c] for c in (COLUMNS_20 if wide else COLUMNS_17)]


def export_rows(world: World, cases: list[Case], generated: date, at: datetime, wide: bool, numeric_id: bool):
    period_start = clock.add_months(generated, -12) + timedelta(days=1)
    preamble = [("Judul Laporan", "Laporan Ringkas"), ("Nama Instansi", INSTITUTION),
                ("Tanggal Generate", generated.isoformat()),
                ("Periode Masuk", f"({period_start.isoformat()}) - ({generated.isoformat()})"), ("Pengelola", MANAGER)]
    for label, value in preamble:
        yield [label, None, value]
        yield []
    yield COLUMNS_20 if wide else COLUMNS_17
    chosen = [c for c in cases if period_start <= c.received.date() and c.received <= at]
    for case in sorted(chosen, key=lambda c: tracking_id(c, world.window.scale)):
        yield row(world, case, at, wide, numeric_id)


def write(world: World, out_dir: Path) -> list[Path]:
    """One export per month end, plus one generated on `today`, each with statuses as of its date."""
    cases = world.cases(SPEC)
    moments = [(d, datetime.combine(d, time(23, 59, 59))) for d in clock.month_ends(world.window)]
    moments.append((world.window.end, world.window.cutoff))
    paths = []
    for i, (generated, at) in enumerate(moments):
        wide = not (i % 4 == 2 and i < len(moments) - 1)
        path = out_dir / "lapor" / f"laporan-ringkas-{generated.isoformat()}.xlsx"
        rows = export_rows(world, cases, generated, at, wide, numeric_id=i % 3 == 1)
        paths.append(write_xlsx(path, rows, "Laporan Ringkas", at - clock.LOCAL_OFFSET, fast=True))
    return paths
