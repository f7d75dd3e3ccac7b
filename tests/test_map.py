"""The map: its SQL aggregates (SQLite and PostgreSQL), district polygons by region configuration, the page's
payload and privacy (Streamlit AppTest), and the page in a real Chromium (drawn, clickable districts).

The real Surabaya boundary file is never copied into the project: the configuration test builds a temporary
region folder around it when ../shared/real is there and skips otherwise.
"""
from __future__ import annotations

import json
import math
import random
import re
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import insert, select

from metrics import Filters, geo, queries
from models import Complaint, ReporterContact
from models.reference import sync_reference_data
from regions import load_region
from regions.geo import area_km2
from tests.conftest import PROJECT_ROOT, REAL_BOUNDARIES

TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2025, 3, 10, 5, 0, tzinfo=timezone.utc)
PERIOD = Filters(start=date(2025, 3, 1), end=date(2025, 3, 10))
IN_PERIOD = datetime(2025, 3, 5, 3, 0, tzinfo=timezone.utc)
BEFORE = datetime(2025, 2, 1, 3, 0, tzinfo=timezone.utc)
GENTENG = (-7.2576, 112.7418)
SURABAYA_BOX = (112.55, -7.40, 112.90, -7.10)  # west, south, east, north
MAP_WIDTH, MAP_HEIGHT = 800, 640  # as in pages/map.py: the view is fitted to this size
_serial = iter(range(1, 10**9))


def complaint(**fields) -> dict:
    """A complaint row with every required column; fields override."""
    n = next(_serial)
    row = {
        "channel": "wargaku", "source_id": f"T{n}", "received_at": IN_PERIOD, "kind": "complaint",
        "status": "in_progress", "category": "roads", "agency_code": "DSDABM", "district_code": "genteng",
        "lat": None, "lon": None, "title": None, "body": None, "response_due_at": None, "resolve_due_at": None,
        "first_response_at": None, "is_anonymous": False, "is_confidential": False, "row_hash": f"{n:032x}",
        "first_seen_at": IN_PERIOD, "last_changed_at": IN_PERIOD,
    }
    row.update(fields)
    return row


def add(engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Complaint.__table__), rows)


def cell_centre(lat: float, lon: float) -> tuple[float, float]:
    dlat, dlon = geo.cell_degrees(geo.CELL_M, GENTENG[0])
    return round(lat / dlat) * dlat, round(lon / dlon) * dlon


# --- density grid -----------------------------------------------------------------------------------


def test_grid_sums_to_the_located_complaints_of_the_period(engine):
    dlat, dlon = geo.cell_degrees(geo.CELL_M, GENTENG[0])
    centre = cell_centre(*GENTENG)
    near = [(centre[0] + f * dlat, centre[1] - f * dlon) for f in (-0.3, 0.0, 0.3)]  # one cell
    far = (centre[0] - 5 * dlat, centre[1] + 7 * dlon)  # ~2 km away
    add(engine, [
        *[complaint(lat=lat, lon=lon) for lat, lon in near],
        complaint(lat=far[0], lon=far[1], district_code="tegalsari", channel="lapor"),
        complaint(),  # no coordinates
        complaint(lat=0.0, lon=0.0),  # the 'no GPS' placeholder of 112 exports
        complaint(lat=centre[0], lon=centre[1], received_at=BEFORE),  # outside the period
        complaint(lat=centre[0], lon=centre[1], kind="emergency_call", channel="call112"),  # not a complaint kind
    ])

    grid = geo.density_grid(engine, PERIOD, TZ, geo.CELL_M, GENTENG[0])
    assert int(grid["count"].sum()) == 4
    assert sorted(grid["count"].tolist()) == [1, 3]
    top = grid.iloc[0]
    assert top["count"] == 3
    assert abs(top["lat"] - centre[0]) < 1e-9 and abs(top["lon"] - centre[1]) < 1e-9
    # every located complaint lies within its cell
    for lat, lon in [*near, far]:
        assert any(abs(lat - r.lat) <= dlat / 2 + 1e-9 and abs(lon - r.lon) <= dlon / 2 + 1e-9
                   for r in grid.itertuples())
    # the cell is about CELL_M metres wide
    assert dlat * geo.M_PER_DEG_LAT == pytest.approx(geo.CELL_M)

    assert int(geo.density_grid(engine, Filters(PERIOD.start, PERIOD.end, districts=("genteng",)), TZ,
                                geo.CELL_M, GENTENG[0])["count"].sum()) == 3
    assert int(geo.density_grid(engine, Filters(PERIOD.start, PERIOD.end, channels=("lapor",)), TZ)["count"].sum()) == 1


