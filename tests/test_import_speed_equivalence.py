"""The fast 112 import path gives exactly what the plain path gives.

The speed-ups (memoised cells and place resolution, the grid district lookup, fast paths for the export's date
and duration spellings, ComplaintIn.validated instead of model_validate) must not change a single stored value,
quarantine reason or raw content. Each is compared here with the path it replaces, on the benchmark's generated
112 rows (KEC. prefixes, 0/0 and swapped coordinates, blank places) plus awkward rows written for this test.
"""
from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.affinity
from sqlalchemy import select

from bench.data import CSV_COLUMNS, call112_lines
from connectors import connector_for
from connectors.generic import Places
from connectors.pipeline import PARSE_ERRORS, describe_error, run_import
from connectors.values import parse_datetime, parse_duration
from models import Complaint, ComplaintIn, QuarantinedRecord
from regions import load_region
from regions.geo import DistrictLocator, approximate_boundaries

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
VOLATILE = {"id", "first_seen_at", "last_changed_at", "last_run_id", "created_at"}


class Text(str):
    """A str subclass: the fast paths only take exact str, so this goes down the general path."""


# --- awkward rows ---------------------------------------------------------------------------------


def awkward_rows(region, rng: random.Random, n: int = 400) -> list[list[str]]:
    """112 rows with every odd cell the export and people produce, mixed at random."""
    districts = [d.name for d in region.districts]
    villages = [s.name for s in region.subdistricts]
    geoms = approximate_boundaries(region.districts)
    vertices = [xy for g in geoms.values() for xy in shapely.get_coordinates(g).tolist()]
    whens = ["2025-10-01 08:00:00", "2025-12-31 23:59:59", "2026-02-30 10:00:00", "01/02/2026 10:00",
             "2026-01-01T10:00:00Z", "2026-01-01T10:00:00+07:00", "", "  ", "2099-01-01 00:00:00",
             "1999-12-31 23:00:00", "45931.5", " 2025-11-01 10:00:00 ", "2025-11-01  10:00:00", "1 Okt 2025 08:00",
             "2025-13-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2025-10-01 08:00:00\x1f",
             "２０２５-10-01 08:00:00"]
    types = ["emergency", "EMERGENCY", " emergency ", "Prank Call", "prank", "ghost", "silent call", "information",
             "unknown type", "", "darurat", "Emergency\tCall"]
    categories = ["LAKA LANTAS", "KEBAKARAN", "POHON TUMBANG", "", "TIDAK DIKENAL", "x" * 260, "Kebakaran Rumah",
                  "BANJIR  ", "Kebakaran ✓"]
    subs = ["KECELAKAAN TUNGGAL", "", "POHON TUMBANG DI JALAN", "y" * 600, "  spasi  ", "sub\x07kategori"]
    places = ["", "  ", "LUAR KOTA", "GENTEN", "KECAMATAN TAMBAKSARI", "z" * 130] + [
        p for d in districts for p in (d.upper(), "KEC. " + d.upper(), d.lower())]
    kels = ["", "TIDAK ADA"] + [v.upper() for v in villages]
    durations = ["0 Hari : 1 Jam : 30 Menit : 0 Detik", "0 Hari : 0 Jam : 0 Menit : 41 Detik", "", "01:30:00", "90",
                 "-5", "0 hari : 1 jam : 0 menit : 0 detik", "99999999999 Hari : 0 Jam : 0 Menit : 0 Detik",
                 "4000 Hari : 0 Jam : 0 Menit : 0 Detik", " 0 Hari : 2 Jam : 0 Menit : 0 Detik ", "abc",
                 "0 Hari :1 Jam : 0 Menit : 0 Detik", "3660 Hari : 0 Jam : 0 Menit : 0 Detik",
                 "3660 Hari : 0 Jam : 0 Menit : 1 Detik", "1 Jam"]

    def coordinate() -> tuple[str, str]:
        roll = rng.random()
        if roll < 0.15:
            x, y = rng.choice(vertices)  # exactly on a boundary: the first district given wins
            return repr(y), repr(x)
        if roll < 0.3:
            return rng.choice([("0", "0"), ("", ""), ("0", ""), ("", "112.7"), ("abc", "112.7"), ("nan", "nan"),
                               ("inf", "112.7"), ("-7,25", "112,74"), ("112.74", "-7.25"), ("95", "200"),
                               ("-7.25 ", " 112.74"), ("0.0", "0.0"), ("1e-12", "0")])
        d = rng.choice(region.districts)
        return f"{d.lat + rng.gauss(0, 0.03):.6f}", f"{d.lon + rng.gauss(0, 0.03):.6f}"

    rows = []
    for i in range(n):
        uid = rng.choice([f"9{i:011d}", f"9{i:011d}", f" 9{i:011d} ", "", "9" * 81, f"9{i:05d}\x01", "DUP-1"])
        lat, lon = coordinate()
        agent = rng.choice(["AGT-01", "", "a" * 130, "AGT\x0b02"])
        rows.append([uid, rng.choice(whens), rng.choice(types), rng.choice(categories), rng.choice(subs),
                     rng.choice(places), rng.choice(kels), lat, lon, agent, rng.choice(durations)])
    return rows


