"""District geometry: boundary loading and reprojection, the approximate layer, point lookup.

The real Surabaya boundary file is never part of the project; the tests read it from ../shared/real
beside the project when it is there and skip otherwise.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, shape

from regions import geo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_FILE = SHARED / "real" / "surabaya_kecamatan_boundaries_utm49s.geojson"
SHARED_CSV = SHARED / "domain" / "surabaya_kecamatan.csv"
DISTRICTS_CSV = ROOT / "regions" / "surabaya" / "districts.csv"
APPROX_FILE = ROOT / "regions" / "surabaya" / "districts_approx.geojson"
SURABAYA_KM2 = 335.0  # BPS figure for the city, independent of the polygons

needs_real = pytest.mark.skipif(not REAL_FILE.exists(), reason=f"real boundary file not present at {REAL_FILE}")
needs_shared_csv = pytest.mark.skipif(not SHARED_CSV.exists(),
                                      reason=f"shared centroid CSV not present at {SHARED_CSV}")

TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32749", always_xy=True)


def utm(geom):
    """Project a WGS84 geometry to UTM 49S with the test's own transformer (areas in m²)."""
    return shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


def km2(geom) -> float:
    return utm(geom).area / 1e6


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def districts() -> list[dict]:
    if DISTRICTS_CSV.exists():
        return geo.read_districts(DISTRICTS_CSV)
    if not SHARED_CSV.exists():
        pytest.skip("neither regions/surabaya/districts.csv nor the shared centroid CSV is present")
    return geo.read_districts(SHARED_CSV)


