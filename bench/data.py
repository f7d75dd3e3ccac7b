"""Fast, vectorised benchmark data: N realistic complaints as validated records, and N-row 112 CSV files.

Realistic means the shapes and proportions the sample-data generator (sample_data/) writes: a channel mix
dominated by 112 calls and Wargaku, a year of receipts ending now with daytime peaks, statuses that move from
open to resolved with age, log-normal response and resolution times, SLA due times from the region's own
rules, districts / agencies / categories from the region files, coordinates for about half, reporter
contacts for the app channels. Everything is drawn with numpy in bulk (a million rows in seconds); only the
final `ComplaintIn` validation runs per record, and it is timed on its own (`validate_s`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from models import ComplaintIn
from models.tables import ComplaintBase
from regions import Region, load_region
from regions.sla import SlaBook

FIELDS = tuple(ComplaintBase.model_fields)
TIME_FIELDS = ("received_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolve_due_at")
# Channel shares of all records (112 calls are about half of what a city's command centre logs).
CHANNELS = {"call112": 0.45, "wargaku": 0.22, "lapor": 0.12, "mediacenter": 0.09, "social": 0.06,
            "jss": 0.03, "open311": 0.03}
ID_PREFIX = {"call112": "", "wargaku": "WGK-", "lapor": "LPR-", "mediacenter": "MC-", "social": "SOC-",
             "jss": "JSS-", "open311": "311-"}
WINDOW_DAYS = 365
CALL_TYPES = np.array(["emergency", "information", "prank", "ghost", "silent call"], dtype=object)
CALL_TYPE_P = np.array([0.45, 0.08, 0.22, 0.15, 0.10])
OPEN = np.array(["new", "verified", "dispatched", "in_progress", "waiting_info"], dtype=object)
OPEN_P = np.array([0.15, 0.2, 0.3, 0.3, 0.05])
TERMINAL = np.array(["resolved", "closed", "archived", "rejected"], dtype=object)
TERMINAL_P = np.array([0.55, 0.33, 0.07, 0.05])
RESPONDED = ["in_progress", "resolved", "closed"]
CLASSIFICATIONS = np.array(["Pengaduan Tidak Berkadar Pengawasan", "Pengaduan Berkadar Pengawasan",
                            "Permintaan Informasi", "Aspirasi"], dtype=object)
CLASSIFICATION_P = np.array([0.72, 0.08, 0.12, 0.08])
KIND_OF_CLASSIFICATION = {"Permintaan Informasi": "information_request", "Aspirasi": "aspiration"}
# hour-of-day profile (local time): quiet nights, morning and evening peaks
HOUR_P = np.array([1, .6, .4, .35, .4, .7, 1.4, 2.4, 3.4, 3.8, 3.9, 3.7, 3.3, 3.2, 3.3, 3.2, 3.0, 3.0, 3.2,
                   3.3, 3.0, 2.4, 1.8, 1.3])
HOUR_P = HOUR_P / HOUR_P.sum()
WORDS = ("jalan rusak berlubang di depan rumah warga sudah lama tidak diperbaiki mohon segera ditindaklanjuti "
         "saluran air mampet banjir setiap hujan lampu penerangan jalan mati sampah menumpuk di pinggir jalan "
         "pohon tumbang menghalangi jalan kabel menjuntai membahayakan pengendara parkir liar di trotoar "
         "pedagang kaki lima mengganggu pejalan kaki air pdam tidak mengalir sejak kemarin bau tidak sedap "
         "terima kasih atas perhatiannya kami warga rt rw kelurahan kecamatan surabaya").split()
BODY_POOL = 8192
FIRST_NAMES = ("Budi Siti Agus Dewi Rudi Sri Eko Wati Joko Rina Hadi Yuni Andi Lina Teguh Ratna Bambang Nur "
               "Dian Fitri Wahyu Indah Arif Putri").split()
LAST_NAMES = "Santoso Wijaya Hidayat Susanti Pratama Lestari Saputra Rahayu Kurniawan Setiawan Purnomo".split()


@dataclass
class Dataset:
    """The generated complaints: validated records per channel (oldest first) and how long validation took."""

    records: dict[str, list[ComplaintIn]]
    validate_s: float

    @property
    def n(self) -> int:
        return sum(len(r) for r in self.records.values())


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)


def _sla_hours(book: SlaBook, channel, kind, classification, category) -> tuple[float, float]:
    """The first matching SLA rule's response and resolve durations in hours (working days counted as 7/5
    calendar days, like the response-times page's target lines); NaN for no target."""
    rule = book.rule_for(channel, kind, classification, category)

    def hours(duration):
        if duration is None:
            return np.nan
        return float(duration.hours) if duration.hours is not None else duration.working_days * 24 * 7 / 5

    return (np.nan, np.nan) if rule is None else (hours(rule.response), hours(rule.resolve))