def write_rows(path: Path, rows: list[list[str]], header=CSV_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def region():
    return load_region("surabaya")


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory, region) -> Path:
    """3,000 generated rows (the benchmark's file) and 400 awkward ones, shuffled, plus a few short rows."""
    rng = random.Random(112)
    generated = [next(csv.reader([line])) for line in call112_lines(3000, region, now=NOW)]
    rows = generated + awkward_rows(region, rng)
    rng.shuffle(rows)
    rows[5] = rows[5][:4]  # a short row: fewer cells than the header
    rows[9] = rows[9] + ["extra"]
    return write_rows(tmp_path_factory.mktemp("fast112") / "mixed.csv", rows)


def outcome(parse, raw: dict):
    """What the pipeline sees: the record's values, types, field order and fields_set, or the quarantine reason."""
    try:
        record = parse(raw)
    except PARSE_ERRORS as exc:
        return "quarantined", type(exc).__name__, describe_error(exc)
    values = record.__dict__
    return ("ok", list(values), {k: (type(v), getattr(v, "tzinfo", None), repr(v)) for k, v in values.items()},
            sorted(record.__pydantic_fields_set__), record.__pydantic_extra__, record.__pydantic_private__)


def fast_connector(region, path):
    """The fast path, with the district grid from the first lookup (it is normally built after 2,000)."""
    connector = connector_for("call112", region, source=path)
    connector.places.locator.GRID_AFTER = 1
    return connector


def exact_connector(region, path):
    """The plain path: parse_reference, with the locator's exact test instead of the grid."""
    connector = connector_for("call112", region, source=path)
    locator = connector.places.locator
    locator.district_at = lambda lat, lon: (None if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180)
                                            or (float(lat) == 0 and float(lon) == 0)
                                            else locator.exact_district_at(float(lat), float(lon)))
    connector.parse = connector.parse_reference
    return connector


# --- record by record -----------------------------------------------------------------------------


def test_fast_parse_gives_the_reference_records_and_reasons(region, mixed_csv):
    fast = fast_connector(region, mixed_csv)
    plain = exact_connector(region, mixed_csv)
    rows = list(fast.fetch(None))
    assert len(rows) == 3400
    same = [outcome(fast.parse, raw) == outcome(plain.parse, raw) for raw in rows]
    assert fast.places.locator._grid is not None
    assert all(same), f"{same.count(False)} rows differ, first {rows[same.index(False)]}"
    outcomes = [outcome(fast.parse, raw)[0] for raw in rows]
    assert outcomes.count("quarantined") > 100 and outcomes.count("ok") > 3000  # both paths were exercised
    # memoised values are never shared mutable state: parsing again gives the same again
    assert [outcome(fast.parse, raw) for raw in rows[:300]] == [outcome(plain.parse, raw) for raw in rows[:300]]