@pytest.fixture(scope="module")
def shared_centroids(districts) -> list[dict]:
    """Rows of the shared CSV, each resolved to a district code by its name (or alias)."""
    if not SHARED_CSV.exists():
        pytest.skip(f"shared centroid CSV not present at {SHARED_CSV}")
    by_name = {}
    for d in districts:
        for name in [d["name"], *d["aliases"].split("|")]:
            by_name[name.strip().lower()] = d["code"]
    with open(SHARED_CSV, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["code"] = by_name[row["kecamatan"].strip().lower()]
        row["lat"], row["lon"] = float(row["lat"]), float(row["lon"])
        row["polygon_area_km2"] = float(row["polygon_area_km2"])
    return rows


@pytest.fixture(scope="module")
def real_layer(districts):
    if not REAL_FILE.exists():
        pytest.skip(f"real boundary file not present at {REAL_FILE}")
    return geo.load_boundaries(REAL_FILE, crs="EPSG:32749", districts=districts)


@pytest.fixture(scope="module")
def approx_layer(districts):
    return geo.approximate_boundaries(districts)


def assert_disjoint(layer: dict, max_overlap_m2: float = 1.0):
    for (a, ga), (b, gb) in itertools.combinations(layer.items(), 2):
        overlap = utm(ga.intersection(gb)).area
        assert overlap <= max_overlap_m2, f"{a} and {b} overlap by {overlap:.1f} m²"


# --- the real UTM 49S file ----------------------------------------------------------------------


@needs_real
def test_real_file_gets_31_distinct_surabaya_codes(real_layer, districts):
    raw = json.loads(REAL_FILE.read_text())
    assert len(raw["geometries"]) == 31
    assert sorted(real_layer) == sorted(d["code"] for d in districts)
    assert all(g.is_valid and g.geom_type in ("Polygon", "MultiPolygon") for g in real_layer.values())


@needs_real
@needs_shared_csv
def test_real_polygons_hold_their_district_centroid(real_layer, shared_centroids):
    assert len(shared_centroids) == 31
    for row in shared_centroids:
        polygon = utm(real_layer[row["code"]])
        x, y = TO_UTM.transform(row["lon"], row["lat"])
        assert polygon.distance(shapely.Point(x, y)) <= 1000, row["kecamatan"]


@needs_real
@needs_shared_csv
def test_real_polygon_areas_match_the_city_and_each_district(real_layer, shared_centroids):
    total = sum(km2(g) for g in real_layer.values())
    expected_total = sum(r["polygon_area_km2"] for r in shared_centroids)
    assert total == pytest.approx(SURABAYA_KM2, rel=0.05)
    assert total == pytest.approx(expected_total, rel=0.05)
    # Per-district areas are an independent check that each polygon went to the right district.
    for row in shared_centroids:
        assert km2(real_layer[row["code"]]) == pytest.approx(row["polygon_area_km2"], rel=0.02), row["kecamatan"]


@needs_real
def test_real_assignment_does_not_depend_on_district_order(real_layer, districts):
    reversed_layer = geo.load_boundaries(REAL_FILE, crs="EPSG:32749", districts=list(reversed(districts)))
    for code, geom in real_layer.items():
        assert reversed_layer[code].equals(geom), code


@needs_real
def test_real_file_declared_as_wgs84_is_rejected(districts):
    with pytest.raises(ValueError, match="do not fit"):
        geo.load_boundaries(REAL_FILE, crs="EPSG:4326", districts=districts)


@needs_real
def test_real_file_in_the_wrong_utm_zone_is_rejected(districts):
    # Zone 50S is a valid CRS for these numbers, but puts the city 6 degrees east of its districts.
    with pytest.raises(ValueError, match="nowhere near"):
        geo.load_boundaries(REAL_FILE, crs="EPSG:32750", districts=districts)


def coordinate_pairs(node) -> set[tuple[float, float]]:
    """Every [x, y] pair anywhere in a JSON document, rounded to ~10 m."""
    if isinstance(node, dict):
        return set().union(*map(coordinate_pairs, node.values())) if node else set()
    if isinstance(node, list):
        if len(node) >= 2 and all(isinstance(v, (int, float)) for v in node[:2]):
            return {(round(node[0], 4), round(node[1], 4))}
        return set().union(*map(coordinate_pairs, node)) if node else set()
    return set()


@needs_real
def test_real_boundaries_are_not_shipped_in_the_project(real_layer):
    real_hash = hashlib.sha256(REAL_FILE.read_bytes()).hexdigest()
    real_vertices = {tuple(v) for g in real_layer.values() for v in np.round(shapely.get_coordinates(g), 4)}
    for path in ROOT.rglob("*json"):
        if ".git" in path.parts or not path.is_file():
            continue
        assert hashlib.sha256(path.read_bytes()).hexdigest() != real_hash, path
        if path.suffix == ".geojson":
            shipped = coordinate_pairs(json.loads(path.read_text(encoding="utf-8")))
            assert len(shipped & real_vertices) < 100, f"{path} looks like a copy of the real boundaries"


# --- reprojection -------------------------------------------------------------------------------


def snyder_utm_south_inverse(easting: float, northing: float, zone: int) -> tuple[float, float]:
    """Inverse transverse Mercator on WGS84 (Snyder 1987, USGS PP 1395, eqs. 3-26, 7-19, 8-17..8-25)."""
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x, y = easting - 500000.0, northing - 10000000.0
    mu = y / k0 / (a * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi1 = (mu + (3 * e1 / 2 - 27 * e1**3 / 32) * math.sin(2 * mu)
            + (21 * e1**2 / 16 - 55 * e1**4 / 32) * math.sin(4 * mu)
            + 151 * e1**3 / 96 * math.sin(6 * mu) + 1097 * e1**4 / 512 * math.sin(8 * mu))
    s, c, t = math.sin(phi1), math.cos(phi1), math.tan(phi1)
    c1, t1 = ep2 * c**2, t**2
    n1 = a / math.sqrt(1 - e2 * s**2)
    r1 = a * (1 - e2) / (1 - e2 * s**2) ** 1.5
    d = x / (n1 * k0)
    lat = phi1 - n1 * t / r1 * (d**2 / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
                                + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720)
    lon = (d - (1 + 2 * t1 + c1) * d**3 / 6
           + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120) / c
    return math.degrees(lon) + zone * 6 - 183, math.degrees(lat)


def triangle_feature(name: str, corners) -> dict:
    ring = [list(p) for p in corners] + [list(corners[0])]
    return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def nearest_vertex(geom, lon: float, lat: float) -> np.ndarray:
    coords = shapely.get_coordinates(geom)
    return coords[np.argmin(np.hypot(coords[:, 0] - lon, coords[:, 1] - lat))]


def test_utm_false_origin_maps_to_the_equator_on_the_central_meridian(tmp_path):
    # By definition of UTM zone 49S: E 500000 / N 10000000 is 111°E on the equator.
    corners = [(500000, 10000000), (502000, 9998000), (500000, 9998000)]
    path = write_json(tmp_path / "origin.geojson", {"type": "FeatureCollection",
                                                    "features": [triangle_feature("Origin", corners)]})
    layer = geo.load_boundaries(path, crs="EPSG:32749", name_property="name")
    assert list(layer) == ["origin"]
    lon, lat = nearest_vertex(layer["origin"], 111, 0)
    assert lon == pytest.approx(111.0, abs=1e-9)
    assert lat == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("crs_member", [False, True])
def test_utm_polygon_in_surabaya_matches_textbook_formulas(tmp_path, crs_member):
    corners = [(690000, 9197000), (695000, 9197000), (692000, 9200000)]
    doc = {"type": "GeometryCollection",
           "geometries": [{"type": "Polygon", "coordinates": [[*map(list, corners), list(corners[0])]]}]}
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32749"}}
    path = write_json(tmp_path / "surabaya.geojson", doc)
    district = {"code": "genteng", "name": "Genteng", "lat": -7.259, "lon": 112.7449}
    kwargs = {} if crs_member else {"crs": "EPSG:32749"}  # with a crs member, the default is fine
    layer = geo.load_boundaries(path, districts=[district], **kwargs)
    assert list(layer) == ["genteng"]
    for easting, northing in corners:
        lon, lat = snyder_utm_south_inverse(easting, northing, zone=49)
        assert 112.6 < lon < 112.9 and -7.4 < lat < -7.1  # sanity: Surabaya
        got_lon, got_lat = nearest_vertex(layer["genteng"], lon, lat)
        assert got_lon == pytest.approx(lon, abs=1e-6)
        assert got_lat == pytest.approx(lat, abs=1e-6)


def test_utm_numbers_declared_as_wgs84_raise(tmp_path):
    corners = [(690000, 9197000), (695000, 9197000), (692000, 9200000)]
    path = write_json(tmp_path / "utm.geojson", triangle_feature("Genteng", corners))
    with pytest.raises(ValueError, match="EPSG:4326"):
        geo.load_boundaries(path, name_property="name")


def test_degrees_declared_as_utm_raise(tmp_path):
    corners = [(112.70, -7.30), (112.75, -7.30), (112.72, -7.25)]
    path = write_json(tmp_path / "deg.geojson", triangle_feature("Genteng", corners))
    with pytest.raises(ValueError, match="do not fit"):
        geo.load_boundaries(path, crs="EPSG:32749", name_property="name")


def test_conflicting_crs_member_raises(tmp_path):
    doc = triangle_feature("Genteng", [(690000, 9197000), (695000, 9197000), (692000, 9200000)])
    doc["crs"] = {"type": "name", "properties": {"name": "EPSG:32749"}}
    path = write_json(tmp_path / "conflict.geojson", doc)
    with pytest.raises(ValueError, match="declares"):
        geo.load_boundaries(path, crs="EPSG:32750", name_property="name")


@pytest.mark.parametrize("content", ["not json at all", "{\"type\": \"Polygon\", \"coordinates\": [[[1, 2]]]}", "[]"])
def test_unreadable_files_raise(tmp_path, content):
    path = tmp_path / "broken.geojson"
    path.write_text(content)
    with pytest.raises(ValueError):
        geo.load_boundaries(path, name_property="name")


def test_missing_file_and_unknown_crs_raise(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        geo.load_boundaries(tmp_path / "nope.geojson")
    wgs84_triangle = triangle_feature("Genteng", [(112.7, -7.3), (112.75, -7.3), (112.72, -7.25)])
    path = write_json(tmp_path / "t.geojson", wgs84_triangle)
    with pytest.raises(ValueError, match="unknown CRS"):
        geo.load_boundaries(path, crs="EPSG:999999", name_property="name")


# --- named polygons -----------------------------------------------------------------------------


def test_names_resolve_to_codes_by_code_name_or_alias(tmp_path, approx_layer, districts):
    collection = geo.to_geojson(approx_layer, districts)
    spelled = {"genteng": "KEC. GENTENG", "pabean_cantian": "Pabean Cantikan", "karang_pilang": "KARANGPILANG"}
    for feature in collection["features"]:
        code = feature["properties"]["code"]
        feature["properties"] = {"NAMA": spelled.get(code, code.upper())}
    path = write_json(tmp_path / "named.geojson", collection)
    layer = geo.load_boundaries(path, name_property="NAMA", districts=districts)
    assert sorted(layer) == sorted(approx_layer)
    for code in spelled:
        assert layer[code].buffer(1e-4).contains(approx_layer[code])

    collection["features"][0]["properties"]["NAMA"] = "Atlantis"
    write_json(path, collection)
    with pytest.raises(ValueError, match="Atlantis"):
        geo.load_boundaries(path, name_property="NAMA", districts=districts)


def test_containment_beats_centroid_distance(tmp_path):
    # A small district enclosed by a ring-shaped one: both polygon centroids sit in the middle, so
    # distance alone would swap them; the district centroid each polygon holds must win.
    def at(x, y):  # 1 unit = 0.01 degree, placed in Surabaya
        return [112.65 + x / 100, -7.35 + y / 100]

    inner = [at(4, 4), at(6, 4), at(6, 6), at(4, 6), at(4, 4)]
    outer = [at(0, 0), at(10, 0), at(10, 11), at(0, 11), at(0, 0)]
    doc = {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "coordinates": [outer, inner[::-1]]},
        {"type": "Polygon", "coordinates": [inner]},
    ]}
    path = write_json(tmp_path / "ring.geojson", doc)
    lon_a, lat_a = at(5.9, 5.9)
    lon_b, lat_b = at(0.5, 5)
    districts = [{"code": "a", "name": "A", "lat": lat_a, "lon": lon_a},
                 {"code": "b", "name": "B", "lat": lat_b, "lon": lon_b}]
    layer = geo.load_boundaries(path, districts=districts)
    assert layer["a"].contains(shapely.Point(lon_a, lat_a))
    assert layer["b"].contains(shapely.Point(lon_b, lat_b))


def test_unnamed_polygons_need_districts(tmp_path):
    path = write_json(tmp_path / "t.geojson", triangle_feature("x", [(112.7, -7.3), (112.75, -7.3), (112.72, -7.25)]))
    with pytest.raises(ValueError, match="district"):
        geo.load_boundaries(path)


# --- approximate layer --------------------------------------------------------------------------


def test_approx_layer_has_one_disjoint_cell_per_district(approx_layer, districts):
    assert sorted(approx_layer) == sorted(d["code"] for d in districts)
    assert len(approx_layer) == 31
    assert all(g.is_valid and not g.is_empty for g in approx_layer.values())
    assert_disjoint(approx_layer)
    for d in districts:
        assert approx_layer[d["code"]].contains(shapely.Point(d["lon"], d["lat"])), d["code"]


def test_approx_layer_total_area_is_plausible(approx_layer, districts):
    total = sum(km2(g) for g in approx_layer.values())
    assert total == pytest.approx(sum(d["area_km2"] for d in districts), rel=0.05)
    assert total == pytest.approx(SURABAYA_KM2, rel=0.10)


def test_approx_layer_without_areas_still_covers_every_centroid(districts):
    bare = [{k: v for k, v in d.items() if k != "area_km2"} for d in districts]
    layer = geo.approximate_boundaries(bare)
    assert 150 < sum(km2(g) for g in layer.values()) < 600
    for d in districts:
        assert layer[d["code"]].contains(shapely.Point(d["lon"], d["lat"])), d["code"]


def test_approx_layer_fills_a_given_clip(districts):
    clip = box(112.58, -7.37, 112.84, -7.18)
    layer = geo.approximate_boundaries(districts, clip=clip)
    assert sum(km2(g) for g in layer.values()) == pytest.approx(km2(clip), rel=1e-3)
    assert_disjoint(layer)


def test_shipped_approx_file_matches_the_districts(districts, approx_layer):
    collection = json.loads(APPROX_FILE.read_text(encoding="utf-8"))
    names = {f["properties"]["code"]: f["properties"]["name"] for f in collection["features"]}
    assert names == {d["code"]: d["name"] for d in districts}
    shipped = geo.load_boundaries(APPROX_FILE, name_property="code", districts=districts)
    assert_disjoint(shipped)
    for d in districts:
        cell = shipped[d["code"]]
        assert cell.contains(shapely.Point(d["lon"], d["lat"])), d["code"]
        # Regenerate with `python -m regions.geo approx surabaya` when this fails after a districts.csv change.
        assert km2(cell.symmetric_difference(approx_layer[d["code"]])) < 0.01 * km2(cell), d["code"]


def test_cli_writes_a_loadable_layer(tmp_path, districts):
    out = tmp_path / "approx.geojson"
    assert geo.main(["approx", "surabaya", "--out", str(out)]) == 0
    layer = geo.load_boundaries(out, name_property="code", districts=districts)
    assert len(layer) == 31


# --- GeoJSON output -----------------------------------------------------------------------------


def test_to_geojson_is_small_rounded_and_valid(approx_layer, districts):
    collection = geo.to_geojson(approx_layer, districts)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 31
    for feature in collection["features"]:
        assert set(feature["properties"]) == {"code", "name"}
        coords = shapely.get_coordinates(shape(feature["geometry"]))
        assert np.all(np.abs(coords * 1e5 - np.round(coords * 1e5)) < 1e-6)
        assert shape(feature["geometry"]).is_valid


@needs_real
def test_to_geojson_simplify_shrinks_the_real_layer(real_layer, districts):
    full = geo.to_geojson(real_layer, districts)
    small = geo.to_geojson(real_layer, districts, simplify=True)
    assert len(json.dumps(small)) < 0.5 * len(json.dumps(full))
    for feature in small["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid
        assert km2(geom) == pytest.approx(km2(real_layer[feature["properties"]["code"]]), rel=0.03)


# --- point lookup -------------------------------------------------------------------------------


def test_locator_finds_each_centroid_in_its_own_cell(approx_layer, districts):
    locator = geo.DistrictLocator(approx_layer)
    for d in districts:
        assert locator.district_at(d["lat"], d["lon"]) == d["code"]
    lats, lons = [d["lat"] for d in districts], [d["lon"] for d in districts]
    assert locator.districts_at(lats, lons) == [d["code"] for d in districts]


@pytest.mark.parametrize("lat, lon", [(0, 0), (float("nan"), 112.7), (-7.25, float("nan")), (None, 112.7),
                                      (-6.5, 112.75), (-7.25, 200.0)])
def test_locator_returns_none_off_the_map(approx_layer, lat, lon):
    # (-6.5, 112.75) is the Java Sea north of Madura, far outside the city.
    locator = geo.DistrictLocator(approx_layer)
    assert locator.district_at(lat, lon) is None
    if lat is not None:
        assert locator.districts_at([lat], [lon]) == [None]


def test_locator_breaks_ties_on_shared_edges_the_same_way():
    layer = {"west": box(112.70, -7.30, 112.72, -7.28), "east": box(112.72, -7.30, 112.74, -7.28)}
    locator = geo.DistrictLocator(layer)
    assert locator.district_at(-7.29, 112.72) == "west"
    assert locator.districts_at([-7.29, -7.29], [112.72, 112.73]) == ["west", "east"]
    assert geo.DistrictLocator(dict(reversed(layer.items()))).districts_at([-7.29], [112.72]) == ["east"]


@needs_real
def test_locator_agrees_with_brute_force_on_the_real_layer(real_layer):
    locator = geo.DistrictLocator(real_layer)
    rng = np.random.default_rng(7)
    lats, lons = rng.uniform(-7.36, -7.17, 3000), rng.uniform(112.58, 112.86, 3000)
    found = locator.districts_at(lats, lons)
    assert found == [locator.district_at(a, o) for a, o in zip(lats, lons)]
    for lat, lon, code in zip(lats, lons, found):
        holders = [c for c, g in real_layer.items() if g.intersects(shapely.Point(lon, lat))]
        assert code == (holders[0] if holders else None)
    assert 0.3 < np.mean([c is not None for c in found]) < 0.95  # the box holds city and sea


def test_locator_is_fast(approx_layer, districts):
    layer = approx_layer
    if REAL_FILE.exists():  # the real polygons have ~30k vertices: the honest benchmark
        layer = geo.load_boundaries(REAL_FILE, crs="EPSG:32749", districts=districts)
    locator = geo.DistrictLocator(layer)
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(-7.36, -7.17, 200_000), rng.uniform(112.58, 112.86, 200_000)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        locator.districts_at(lats, lons)
        best = min(best, time.perf_counter() - start)
    assert len(lats) / best >= 50_000
