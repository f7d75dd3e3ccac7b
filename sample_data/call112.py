"""Command Center 112 incident logs: one CSV per month, the current month as .xlsx."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from . import clock
from .cases import World
from .files import write_csv, write_xlsx
from .people import chance, pick

COLUMNS = ["UID", "WAKTU LAPOR", "TIPE LAPORAN", "KATEGORI", "SUB KATEGORI 1", "KECAMATAN", "KELURAHAN",
           "LATITUDE", "LONGITUDE", "AGENT L1", "DURASI PENGERJAAN"]
STREAM = 7
TYPES = ["emergency", "information", "prank", "ghost", "silent call"]
TYPE_P = np.array([0.45, 0.08, 0.22, 0.15, 0.10])
HOURS = clock.hour_profile([(10.5, 2.5, 1.0), (19.5, 2.5, 0.9)], floor=0.12)
WEEKDAY = np.array([1.0, 0.97, 0.97, 0.98, 1.02, 1.08, 1.05])
# Keyword shares among emergencies (2018: LAKA LANTAS 13 %, DARURAT MEDIS 9 %, PLN/KABEL 7 %, PDAM 5 %, ...).
KEYWORDS = {
    "LAKA LANTAS": 14, "DARURAT MEDIS": 9.5, "KABEL": 3.5, "PLN": 1.5, "TIANG": 1, "LISTRIK": 1, "PDAM": 5.3,
    "KEBAKARAN": 4.3, "POHON TUMBANG": 3, "POHON": 3, "PJU": 5, "JALAN RUSAK": 3, "BANJIR": 2.5,
    "TRAFFIC LIGHT": 4, "KEMACETAN": 2.5, "RAMBU": 1, "ODGJ": 4, "PMKS": 3, "SUNGAI": 1.5, "OLI": 1.5,
    "KRIMINALITAS": 2.5, "KEAMANAN": 2.5, "PARKIR": 2, "ADMINISTRASI": 2, "REKLAME": 0.6, "BEASISWA": 0.5,
    "SIMULASI": 0.3, "AMBULANS": 2, "MOBIL JENAZAH": 0.6, "PENYELAMATAN": 2, "SARANG TAWON": 1.5,
    "EVAKUASI ULAR": 1, "EVAKUASI HEWAN": 0.8, "KDRT": 1, "KEKERASAN ANAK": 0.4, "TAWURAN": 0.5,
    "BALAP LIAR": 1, "ORANG HILANG": 0.5, "PENEMUAN MAYAT": 0.3, "KEBISINGAN": 1, "SAMPAH": 1,
    "ANGIN KENCANG": 0.5, "BANGUNAN ROBOH": 0.3, "KETERTIBAN UMUM": 1, "PKL": 0.8, "GENANGAN": 0.8,
    "SALURAN": 0.6, "KESEHATAN": 0.5, "LAIN-LAIN": 1.5, "BENCANA": 0.3, "PENCEMARAN": 0.4, "INFORMASI": 0,
}
SUBS = {
    "LAKA LANTAS": ["KECELAKAAN SEPEDA MOTOR", "TABRAKAN MOBIL DAN MOTOR", "KECELAKAAN TUNGGAL",
                    "PEJALAN KAKI TERTABRAK"],
    "DARURAT MEDIS": ["ORANG PINGSAN", "SESAK NAPAS", "IBU HAMIL AKAN MELAHIRKAN", "LANSIA SAKIT", "KEJANG"],
    "KEBAKARAN": ["KEBAKARAN RUMAH", "KEBAKARAN LAHAN KOSONG", "KORSLETING LISTRIK", "KEBAKARAN KENDARAAN",
                  "KEBAKARAN SAMPAH"],
    "POHON": ["POHON TUMBANG", "DAHAN PATAH", "PERANTINGAN"], "POHON TUMBANG": ["MENUTUP JALAN", "MENIMPA RUMAH",
                                                                               "MENIMPA KENDARAAN"],
    "PJU": ["PJU MATI", "TIANG PJU ROBOH", "PJU KORSLETING"], "PDAM": ["AIR MATI", "PIPA BOCOR", "AIR KERUH"],
    "KABEL": ["KABEL PUTUS", "KABEL MENJUNTAI", "KABEL TERBAKAR"], "PLN": ["LISTRIK PADAM", "GARDU MELEDAK"],
    "TIANG": ["TIANG LISTRIK MIRING", "TIANG TELEPON ROBOH"], "BANJIR": ["BANJIR JALAN", "BANJIR PEMUKIMAN"],
    "TRAFFIC LIGHT": ["TRAFFIC LIGHT MATI", "TRAFFIC LIGHT BERKEDIP"], "KEMACETAN": ["MACET TOTAL", "KENDARAAN MOGOK"],
    "ODGJ": ["ODGJ MENGAMUK", "ODGJ TERLANTAR"], "PMKS": ["GELANDANGAN", "PENGEMIS", "ANAK JALANAN", "MANUSIA SILVER"],
    "JALAN RUSAK": ["JALAN BERLUBANG", "JALAN AMBLES"], "SUNGAI": ["SUNGAI MELUAP", "ENCENG GONDOK"],
    "OLI": ["OLI TUMPAH DI JALAN"], "KRIMINALITAS": ["PENCURIAN", "PENJAMBRETAN", "PERKELAHIAN", "PENIPUAN"],
    "KEAMANAN": ["ORANG MENCURIGAKAN", "KERIBUTAN", "MIRAS"], "PARKIR": ["PARKIR LIAR", "PARKIR MENGHALANGI JALAN"],
    "ADMINISTRASI": ["INFORMASI KTP", "INFORMASI KK", "INFORMASI BANSOS"], "REKLAME": ["REKLAME ROBOH", "REKLAME LIAR"],
}
# Median handling minutes per unified category; sigma of the log-normal is 0.9.
MINUTES = {"fire": 90, "traffic_accident": 45, "medical_emergency": 50, "crime": 90, "trees": 180,
           "flooding": 360, "drainage": 600, "street_lights": 1200, "water": 1000, "electricity": 1500,
           "social_assistance": 240, "roads": 900, "traffic": 150}
CALL_SECONDS = {"information": 150, "prank": 40, "ghost": 12, "silent call": 20}
RAIN_112 = {"flooding": (8.0, 3.0), "trees": (5.0, 2.0), "drainage": (3.0, 1.5), "electricity": (2.0, 1.3),
            "disaster": (4.0, 1.5)}


def keyword_table(world: World) -> tuple[list, np.ndarray]:
    rows = world.region.source_categories.get("call112", [])
    weights = np.array([KEYWORDS.get(r.text.upper(), 0.05) for r in rows])
    if not rows or weights.sum() == 0:
        raise ValueError("category_map.csv has no usable call112 rows")
    return rows, weights


def duration_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 86400} Hari : {s % 86400 // 3600} Jam : {s % 3600 // 60} Menit : {s % 60} Detik"


def misspell(rng, name: str) -> str:
    i = int(rng.random() * (len(name) - 1)) + 1
    return name[:i] + name[i + 1:] if chance(rng, 0.5) else name[:i] + name[i] + name[i:]


def district_text(rng, district) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    name = district.name
    if roll < 0.12 and district.aliases:
        name = pick(rng, district.aliases)
    elif roll < 0.15:
        name = misspell(rng, name)
    return ("KEC. " if chance(rng, 0.06) else "") + name.upper()


def agent(day: date, hour: int, rng) -> str:
    shift = 0 if 7 <= hour < 15 else 1 if 15 <= hour < 23 else 2
    team = (shift + day.toordinal()) % 3
    return f"AGT-{team * 6 + int(rng.random() * 6) + 1:02d}"


def day_rows(world: World, day: date, xlsx: bool) -> list[list]:
    rng = clock.day_rng(world.window.seed, STREAM, day)
    rows_kw, weights = keyword_table(world)
    level = clock.rain_level(world.window.seed, day)
    boost = np.array([RAIN_112.get(r.category, (1.0, 1.0))[2 - level] if level else 1.0 for r in rows_kw])
    full = 250 * clock.trend(day) * WEEKDAY[day.weekday()] * (1.08 if level == 2 else 1.0) * rng.gamma(30, 1 / 30)
    n = int(round(np.clip(rng.poisson(full), 160, 440) * world.window.scale))
    times = clock.sample_times(rng, n, day, HOURS)
    kinds = rng.choice(len(TYPES), size=n, p=TYPE_P)
    p = weights * boost / (weights * boost).sum()
    keywords = rng.choice(len(rows_kw), size=n, p=p)
    districts = rng.choice(len(world.region.districts), size=n, p=world.district_p)
    return [one_row(world, rng, day, i + 1, times[i], TYPES[kinds[i]], rows_kw[keywords[i]],
                    world.region.districts[districts[i]], xlsx)
            for i in range(n) if times[i] <= world.window.cutoff]


def one_row(world: World, rng, day: date, seq: int, when: datetime, kind: str, keyword, district, xlsx: bool) -> list:
    uid = f"{day:%Y%m%d}{seq:04d}"
    stamp = when if xlsx else when.strftime("%Y-%m-%d %H:%M:%S")
    operator = agent(day, when.hour, rng)
    if kind != "emergency":
        seconds = rng.lognormal(np.log(CALL_SECONDS[kind]), 0.5)
        return [uid, stamp, kind, None, None, None, None, None, None, operator, duration_text(seconds)]
    seconds = 60 * rng.lognormal(np.log(MINUTES.get(keyword.category, 120)), 0.9)
    done = when + timedelta(seconds=float(seconds)) <= world.window.cutoff
    kel = district.subdistricts[int(rng.random() * len(district.subdistricts))] if district.subdistricts else ""
    kel = "" if chance(rng, 0.15) else kel.upper()
    lat, lon = coordinates(rng, district)
    sub = pick(rng, SUBS[keyword.text]) if keyword.text in SUBS else keyword.text.upper()
    return [uid, stamp, kind, keyword.text.upper(), sub, district_text(rng, district), kel, lat, lon, operator,
            duration_text(seconds) if done else None]


def coordinates(rng, district) -> tuple[float, float]:
    roll = rng.random()
    if roll < 0.10:
        return 0, 0
    lat = round(district.lat + float(rng.normal(0, 0.009)), 6)
    lon = round(district.lon + float(rng.normal(0, 0.009)), 6)
    return (lon, lat) if roll < 0.12 else (lat, lon)


def months(window: clock.Window) -> list[tuple[date, list[date]]]:
    grouped: dict[date, list[date]] = {}
    for day in window.days():
        grouped.setdefault(day.replace(day=1), []).append(day)
    return list(grouped.items())


def write(world: World, out_dir: Path) -> list[Path]:
    paths = []
    for month, days in months(world.window):
        current = month == world.window.end.replace(day=1)
        rows = [r for day in days for r in day_rows(world, day, xlsx=current)]
        name = out_dir / "call112" / f"call112-{month:%Y-%m}"
        if current:
            stamp = world.window.cutoff - clock.LOCAL_OFFSET
            paths.append(write_xlsx(name.with_suffix(".xlsx"), [COLUMNS] + rows, "Sheet1", stamp))
        else:
            paths.append(write_csv(name.with_suffix(".csv"), COLUMNS, rows, bom=True))
    return paths