def test_a_header_with_two_columns_for_one_field_takes_the_first_filled(region, tmp_path):
    """KEC and KECAMATAN both present: the row reader steps aside and value()'s rule applies."""
    header = [*CSV_COLUMNS, "KEC"]
    rows = [["1001", "2025-10-01 08:00:00", "emergency", "KEBAKARAN", "", "", "", "", "", "AGT-01", "", "GENTENG"],
            ["1002", "2025-10-01 08:00:00", "emergency", "KEBAKARAN", "", "TEGALSARI", "", "", "", "AGT-01", "",
             "GENTENG"]]
    path = write_rows(tmp_path / "two.csv", rows, header)
    fast, plain = fast_connector(region, path), exact_connector(region, path)
    raws = list(fast.fetch(None))
    assert fast._reader is None
    assert [outcome(fast.parse, r) for r in raws] == [outcome(plain.parse, r) for r in raws]
    assert [fast.parse(r).district_raw for r in raws] == ["GENTENG", "TEGALSARI"]


def test_xlsx_cells_take_the_general_paths(region):
    """Numbers, datetimes and None (what calamine gives for xlsx) parse as before."""
    connector = fast_connector(region, None)
    plain = exact_connector(region, None)
    base = {"uid": 20251001001.0, "waktu_lapor": datetime(2025, 10, 1, 8, 0), "tipe_laporan": "emergency",
            "kategori": "KEBAKARAN", "sub_kategori_1": None, "kecamatan": "GENTENG", "kelurahan": None,
            "latitude": -7.2575, "longitude": 112.7468, "agent_l1": 7.0, "durasi_pengerjaan": 5400.0}
    variants = [base, {**base, "waktu_lapor": 45931.5}, {**base, "latitude": 0.0, "longitude": 0.0},
                {**base, "durasi_pengerjaan": timedelta(hours=2)}, {**base, "latitude": float("nan")},
                {**base, "tipe_laporan": 1.0}, {**base, "kecamatan": 1.0}, {**base, "uid": None},
                {**base, "durasi_pengerjaan": -1.0}, {**base, "waktu_lapor": True}]
    for raw in variants:
        assert outcome(connector.parse, raw) == outcome(plain.parse, raw), raw


# --- the pieces -----------------------------------------------------------------------------------


def test_export_date_and_duration_fast_paths_match_the_general_parsers():
    zone = load_region("surabaya").timezone
    texts = ["2025-10-01 08:00:00", "2026-02-29 10:00:00", "2024-02-29 10:00:00", "2025-13-01 00:00:00",
             "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2025-10-01 24:00:00", "٢٠٢٥-10-01 08:00:00"]
    for value in texts:
        for tz in (zone, timezone.utc, timezone(timedelta(hours=-5))):
            assert _result(parse_datetime, value, tz, "W") == _result(parse_datetime, Text(value), tz, "W"), value
    durations = ["0 Hari : 1 Jam : 30 Menit : 0 Detik", "3660 Hari : 0 Jam : 0 Menit : 0 Detik",
                 "3660 Hari : 0 Jam : 0 Menit : 1 Detik", "99999999999 Hari : 0 Jam : 0 Menit : 0 Detik",
                 "0 Hari : 99999999999999999999 Jam : 0 Menit : 0 Detik", "٣ Hari : 0 Jam : 0 Menit : 0 Detik",
                 "0 Hari : 0 Jam : 75 Menit : 120 Detik"]
    for value in durations:
        assert _result(parse_duration, value, "D") == _result(parse_duration, Text(value), "D"), value


def _result(function, *args):
    try:
        return "ok", function(*args)
    except PARSE_ERRORS as exc:
        return type(exc).__name__, str(exc)