def test_grid_and_points_stay_small_however_many_complaints(engine):
    rng = random.Random(7)
    west, south, east, north = (112.70, -7.30, 112.78, -7.22)  # the centre: ~23 x 23 cells
    rows = [complaint(lat=rng.uniform(south, north), lon=rng.uniform(west, east),
                      received_at=IN_PERIOD + timedelta(minutes=i)) for i in range(3000)]
    add(engine, rows)

    grid = geo.density_grid(engine, PERIOD, TZ, geo.CELL_M, GENTENG[0])
    dlat, dlon = geo.cell_degrees(geo.CELL_M, GENTENG[0])
    cells_in_box = (math.ceil((north - south) / dlat) + 1) * (math.ceil((east - west) / dlon) + 1)
    assert int(grid["count"].sum()) == 3000
    assert len(grid) <= cells_in_box < 3000

    points = geo.recent_points(engine, PERIOD, NOW, TZ, limit=100)
    assert len(points) == 100
    assert points["age_h"].is_monotonic_increasing  # newest first
    newest = IN_PERIOD + timedelta(minutes=2999)
    assert points["age_h"].iloc[0] == pytest.approx((NOW - newest).total_seconds() / 3600)


# --- recent points ------------------------------------------------------------------------------------


def test_points_carry_coded_fields_only(engine):
    secret_title = "Jalan rusak depan rumah Pak Budi Santoso 081234567890"
    secret_body = "NIK 3578012345678901, hubungi +6281298765432 di Jl. Kenari 12"
    add(engine, [
        complaint(lat=-7.26581, lon=112.74236, title=secret_title, body=secret_body, status="new",
                  resolve_due_at=NOW - timedelta(hours=5), received_at=NOW - timedelta(hours=30)),
        complaint(lat=-7.2801, lon=112.7502, title=secret_title, body=secret_body, status="resolved",
                  received_at=NOW - timedelta(hours=2)),
    ])
    with engine.begin() as conn:
        ids = conn.execute(select(Complaint.__table__.c.id)).scalars().all()
        conn.execute(insert(ReporterContact.__table__), [
            {"complaint_id": i, "name": "Budi Santoso", "nik": "3578012345678901", "phone": "081234567890",
             "email": "budi@example.com", "address": "Jl. Kenari 12"} for i in ids])

    points = geo.recent_points(engine, PERIOD, NOW, TZ)
    assert list(points.columns) == geo.POINT_COLUMNS
    assert not {"title", "body", "name", "nik", "phone", "email", "address", "source_id", "id"} & set(points.columns)
    text = points.astype(str).to_string()
    for secret in ("Budi", "0812", "3578", "Kenari", "example.com"):
        assert secret not in text
    newest, older = points.iloc[0], points.iloc[1]
    assert newest["status"] == "resolved" and not newest["overdue"]
    assert older["status"] == "new" and older["overdue"]
    assert older["age_h"] == pytest.approx(30)
    assert (older["lat"], older["lon"]) == (-7.266, 112.742)  # rounded to ~100 m


# --- district values ----------------------------------------------------------------------------------