def _after(start: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """start + hours as datetime64[s]; NaN hours give NaT."""
    missing = np.isnan(hours)
    delta = np.round(np.where(missing, 0, hours) * 3600).astype("int64").astype("timedelta64[s]")
    delta[missing] = np.timedelta64("NaT")
    return start + delta


def complaint_columns(n: int, region: Region | None = None, now: datetime | None = None,
                      seed: int = 7) -> dict[str, np.ndarray]:
    """N complaints as columns named like ComplaintIn's fields (times as UTC datetime64[s], NaT = none),
    plus `reporter_name` / `reporter_phone` (None = no reporter), sorted by receipt."""
    region = region or load_region("surabaya")
    rng = np.random.default_rng(seed)
    now = _now(now)
    now64 = np.datetime64(now.replace(tzinfo=None), "s")
    channels = np.array(list(CHANNELS), dtype=object)
    channel = channels[rng.choice(len(channels), size=n, p=np.array(list(CHANNELS.values())))]

    # receipt: a day of the last year (more recent days busier), a local hour from the daily profile
    offset = region.timezone.utcoffset(now.replace(tzinfo=None))
    local_today = np.datetime64((now + offset).date(), "D")
    day = local_today - (WINDOW_DAYS - 1) + np.floor(WINDOW_DAYS * np.sqrt(rng.random(n))).astype("int64")
    seconds = rng.choice(24, size=n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
    received = (day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
                - np.timedelta64(int(offset.total_seconds()), "s"))
    late = received > now64 - np.timedelta64(60, "s")
    received[late] = now64 - rng.integers(60, 6 * 3600, int(late.sum())).astype("timedelta64[s]")
    order = np.argsort(received, kind="stable")
    channel, received = channel[order], received[order]
    age_d = (now64 - received).astype("float64") / 86400

    is112 = channel == "call112"
    call_type = np.where(is112, CALL_TYPES[rng.choice(len(CALL_TYPES), size=n, p=CALL_TYPE_P)], None)
    emergency = is112 & (call_type == "emergency")
    plain_call = is112 & ~emergency
    classification = np.where(channel == "lapor", CLASSIFICATIONS[rng.choice(4, size=n, p=CLASSIFICATION_P)], None)
    kind = np.full(n, "complaint", dtype=object)
    for text, k in KIND_OF_CLASSIFICATION.items():
        kind[classification == text] = k
    kind[plain_call] = "non_emergency_call"
    kind[emergency] = "emergency_call"

    # category and agency from the region's category map (the channel's own rows, else the shared ones)
    default_agency = {c.code: c.default_agency for c in region.categories}
    category, category_raw, agency = (np.full(n, None, dtype=object) for _ in range(3))
    for ch in channels:
        rows = [m for m in region.category_map if m.channel == ch] or [m for m in region.category_map
                                                                        if m.channel == "*"]
        idx = np.flatnonzero(channel == ch)
        pick = rng.integers(0, len(rows), idx.size)
        category[idx] = np.array([m.category for m in rows], dtype=object)[pick]
        raw = [m.source_category.upper() if ch == "call112" else m.source_category for m in rows]
        category_raw[idx] = np.array(raw, dtype=object)[pick]
        agency[idx] = np.array([m.agency or default_agency.get(m.category) for m in rows], dtype=object)[pick]
    category[plain_call] = category_raw[plain_call] = agency[plain_call] = None
    agency[(channel == "lapor") & (rng.random(n) < 0.15)] = None  # not routed yet
    agency_names = {a.code: a.name for a in region.agencies}
    codes = np.array([None, *agency_names], dtype=object)
    agency_index = pd.Index(codes).get_indexer(agency)
    agency_raw = np.array([None, *agency_names.values()], dtype=object)[agency_index]

    # place: district by population, one of its villages, a point near its centre for about half
    districts = region.districts
    population = np.array([d.population or 1 for d in districts], dtype=float)
    d_index = rng.choice(len(districts), size=n, p=population / population.sum())
    district_code = np.array([d.code for d in districts], dtype=object)[d_index]
    district_raw = np.array([d.name.upper() for d in districts], dtype=object)[d_index]
    villages = [[s.name for s in region.subdistricts if s.district_code == d.code] or [None] for d in districts]
    width = max(len(v) for v in villages)
    village_table = np.array([[v[i % len(v)] for i in range(width)] for v in villages], dtype=object)
    subdistrict = village_table[d_index, rng.integers(0, width, n)]
    unmapped = rng.random(n) < 0.03
    district_raw[unmapped] = "LUAR KOTA"
    district_code[unmapped] = subdistrict[unmapped] = None
    no_place = plain_call | ((channel == "lapor") & (rng.random(n) < 0.7))
    district_code[no_place] = district_raw[no_place] = subdistrict[no_place] = None
    located = ~no_place & ~unmapped & (rng.random(n) < np.where(emergency, 0.9, 0.45))
    lat = np.where(located, np.round(np.array([d.lat for d in districts])[d_index] + rng.normal(0, 0.009, n), 6),
                   np.nan)
    lon = np.where(located, np.round(np.array([d.lon for d in districts])[d_index] + rng.normal(0, 0.009, n), 6),
                   np.nan)

    # status: open with a probability falling with age; terminal ones mostly resolved
    is_open = rng.random(n) < 0.04 + 0.9 * np.exp(-age_d / 6)
    status = np.where(is_open, OPEN[rng.choice(5, size=n, p=OPEN_P)], TERMINAL[rng.choice(4, size=n, p=TERMINAL_P)])
    status[emergency] = np.where(rng.random(int(emergency.sum())) < np.minimum(1, age_d[emergency] * 20),
                                 "resolved", "in_progress")
    status[plain_call] = "closed"

    # times: response and resolution hours, log-normal, never later than now
    median_resp_h = np.where(is112, 0.05, np.where(channel == "wargaku", 6.0, 30.0))
    median_res_h = np.where(emergency, 2.0, np.where(channel == "wargaku", 60.0, 200.0))
    response_h = rng.lognormal(np.log(median_resp_h), 1.0)
    resolve_h = np.maximum(response_h, rng.lognormal(np.log(median_res_h), 1.1))
    resolve_h = np.where(plain_call, rng.lognormal(np.log(60), 0.6, n) / 3600, resolve_h)
    response_h = np.where(plain_call, 0.0, np.minimum(response_h, age_d * 24))
    resolve_h = np.minimum(resolve_h, age_d * 24)
    responded = np.isin(status, RESPONDED)
    known_response = responded & ((channel != "lapor") | (rng.random(n) < 0.35))  # LAPOR: first seen answered
    done = np.isin(status, ["resolved", "closed"])
    known_resolution = done & ((channel != "lapor") | (rng.random(n) < 0.4))
    first_response = _after(received, np.where(known_response, response_h, np.nan))
    resolved_at = _after(received, np.where(known_resolution, resolve_h, np.nan))
    closed_at = np.where(done, resolved_at, np.datetime64("NaT"))

    # SLA due times from the region's rules
    book = SlaBook(region)
    resp_due_h, res_due_h = np.full(n, np.nan), np.full(n, np.nan)
    keys = pd.DataFrame({"c": channel, "k": kind, "cl": classification, "cat": category}).fillna("\0")
    for key, idx in keys.groupby(["c", "k", "cl", "cat"]).indices.items():
        c, k, cl, cat = (None if v == "\0" else v for v in key)
        resp_due_h[idx], res_due_h[idx] = _sla_hours(book, c, k, cl, cat)

    # text: a title from the category text, a body of 15-60 words for the written channels
    words = np.array(WORDS, dtype=object)
    pool = np.array([" ".join(words[(s + np.arange(k)) % len(words)]) for s, k in
                     zip(rng.integers(0, len(WORDS), BODY_POOL), rng.integers(15, 60, BODY_POOL))], dtype=object)
    body = np.where(is112, None, pool[rng.integers(0, BODY_POOL, n)])
    title = np.where(plain_call, None, category_raw)

    local_day = pd.DatetimeIndex(received + np.timedelta64(int(offset.total_seconds()), "s")).strftime("%Y%m%d")
    prefix = pd.Series(channel).map(ID_PREFIX)
    source_id = (prefix + pd.Series(local_day) + pd.Series(np.arange(n) % 10_000_000).astype(str).str.zfill(7))
    has_reporter = np.isin(channel, ["wargaku", "mediacenter", "jss"]) & (rng.random(n) < 0.6)
    who = rng.integers(0, 1 << 30, n)
    names = np.array([f"{a} {b}" for a in FIRST_NAMES for b in LAST_NAMES], dtype=object)
    agents = np.array([f"AGT-{i:02d}" for i in range(1, 19)], dtype=object)
    return {
        "channel": channel, "source_id": source_id.to_numpy(dtype=object), "received_at": received, "kind": kind,
        "source_type": call_type, "classification": classification, "category": category,
        "category_raw": category_raw, "title": title, "body": body, "status": status, "status_raw": status,
        "district_code": district_code, "district_raw": district_raw, "subdistrict": subdistrict,
        "lat": lat, "lon": lon, "agency_code": agency, "agency_raw": agency_raw,
        "source_detail": np.where(is112, agents[rng.integers(0, 18, n)], None),
        "first_response_at": first_response, "resolved_at": resolved_at, "closed_at": closed_at,
        "response_due_at": _after(received, resp_due_h), "resolve_due_at": _after(received, res_due_h),
        "is_anonymous": (channel == "lapor") & (rng.random(n) < 0.2),
        "is_confidential": (channel == "lapor") & (rng.random(n) < 0.05),
        "reporter_name": np.where(has_reporter, names[who % len(names)], None),
        "reporter_phone": np.where(has_reporter, np.char.add("08", np.char.zfill((who % 10**10).astype(str), 10))
                                   .astype(object), None),
    }


def _python(values: np.ndarray) -> list:
    """A column as Python values: aware UTC datetimes, floats, bools, str; None for NaT / NaN."""
    if values.dtype.kind == "M":
        out = pd.DatetimeIndex(values).tz_localize("UTC").to_pydatetime()
        return [None if v is pd.NaT else v for v in out]
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]
    return values.tolist()


def records(columns: dict[str, np.ndarray]) -> Dataset:
    """Validate every row into a ComplaintIn (the same model every connector returns), grouped per channel."""
    data = {f: _python(columns[f]) for f in FIELDS}
    names, phones = columns["reporter_name"].tolist(), columns["reporter_phone"].tolist()
    rows = [dict(zip(FIELDS, values)) for values in zip(*(data[f] for f in FIELDS))]
    for row, name, phone in zip(rows, names, phones):
        if name is not None:
            row["reporter"] = {"name": name, "phone": phone}
    validate = ComplaintIn.model_validate
    started = time.perf_counter()
    out: dict[str, list[ComplaintIn]] = {}
    for row in rows:
        out.setdefault(row["channel"], []).append(validate(row))
    return Dataset(out, time.perf_counter() - started)


def dataset(n: int, region: Region | None = None, now: datetime | None = None, seed: int = 7) -> Dataset:
    return records(complaint_columns(n, region, now, seed))


# --- 112 CSV files -----------------------------------------------------------------------------------

CSV_COLUMNS = ["UID", "WAKTU LAPOR", "TIPE LAPORAN", "KATEGORI", "SUB KATEGORI 1", "KECAMATAN", "KELURAHAN",
               "LATITUDE", "LONGITUDE", "AGENT L1", "DURASI PENGERJAAN"]


def call112_lines(n: int, region: Region | None = None, now: datetime | None = None, seed: int = 11) -> list[str]:
    """N data lines of a Command Center 112 incident log (sample_data/FORMATS.md), oldest first."""
    region = region or load_region("surabaya")
    rng = np.random.default_rng(seed)
    local_now = _now(now).astimezone(region.timezone).replace(tzinfo=None)
    today = np.datetime64(local_now.date(), "D")
    day_index = np.sort(rng.integers(0, WINDOW_DAYS, n))
    second = rng.choice(24, size=n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
    start = np.datetime64(local_now.replace(microsecond=0), "s") - np.timedelta64(WINDOW_DAYS * 86400, "s")
    when = (today - (WINDOW_DAYS - 1) + day_index).astype("datetime64[s]") + second.astype("timedelta64[s]")
    too_late = when > np.datetime64(local_now, "s")
    when[too_late] = start + rng.integers(0, 86400, int(too_late.sum())).astype("timedelta64[s]")
    day_of = (when.astype("datetime64[D]") - (today - WINDOW_DAYS)).astype(int)
    order = np.lexsort((when, day_of))
    when, day_of = when[order], day_of[order]
    days = [str(d) for d in np.arange(today - WINDOW_DAYS, today + 1)]
    compact = [d.replace("-", "") for d in days]
    clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    sec_of_day = (when - when.astype("datetime64[D]")).astype(int)
    seq = pd.Series(day_of).groupby(day_of).cumcount().to_numpy() + 1

    call_type = CALL_TYPES[rng.choice(len(CALL_TYPES), size=n, p=CALL_TYPE_P)]
    emergency = call_type == "emergency"
    keywords = [m.source_category.upper() for m in region.category_map if m.channel == "call112"]
    keyword = np.array(keywords, dtype=object)[rng.integers(0, len(keywords), n)]
    districts = region.districts
    population = np.array([d.population or 1 for d in districts], dtype=float)
    d_index = rng.choice(len(districts), size=n, p=population / population.sum())
    name_roll = rng.random(n)
    names = np.array([d.name.upper() for d in districts], dtype=object)[d_index]
    names = np.where(name_roll < 0.06, "KEC. " + names, names)
    names = np.where(name_roll > 0.95, "", names)
    villages = [[s.name.upper() for s in region.subdistricts if s.district_code == d.code] or [""] for d in districts]
    width = max(len(v) for v in villages)
    kel = np.array([[v[i % len(v)] for i in range(width)] for v in villages], dtype=object)[
        d_index, rng.integers(0, width, n)]
    kel = np.where(rng.random(n) < 0.15, "", kel)
    lat = np.round(np.array([d.lat for d in districts])[d_index] + rng.normal(0, 0.009, n), 6)
    lon = np.round(np.array([d.lon for d in districts])[d_index] + rng.normal(0, 0.009, n), 6)
    gps_roll = rng.random(n)
    lat, lon = np.where(gps_roll < 0.10, 0, lat), np.where(gps_roll < 0.10, 0, lon)
    lat, lon = np.where((gps_roll >= 0.10) & (gps_roll < 0.12), lon, lat), np.where(
        (gps_roll >= 0.10) & (gps_roll < 0.12), lat, lon)  # ~2 % swapped
    seconds = np.where(emergency, 60 * rng.lognormal(np.log(120), 0.9, n), rng.lognormal(np.log(40), 0.7, n))
    seconds = seconds.astype("int64")
    finished = when + seconds.astype("timedelta64[s]") <= np.datetime64(local_now, "s")
    agent = rng.integers(1, 19, n)
    lines = []
    for uid_day, stamp_day, sec, seq_no, kind, kw, name, village, y, x, secs, done, op, urgent in zip(
            [compact[d] for d in day_of],
            [days[d] for d in day_of], sec_of_day.tolist(), seq.tolist(), call_type.tolist(), keyword.tolist(),
            names.tolist(), kel.tolist(), lat.tolist(), lon.tolist(), seconds.tolist(), finished.tolist(),
            agent.tolist(), emergency.tolist()):
        duration = (f"{secs // 86400} Hari : {secs % 86400 // 3600} Jam : {secs % 3600 // 60} Menit : "
                    f"{secs % 60} Detik" if done else "")
        place = f"{kw},{kw},{name},{village},{y},{x}" if urgent else ",,,,,"
        lines.append(f"{uid_day}{seq_no:05d},{stamp_day} {clock[sec]},{kind},{place},AGT-{op:02d},{duration}\n")
    return lines


def write_call112_csv(path: Path, n: int, region: Region | None = None, now: datetime | None = None,
                      seed: int = 11) -> Path:
    """Write an N-row 112 CSV: UTF-8 with BOM, comma-separated, \\n line ends, the export's header row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(",".join(CSV_COLUMNS) + "\n")
        handle.writelines(call112_lines(n, region, now, seed))
    return path