def test_places_memo_gives_what_resolving_each_time_gives(region):
    rng = random.Random(7)
    memo, plain = Places(region, connector_for("call112", region).resolver), Places(region, None)
    plain.resolver = memo.resolver
    names = [None, "", "GENTENG", "KEC. GENTENG", "LUAR KOTA", "TEGALSARI", "genten"]
    villages = [None, "", "KETABANG", "TIDAK ADA"] + [s.name.upper() for s in region.subdistricts[:30]]
    for _ in range(3000):
        district, village = rng.choice(names), rng.choice(villages)
        d = rng.choice(region.districts)
        lat, lon = rng.choice([(None, None), (d.lat + rng.gauss(0, 0.02), d.lon + rng.gauss(0, 0.02))])
        prefer = rng.random() < 0.7
        expected = plain._resolve(plain.resolver.district(district) if district else None,
                                  plain.district_at(lat, lon) if lat is not None and (
                                      prefer or not (plain.resolver.district(district) if district else None))
                                  else None, village, None)
        assert memo.resolve(district, village, lat, lon, prefer_point=prefer) == expected
    assert memo.resolve(None, None, text_hint="di kecamatan genteng") == plain._resolve(None, None, None,
                                                                                          "di kecamatan genteng")


@pytest.mark.parametrize("layer", ["surabaya", "squares"])
def test_grid_lookup_gives_the_exact_answer(layer):
    if layer == "surabaya":
        boundaries = approximate_boundaries(load_region("surabaya").districts)
    else:  # shared edges and corners, a hole, and a district overlapping another: the first given wins
        boundaries = {"a": shapely.box(0, 0, 1, 1), "b": shapely.box(1, 0, 2, 1),
                      "c": shapely.box(0, 1, 2, 2).difference(shapely.box(0.5, 1.2, 0.7, 1.4)),
                      "d": shapely.box(1.5, 0.5, 2.5, 1.5)}
        boundaries = {code: shapely.affinity.translate(g, 10, 10) for code, g in boundaries.items()}
    locator = DistrictLocator(boundaries)
    locator._grid = locator._build_grid()
    xmin, ymin, xmax, ymax = shapely.total_bounds(list(boundaries.values()))
    rng = np.random.default_rng(3)
    n = 20_000
    lons = np.concatenate([rng.uniform(xmin - 0.05, xmax + 0.05, n),
                           *[shapely.get_coordinates(g)[:, 0] for g in boundaries.values()]])
    lats = np.concatenate([rng.uniform(ymin - 0.05, ymax + 0.05, n),
                           *[shapely.get_coordinates(g)[:, 1] for g in boundaries.values()]])
    # points on cell edges of the grid itself
    x0, y0, sx, sy, cells_per_side, _ = locator._grid
    edges = np.arange(cells_per_side + 1)
    lons = np.concatenate([lons, x0 + edges / sx, x0 + edges / sx])
    lats = np.concatenate([lats, y0 + edges / sy, y0 + edges[::-1] / sy])
    grid = [locator.district_at(lat, lon) for lat, lon in zip(lats.tolist(), lons.tolist())]
    exact = [None if lat == lon == 0 else locator.exact_district_at(lat, lon)
             for lat, lon in zip(lats.tolist(), lons.tolist())]
    assert grid == exact
    assert grid == locator.districts_at(lats, lons)
    assert sum(code is not None for code in grid) > n / 3
    for bad in [(0, 0), (math.nan, 1), (None, 1), ("x", 1), (91, 0), (0, 181)]:
        assert locator.district_at(*bad) is None