def test_district_values_match_a_hand_count(engine, surabaya):
    sync_reference_data(engine, surabaya)
    population = {d.code: d.population for d in surabaya.districts}
    add(engine, [
        complaint(status="new", resolve_due_at=NOW - timedelta(hours=1)),  # genteng, open, overdue
        complaint(status="in_progress", resolve_due_at=NOW + timedelta(days=3)),  # genteng, open, in time
        complaint(status="resolved"),  # genteng, done
        complaint(district_code="tegalsari", status="resolved"),
        complaint(district_code="tegalsari", status="resolved", received_at=BEFORE),  # outside the period
        complaint(district_code=None, status="resolved"),
    ])
    frame = queries.district_counts(engine, PERIOD, NOW, TZ).set_index("district_code")
    genteng, tegalsari = frame.loc["genteng"], frame.loc["tegalsari"]
    assert genteng["received"] == 3
    assert genteng["per_10k"] == pytest.approx(3 / population["genteng"] * 10_000)
    assert (genteng["open"], genteng["overdue"], genteng["overdue_share"]) == (2, 1, 0.5)
    assert tegalsari["received"] == 1 and tegalsari["open"] == 0 and pd.isna(tegalsari["overdue_share"])
    assert frame["received"].sum() == 4 and frame.attrs["unknown_district"] == 1
    assert set(frame.index) == set(population)
    assert set(geo.CHOROPLETH.values()) <= set(frame.columns)


# --- district polygons by configuration ---------------------------------------------------------------


def region_folder(tmp_path: Path, boundaries: str) -> Path:
    """A copy of the Surabaya region's districts with its own region.toml."""
    folder = tmp_path / "kota_uji"
    folder.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "regions" / "surabaya" / "districts.csv", folder)
    (folder / "region.toml").write_text(
        'name = "kota_uji"\ndisplay_name = "Kota Uji"\ntimezone = "Asia/Jakarta"\n'
        '[map]\nlat = -7.275\nlon = 112.74\nzoom = 11.5\n' + boundaries, encoding="utf-8")
    return folder


def inside_box(bbox) -> bool:
    west, south, east, north = SURABAYA_BOX
    return west <= bbox[0] < bbox[2] <= east and south <= bbox[1] < bbox[3] <= north


@pytest.mark.skipif(not REAL_BOUNDARIES.exists(), reason=f"real boundary file not present at {REAL_BOUNDARIES}")
def test_projected_boundary_file_by_configuration_only(tmp_path):
    folder = region_folder(tmp_path, '[boundaries]\nfile = "kecamatan_utm49s.geojson"\ncrs = "EPSG:32749"\n')
    shutil.copy(REAL_BOUNDARIES, folder / "kecamatan_utm49s.geojson")  # temporary, never in the project
    region = load_region(str(folder))

    collection = geo.district_geojson(region)
    assert collection["source"] == str(folder / "kecamatan_utm49s.geojson")
    codes = [f["properties"]["code"] for f in collection["features"]]
    assert sorted(codes) == sorted(d.code for d in region.districts)
    assert inside_box(collection["bbox"])
    polygons = {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]}
    centroids_inside = sum(polygons[d.code].contains(Point(d.lon, d.lat)) for d in region.districts)
    assert centroids_inside >= 28  # the centroid list is good to ~1 km; a wrong match would put most outside
    assert all(polygons[f["properties"]["code"]].contains(
        Point(f["properties"]["label_lon"], f["properties"]["label_lat"])) for f in collection["features"])
    total_km2 = sum(area_km2(g) for g in polygons.values())
    assert 300 < total_km2 < 370  # Surabaya: 335 km²
    assert len(json.dumps(collection)) < 80_000  # simplified for the browser

    wrong = region_folder(tmp_path / "wrong", '[boundaries]\nfile = "kecamatan_utm49s.geojson"\ncrs = "EPSG:4326"\n')
    shutil.copy(REAL_BOUNDARIES, wrong / "kecamatan_utm49s.geojson")
    with pytest.raises(ValueError):
        geo.district_geojson(load_region(str(wrong)))
    assert geo.district_geojson(load_region(str(wrong)), approximate=True)["source"] == "approximate"


def test_missing_boundary_file_falls_back_to_approximate_cells(tmp_path):
    region = load_region(str(region_folder(tmp_path, '[boundaries]\nfile = "missing.geojson"\ncrs = "EPSG:4326"\n')))
    collection = geo.district_geojson(region)
    assert collection["source"] == "approximate"
    assert len(collection["features"]) == len(region.districts)
    assert inside_box(collection["bbox"])


def test_default_region_uses_its_configured_wgs84_file(surabaya):
    collection = geo.district_geojson(surabaya)
    assert collection["source"] == str(surabaya.boundary_path())
    assert len(collection["features"]) == len(surabaya.districts)


def test_fit_view_shows_the_whole_bbox():
    bbox = [112.59, -7.35, 112.85, -7.18]
    view = geo.fit_view(bbox, MAP_WIDTH, MAP_HEIGHT)
    for lon, lat in [(bbox[0], bbox[1]), (bbox[2], bbox[3])]:
        x, y = pixel(view, lon, lat)
        assert abs(x) <= MAP_WIDTH / 2 and abs(y) <= MAP_HEIGHT / 2
    assert geo.fit_view(bbox, MAP_WIDTH, MAP_HEIGHT, max_zoom=9)["zoom"] == pytest.approx(8.9)


def pixel(view: dict, lon: float, lat: float) -> tuple[float, float]:
    """Offset in CSS pixels of (lon, lat) from the centre of a deck.gl Web Mercator view."""
    scale = 512 * 2 ** view["zoom"]
    dx = (lon - view["longitude"]) / 360 * scale
    dy = -(geo.mercator_y(lat) - geo.mercator_y(view["latitude"])) / (2 * math.pi) * scale
    return dx, dy


# --- the page without a browser: payload and privacy --------------------------------------------------