def test_validated_builds_what_model_validate_builds():
    received = NOW - timedelta(days=2)
    base = dict(channel="call112", source_id="2026010100001", received_at=received, kind="emergency_call",
                source_type="emergency", category="kebakaran", category_raw="KEBAKARAN", title="KEBAKARAN",
                status="resolved", district_code="genteng", district_raw="GENTENG", subdistrict="Ketabang",
                lat=-7.25, lon=112.74, agency_code="dpkp", source_detail="AGT-01", first_response_at=received,
                resolved_at=received + timedelta(hours=1), closed_at=received + timedelta(hours=1),
                response_due_at=received + timedelta(minutes=15), resolve_due_at=received + timedelta(hours=24))
    jakarta = timezone(timedelta(hours=7))
    variants = [
        {}, {"lat": None, "lon": None}, {"lat": 0.0, "lon": 0.0}, {"lat": 112.74, "lon": -7.25}, {"lat": None},
        {"lat": float("nan")}, {"lat": 95.0, "lon": 200.0}, {"lat": -7}, {"lat": "-7.25"}, {"title": None},
        {"title": ""}, {"title": " x "}, {"title": "t" * 500}, {"title": "t" * 501}, {"source_id": " 1 "},
        {"source_id": ""}, {"source_id": None}, {"source_id": "9" * 80}, {"source_id": "9" * 81}, {"source_id": 12},
        {"channel": "c" * 41}, {"kind": "nope"}, {"kind": None}, {"status": "nope"}, {"status": "resolved "},
        {"category": "c" * 41}, {"category": "kebakaran\ud800"}, {"district_raw": "Genteng ✓"},
        {"subdistrict": "s" * 121}, {"received_at": received.astimezone(jakarta)},
        {"received_at": received.replace(tzinfo=None)}, {"received_at": datetime(1999, 1, 1, tzinfo=timezone.utc)},
        {"received_at": datetime.now(timezone.utc) + timedelta(hours=2)}, {"received_at": "2026-01-01T00:00:00Z"},
        {"first_response_at": received - timedelta(minutes=6)}, {"closed_at": received - timedelta(minutes=4)},
        {"resolved_at": None, "closed_at": None}, {"is_anonymous": True}, {"is_anonymous": 1},
        {"is_confidential": None}, {"body": "b" * 100_001}, {"body": " body "}, {"body": "body"},
        {"reporter": None}, {"reporter": {"name": "Budi"}}, {"reporter": {}}, {"unknown_field": 1},
        {"classification": "Aspirasi", "status_raw": "Selesai", "agency_raw": "Dinas"},
    ]
    for change in variants:
        fields = {**base, **change}
        assert _validation(ComplaintIn.validated, fields) == _validation(ComplaintIn.model_validate, fields), change
    dropped = {k: v for k, v in base.items() if k not in ("title", "lat", "lon", "received_at")}
    assert _validation(ComplaintIn.validated, dropped) == _validation(ComplaintIn.model_validate, dropped)


def _validation(function, fields: dict):
    try:
        record = function(dict(fields))
    except PARSE_ERRORS as exc:
        return type(exc).__name__, describe_error(exc)
    return ({k: (type(v), getattr(v, "tzinfo", None), repr(v)) for k, v in record.__dict__.items()},
            list(record.__dict__), record.__pydantic_fields_set__, record.__pydantic_extra__,
            record.__pydantic_private__, record.model_dump())


# --- end to end: the stored rows ------------------------------------------------------------------


def test_the_same_file_stores_the_same_rows_and_quarantine(region, mixed_csv, tmp_path):
    from models.db import get_engine, prepare_database

    stored = []
    for name, make in (("fast", lambda: fast_connector(region, mixed_csv)),
                       ("plain", lambda: exact_connector(region, mixed_csv))):
        engine = prepare_database(get_engine(f"sqlite:///{tmp_path / name}.db"), region)
        summary = run_import(make(), engine, source=str(mixed_csv))
        assert summary.state == "succeeded" and summary.reconciles
        with engine.connect() as conn:
            complaints = [{k: v for k, v in row.items() if k not in VOLATILE} for row in conn.execute(
                select(Complaint.__table__).order_by(Complaint.source_id)).mappings()]
            quarantined = [(row["reason"], row["raw"]) for row in conn.execute(
                select(QuarantinedRecord.__table__).order_by(QuarantinedRecord.id)).mappings()]
        engine.dispose()
        stored.append((summary.as_dict() | {"run_id": None}, complaints, quarantined))
    assert stored[0] == stored[1]
    summary, complaints, quarantined = stored[0]
    assert summary["quarantined"] == len(quarantined) > 100 and len(complaints) > 3000