def run_page(seeded_url, monkeypatch, lang="id"):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("SIGAP_SEED", "0")
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "map.py"), default_timeout=120)
    today = datetime.now(TZ).date()
    app.session_state["filters"] = Filters(start=today - timedelta(days=89), end=today)
    app.session_state["lang"] = lang
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_page_payload_is_small_and_holds_no_personal_data(seeded_url, monkeypatch):
    from models.db import get_engine

    app = run_page(seeded_url, monkeypatch)
    spec = app.get("deck_gl_json_chart")[0].proto.json
    assert len(spec.encode()) < 400_000
    deck = json.loads(spec)
    assert deck["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in deck  # no basemap: works offline
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert {"districts", "density", "points", "names"} <= set(layers)
    assert len(layers["districts"]["data"]["features"]) == 31
    assert 0 < len(layers["points"]["data"]) <= geo.POINT_LIMIT
    assert set(layers["points"]["data"][0]) == {"p", "c", "d", "tip"}  # position, colour, district, tooltip

    c, r = Complaint.__table__.c, ReporterContact.__table__.c
    with get_engine(seeded_url).connect() as conn:
        texts = [v for v in conn.execute(select(c.title).union(select(c.body))).scalars() if v and len(v) >= 12]
        people = [v for row in conn.execute(select(r.name, r.nik, r.phone, r.email)) for v in row if v and len(v) >= 6]
    assert texts, "the seeded data should have complaint texts to look for"
    assert not [v for v in texts + people if v in spec]
    assert not re.search(r"\b\d{16}\b|\b08\d{8,11}\b", spec)  # no NIK, no phone number


def test_page_speaks_english_and_the_basemap_is_opt_in(seeded_url, monkeypatch):
    app = run_page(seeded_url, monkeypatch, lang="en")
    assert app.title[0].value == "Map"
    assert "Complaints" in app.markdown[0].value
    assert "Aduan" not in app.get("deck_gl_json_chart")[0].proto.json

    app.toggle(key="map_basemap").set_value(True).run()
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    assert deck["mapProvider"] == "carto" and "cartocdn.com" in deck["mapStyle"]
    app.toggle(key="map_show_points").set_value(False)
    app.toggle(key="map_show_density").set_value(False)
    app.run()
    layers = {layer["id"] for layer in json.loads(app.get("deck_gl_json_chart")[0].proto.json)["layers"]}
    assert layers == {"districts", "names"}


# --- the page in Chromium ----------------------------------------------------------------------------


def open_map(browser, url: str):
    """Open /map; a freshly started server may send the first sessions elsewhere (see the report), so retry."""
    from tests.browser import open_page

    for _ in range(6):
        page = open_page(browser, f"{url}/map", height=1250)
        if "Peta" in page.locator("h1").all_inner_texts():
            return page
        page.close()
    pytest.fail("the map page never opened")


def wait_until_drawn(page, min_colours: int = 40, seconds: float = 45) -> None:
    """Wait until the deck.gl canvas shows the map (many colours), not an empty or loading box."""
    from PIL import Image

    chart = page.locator("[data-testid=stDeckGlJsonChart]")
    chart.locator("canvas").first.wait_for(timeout=60_000)
    deadline = time.monotonic() + seconds
    colours = 0
    while time.monotonic() < deadline:
        shot = Image.open(BytesIO(chart.screenshot())).convert("RGB").quantize(colors=256)
        colours = len(shot.getcolors(256) or [])
        if colours >= min_colours:
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the map canvas was not drawn ({colours} colours)")


def wait_for_run(page) -> None:
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(800)


def district_pixel(page, code: str) -> tuple[float, float]:
    region = load_region("surabaya")
    collection = geo.district_geojson(region)
    view = geo.fit_view(collection["bbox"], MAP_WIDTH, MAP_HEIGHT, region.map_view.get("zoom"))
    feature = next(f for f in collection["features"] if f["properties"]["code"] == code)
    dx, dy = pixel(view, feature["properties"]["label_lon"], feature["properties"]["label_lat"])
    box = page.locator("[data-testid=stDeckGlJsonChart] canvas").first.bounding_box()
    return box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy


def click_district(page, code: str) -> None:
    """Point at the district, then click, as a hand on a mouse would (deck.gl picks what the pointer is over)."""
    x, y = district_pixel(page, code)
    page.mouse.move(x + 40, y + 40)
    page.mouse.move(x, y, steps=8)
    page.wait_for_timeout(400)
    page.mouse.click(x, y)


def test_map_draws_and_a_click_filters_every_page(dashboard, browser):
    from tests.browser import SCREENSHOTS, exceptions

    page = open_map(browser, dashboard.url)
    wait_until_drawn(page)
    assert exceptions(page) == []
    assert page.get_by_text("Jumlah aduan", exact=True).count() >= 1  # legend title
    assert page.locator("[data-testid=stDataFrame]").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)

    page.get_by_text("Aduan terbaru", exact=True).first.click()  # points off: the click must reach the polygon
    wait_for_run(page)
    wait_until_drawn(page)
    click_district(page, "sambikerep")
    page.wait_for_function("() => location.search.includes('district=sambikerep')", timeout=60_000)
    wait_for_run(page)
    page.get_by_text("Kecamatan terpilih: Sambikerep").first.wait_for(timeout=30_000)
    assert "Sambikerep" in page.locator("[data-testid=stSidebar]").inner_text()  # the shared filter shows it
    wait_until_drawn(page)
    assert exceptions(page) == []
    page.screenshot(path=str(SCREENSHOTS / "map_selected.png"), full_page=True)

    click_district(page, "sambikerep")  # the same district again clears the filter
    page.wait_for_function("() => !location.search.includes('district=')", timeout=60_000)
    wait_for_run(page)
    page.get_by_text("Kecamatan terpilih").first.wait_for(state="detached", timeout=30_000)
    page.close()
