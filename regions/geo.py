"""District geometry: load boundary files, build an approximate layer, find the district of a point.

Pure functions (no Streamlit, no database). Every geometry returned here is in WGS84 lon/lat
(x = longitude, y = latitude); areas and distances are computed in metres in the local UTM zone.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import mapping, shape
from shapely.ops import voronoi_diagram

WGS84 = CRS.from_epsg(4326)
DEFAULT_SIMPLIFY_DEG = 0.0005  # ~50 m: invisible at city zoom, shrinks the payload a lot
COORD_DECIMALS = 5  # ~1 m
CRS_MARGIN_DEG = 3.0  # data may spill a little outside a CRS's nominal area of use
DISTRICT_REACH_KM = 10.0  # boundaries farther than this from every district are in the wrong place
REGIONS_DIR = Path(__file__).resolve().parent

_POLYGONAL = ("Polygon", "MultiPolygon")


# --- district records ---------------------------------------------------------------------------


def slugify(name: str) -> str:
    """District code from a name, the way districts.csv spells it: 'Pabean Cantian' -> 'pabean_cantian'."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _field(record: Any, key: str, default: Any = None) -> Any:
    # Districts may be dicts (CSV rows) or objects (the region loader's dataclasses).
    if isinstance(record, Mapping):
        return record.get(key, default)
    return getattr(record, key, default)


def _aliases(record: Any) -> list[str]:
    raw = _field(record, "aliases") or []
    if isinstance(raw, str):
        raw = raw.split("|")
    return [a.strip() for a in raw if a and a.strip()]


def _number(value: Any) -> float:
    """A float, or NaN for blanks and junk (optional numeric columns such as area_km2)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _district_lonlat(districts: Sequence[Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Codes and centroids of the districts that have coordinates (the others cannot be placed)."""
    codes, lons, lats = [], [], []
    for d in districts:
        lon, lat = _number(_field(d, "lon")), _number(_field(d, "lat"))
        if math.isfinite(lon) and math.isfinite(lat):
            codes.append(str(_field(d, "code")))
            lons.append(lon)
            lats.append(lat)
    if len(set(codes)) != len(codes):
        raise ValueError("district codes are not unique")
    if not codes:
        raise ValueError("no district has lat/lon coordinates")
    return codes, np.array(lons), np.array(lats)


def read_districts(path: str | Path) -> list[dict]:
    """Read a districts CSV: the region layout (code,name,...) or the bare kecamatan,lat,lon layout."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        name = row.get("name") or row.get("kecamatan") or ""
        area = row.get("area_km2") or row.get("polygon_area_km2")
        out.append({
            "code": row.get("code") or slugify(name),
            "name": name,
            "aliases": row.get("aliases") or "",
            "lat": float(row["lat"]),
            "lon": float(row["lon"]),
            "area_km2": float(area) if area else None,
        })
    return out


# --- CRS helpers --------------------------------------------------------------------------------


def _parse_crs(value: Any) -> CRS:
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError) as exc:
        raise ValueError(f"unknown CRS {value!r}: {exc}") from exc


def _crs_member(doc: Mapping) -> CRS | None:
    """The (deprecated but common) GeoJSON 'crs' member: named ('urn:ogc:def:crs:EPSG::32749') or EPSG code."""
    member = doc.get("crs")
    if not member:
        return None
    props = member.get("properties") or {}
    value = props.get("name") or (f"EPSG:{props['code']}" if "code" in props else None)
    if value is None:
        raise ValueError(f"unreadable GeoJSON crs member: {member!r}")
    return _parse_crs(value)


def _source_crs(doc: Mapping, crs: Any) -> CRS:
    declared = _parse_crs(crs or WGS84)
    in_file = _crs_member(doc)
    if in_file is None:
        return declared
    # The default argument means "not configured": the file's own declaration then wins.
    is_default = declared.equals(WGS84, ignore_axis_order=True)
    if is_default or in_file.equals(declared, ignore_axis_order=True):
        return in_file
    raise ValueError(f"boundary file declares {in_file.to_string()} but {declared.to_string()} was configured")


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone containing a point (Surabaya: EPSG:32749, zone 49S)."""
    zone = int((lon + 180) // 6) % 60 + 1
    return CRS.from_epsg((32700 if lat < 0 else 32600) + zone)


def _transform(geom, source: CRS, target: CRS):
    tr = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def to_metres(geom):
    """Project a lon/lat geometry to its local UTM zone (for areas and distances)."""
    c = geom.centroid
    return _transform(geom, WGS84, utm_crs(c.x, c.y))


def area_km2(geom) -> float:
    return to_metres(geom).area / 1e6


def _check_lonlat(geoms: list, source: CRS) -> None:
    """Refuse coordinates that cannot be in the stated CRS (UTM metres declared as degrees, wrong zone...)."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    bad = not np.all(np.isfinite([xmin, ymin, xmax, ymax]))
    bad = bad or xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90
    aou = source.area_of_use
    if not bad and aou is not None:
        m = CRS_MARGIN_DEG
        bad = xmin < aou.west - m or xmax > aou.east + m or ymin < aou.south - m or ymax > aou.north + m
    if bad:
        raise ValueError(
            f"coordinates do not fit {source.to_string()}: they map to lon {xmin:.4g}..{xmax:.4g}, "
            f"lat {ymin:.4g}..{ymax:.4g}; check the [boundaries] crs setting"
        )


# --- reading GeoJSON ----------------------------------------------------------------------------


def _read_json(path: str | Path) -> Mapping:
    try:
        with open(path, encoding="utf-8-sig") as f:
            doc = json.load(f)
    except (OSError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read boundary file {path}: {exc}") from exc
    if not isinstance(doc, Mapping) or "type" not in doc:
        raise ValueError(f"{path} is not GeoJSON (no 'type' member)")
    return doc


def _geo_items(node: Mapping) -> Iterable[tuple[Mapping, Mapping]]:
    """Yield (geometry, properties) for every polygonal geometry in any GeoJSON shape."""
    kind = node.get("type")
    if kind == "FeatureCollection":
        for feature in node.get("features") or []:
            yield from _geo_items(feature)
    elif kind == "Feature":
        for geom, _ in _geo_items(node.get("geometry") or {}):
            yield geom, node.get("properties") or {}
    elif kind == "GeometryCollection":
        for geom in node.get("geometries") or []:
            yield from _geo_items(geom)
    elif kind in _POLYGONAL:
        yield node, {}


def _clean(geom):
    """2D, valid, polygonal only (field files often carry self-intersections or Z values)."""
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if len(parts) != 1 else parts[0]


def _read_geometries(path, crs) -> tuple[list, list[Mapping]]:
    doc = _read_json(path)
    items = list(_geo_items(doc))
    if not items:
        raise ValueError(f"{path} holds no Polygon or MultiPolygon geometry")
    try:
        geoms = [shape(g) for g, _ in items]
    except (ValueError, TypeError, IndexError, KeyError, shapely.errors.GEOSException) as exc:
        raise ValueError(f"{path}: malformed geometry: {exc}") from exc
    source = _source_crs(doc, crs)
    if not source.equals(WGS84, ignore_axis_order=True):
        geoms = [_transform(g, source, WGS84) for g in geoms]
    _check_lonlat(geoms, source)
    return [_clean(g) for g in geoms], [p for _, p in items]


# --- assigning polygons to districts ------------------------------------------------------------


def _name_index(districts: Sequence[Any]) -> dict[str, str]:
    index: dict[str, str] = {}
    for d in districts:
        code, name = str(_field(d, "code")), str(_field(d, "name") or "")
        for key in [code, name, *_aliases(d)]:
            index.setdefault(key.strip().lower(), code)
            index.setdefault(slugify(key), code)
    return index


def _resolve_name(value: Any, index: dict[str, str]) -> str | None:
    text = re.sub(r"^\s*kec(amatan)?\.?\s+", "", str(value), flags=re.I).strip().lower()
    return index.get(text) or index.get(slugify(text))


def _assign_by_name(geoms, props, name_property, districts) -> dict:
    index = _name_index(districts) if districts else None
    groups: dict[str, list] = {}
    unknown = []
    for geom, p in zip(geoms, props):
        value = p.get(name_property)
        code = _resolve_name(value, index) if index is not None else slugify(value or "")
        if not code:
            unknown.append(value)
            continue
        groups.setdefault(code, []).append(geom)
    if unknown:
        raise ValueError(f"boundary names not matching any district ({name_property}): {sorted(map(str, unknown))}")
    # Islands are sometimes separate features with the same name: merge them.
    return {code: parts[0] if len(parts) == 1 else shapely.union_all(parts) for code, parts in groups.items()}


def _local_km(lons: np.ndarray, lats: np.ndarray, lat0: float) -> np.ndarray:
    # Equirectangular is plenty for ranking distances within one city.
    return np.column_stack([lons * 111.32 * math.cos(math.radians(lat0)), lats * 110.57])


def _assignment_cost(geoms, lons, lats) -> np.ndarray:
    """Rows: polygons, columns: districts. Centroid distance in km, 0 where the polygon holds the centroid."""
    cent = shapely.centroid(geoms)
    lat0 = float(np.mean(lats))
    poly_xy = _local_km(shapely.get_x(cent), shapely.get_y(cent), lat0)
    dist_xy = _local_km(lons, lats, lat0)
    cost = np.linalg.norm(poly_xy[:, None, :] - dist_xy[None, :, :], axis=2)
    for i, geom in enumerate(geoms):
        shapely.prepare(geom)
        cost[i, shapely.contains_xy(geom, lons, lats)] = 0.0
    return cost


def _check_reach(geoms, lons, lats) -> None:
    # Degrees of longitude are the shorter ones: convert the reach with them so it is never too small.
    reach_deg = DISTRICT_REACH_KM / (111.32 * math.cos(math.radians(float(np.mean(lats)))))
    near = shapely.distance(shapely.union_all(geoms), shapely.points(lons, lats)) <= reach_deg
    if not np.any(near):
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        raise ValueError(
            f"the boundaries (lon {xmin:.3f}..{xmax:.3f}, lat {ymin:.3f}..{ymax:.3f}) are nowhere near the "
            "districts; is the CRS right?"
        )


def _assign_by_centroid(geoms, districts) -> dict:
    if not districts:
        raise ValueError("unnamed boundary polygons need the district list to be matched by centroid")
    codes, lons, lats = _district_lonlat(districts)
    if len(geoms) > len(codes):
        raise ValueError(
            f"{len(geoms)} unnamed polygons for {len(codes)} districts; set name_property or fix the file"
        )
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize costs ~1 s of CPU

    rows, cols = linear_sum_assignment(_assignment_cost(geoms, lons, lats))
    return {codes[c]: geoms[r] for r, c in zip(rows, cols)}


def load_boundaries(path, crs="EPSG:4326", name_property=None, districts=None) -> dict:
    """District code -> polygon (WGS84 lon/lat) from a GeoJSON file in any shape and any CRS.

    With name_property the polygon's property is resolved against the districts (code, name or alias,
    case-insensitive); without it the polygons are matched one-to-one to the district centroids.
    Raises ValueError for unreadable files, unknown CRSs and coordinates that do not fit the CRS.
    """
    geoms, props = _read_geometries(path, crs)
    if districts:
        _, lons, lats = _district_lonlat(districts)
        _check_reach(geoms, lons, lats)
    if name_property:
        return _assign_by_name(geoms, props, name_property, districts)
    return _assign_by_centroid(geoms, districts)


# --- approximate layer --------------------------------------------------------------------------


def _hull_buffer(points_m, areas_km2: list) -> Any:
    """Convex hull of the centroids, grown so that its area matches the districts' total area.

    Area of a convex shape buffered by r: A + P*r + pi*r^2; solve for r. Without areas, grow by half
    the median nearest-neighbour spacing (a centroid sits about that far inside its district's edge).
    """
    hull = shapely.convex_hull(points_m)
    xy = shapely.get_coordinates(points_m)
    gaps = np.linalg.norm(xy[:, None] - xy[None, :], axis=2) + np.diag(np.full(len(xy), np.inf))
    spacing = float(np.median(gaps.min(axis=1))) if len(xy) > 1 else 1000.0
    r = spacing / 2
    if areas_km2 and all(a > 0 for a in areas_km2):
        target = sum(areas_km2) * 1e6
        a, p = hull.area, hull.length
        if target > a:
            r = (-p + math.sqrt(p * p + 4 * math.pi * (target - a))) / (2 * math.pi)
    # Keep every centroid strictly inside its cell, even when the total area is understated.
    return hull.buffer(max(r, spacing / 10), quad_segs=16)


def approximate_boundaries(districts, clip=None) -> dict:
    """Voronoi cells of the district centroids, clipped to `clip` (lon/lat) or to a plausible city outline."""
    codes, lons, lats = _district_lonlat(districts)
    if len(set(zip(lons, lats))) < len(codes):
        raise ValueError("two districts share the same centroid; a Voronoi layer cannot separate them")
    areas = {str(_field(d, "code")): _number(_field(d, "area_km2")) for d in districts}
    metric = utm_crs(float(np.mean(lons)), float(np.mean(lats)))
    x, y = Transformer.from_crs(WGS84, metric, always_xy=True).transform(lons, lats)
    points = shapely.multipoints(np.column_stack([x, y]))
    if clip is not None:
        outline = _transform(clip, WGS84, metric)
    else:
        outline = _hull_buffer(points, [areas[c] for c in codes])
    if len(codes) == 1:
        return {codes[0]: _transform(outline, metric, WGS84)}
    cells = list(voronoi_diagram(points, envelope=outline.envelope.buffer(outline.length)).geoms)
    # voronoi_diagram does not keep the input order: find each centroid's cell.
    point_idx, cell_idx = shapely.STRtree(cells).query(shapely.get_parts(points), predicate="within")
    cell_of = dict(zip(point_idx, cell_idx))
    out = {}
    for i, code in enumerate(codes):
        out[code] = _transform(cells[cell_of[i]].intersection(outline), metric, WGS84)
    return out


# --- GeoJSON output -----------------------------------------------------------------------------


def _round_coords(coords: Any) -> Any:
    if isinstance(coords, (int, float)):
        return round(float(coords), COORD_DECIMALS)
    return [_round_coords(c) for c in coords]


def _compact(geom, simplify: bool | float):
    if simplify:
        tolerance = DEFAULT_SIMPLIFY_DEG if simplify is True else float(simplify)
        geom = geom.simplify(tolerance, preserve_topology=True)
    # Snap to the output grid so that rounding cannot produce invalid rings.
    return shapely.set_precision(geom, 10.0**-COORD_DECIMALS)


def to_geojson(boundaries: Mapping, districts, simplify: bool | float = False) -> dict:
    """FeatureCollection (WGS84) with properties code and name, coordinates rounded to 5 decimals.

    simplify=True simplifies with ~0.0005 deg (~50 m); a number sets the tolerance in degrees.
    """
    names = {str(_field(d, "code")): str(_field(d, "name") or _field(d, "code")) for d in districts or []}
    order = [c for c in names if c in boundaries] + sorted(c for c in boundaries if c not in names)
    features = []
    for code in order:
        geom = _compact(boundaries[code], simplify)
        if geom.is_empty:
            continue
        g = mapping(geom)
        features.append({
            "type": "Feature",
            "properties": {"code": code, "name": names.get(code, code)},
            "geometry": {"type": g["type"], "coordinates": _round_coords(g["coordinates"])},
        })
    return {"type": "FeatureCollection", "features": features}


# --- point lookup -------------------------------------------------------------------------------


class DistrictLocator:
    """Which district a point falls in. Points on a shared edge go to the first district given.

    A grid over the districts' bounding box answers most single-point lookups without GEOS: a cell whose
    (slightly enlarged) box meets no polygon is "no district", a cell inside the first polygon that meets it
    is that polygon's district; only cells on a boundary need the exact test. The answers are the exact test's.
    The grid is built once GRID_AFTER points were looked up, so a small import never pays for it.
    """

    GRID = 256  # cells per side: at city scale ~100 m cells, a few percent of them on a boundary
    GRID_AFTER = 2000  # exact lookups before the grid is built (building it costs about 10,000 of them)
    _EXACT, _NONE = -1, -2

    def __init__(self, boundaries: Mapping):
        self.codes = list(boundaries)
        self._geoms = np.array([boundaries[c] for c in self.codes], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._grid = None
        self._lookups = 0

    def _build_grid(self):
        """(x0, y0, x-scale, y-scale, n, cells as a list): the cell of lon/lat is int((lon - x0) * x-scale)."""
        if not len(self._geoms):
            return None
        xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(self._geoms))
        if not all(map(math.isfinite, (xmin, ymin, xmax, ymax))) or xmax <= xmin or ymax <= ymin:
            return None
        n = self.GRID
        dx, dy = (xmax - xmin) / n, (ymax - ymin) / n
        # Boxes grown by a margin far above float rounding, so that a point whose computed cell is off by
        # one (it lies on a cell edge) is still inside the box that was classified for that cell.
        eps = 1e-9 * max(1.0, abs(xmin), abs(xmax), abs(ymin), abs(ymax)) + 1e-6 * min(dx, dy)
        ix, iy = np.meshgrid(np.arange(n), np.arange(n))  # row = y index, column = x index
        ix, iy = ix.ravel(), iy.ravel()
        boxes = shapely.box(xmin + ix * dx - eps, ymin + iy * dy - eps,
                            xmin + (ix + 1) * dx + eps, ymin + (iy + 1) * dy + eps)
        cells = np.full(n * n, self._NONE, dtype=np.int64)
        box_i, geom_i = self._tree.query(boxes, predicate="intersects")
        if len(box_i):
            first = np.full(n * n, len(self.codes), dtype=np.int64)
            np.minimum.at(first, box_i, geom_i)  # the lowest polygon meeting the box wins on shared edges
            hit = np.flatnonzero(first < len(self.codes))
            inside = shapely.contains(self._geoms[first[hit]], boxes[hit])
            cells[hit] = np.where(inside, first[hit], self._EXACT)
        return xmin, ymin, n / (xmax - xmin), n / (ymax - ymin), n, cells.tolist()

    def district_at(self, lat, lon) -> str | None:
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            return None
        # Plain-float checks: numpy on scalars would cost more than the lookup itself.
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
            return None  # also rejects NaN, which fails every comparison
        grid = self._grid
        if grid is None and self._lookups < self.GRID_AFTER:
            self._lookups += 1
            if self._lookups == self.GRID_AFTER:
                grid = self._grid = self._build_grid()
        if grid is not None:
            x0, y0, sx, sy, n, cells = grid
            gx, gy = (lon - x0) * sx, (lat - y0) * sy
            if 0 <= gx < n and 0 <= gy < n:
                cell = cells[int(gy) * n + int(gx)]
                if cell >= 0:
                    return self.codes[cell]
                if cell == self._NONE:
                    return None
        return self.exact_district_at(lat, lon)

    def exact_district_at(self, lat: float, lon: float) -> str | None:
        """The exact test for a plausible point (what the grid answers for the cells it can decide)."""
        point = shapely.Point(lon, lat)
        # Bounding-box candidates from the tree, then the exact test on the prepared polygon.
        for i in sorted(self._tree.query(point).tolist()):
            if self._geoms[i].intersects(point):
                return self.codes[i]
        return None

    def districts_at(self, lats, lons) -> list[str | None]:
        """Vectorised lookup; None where a point is missing, at 0/0 or outside every district."""
        lats = np.asarray(lats, dtype=float).ravel()
        lons = np.asarray(lons, dtype=float).ravel()
        if lats.shape != lons.shape:
            raise ValueError("lats and lons differ in length")
        result = np.full(len(lats), len(self.codes))  # len(codes) marks "no district"
        ok = np.flatnonzero(_plausible(lats, lons))
        lons, lats = lons[ok], lats[ok]
        hit_point, hit_geom = self._tree.query(shapely.points(lons, lats))
        # Exact test vectorised over (point, candidate) pairs, on the prepared polygons.
        inside = shapely.intersects_xy(self._geoms[hit_geom], lons[hit_point], lats[hit_point])
        hit_point, hit_geom = hit_point[inside], hit_geom[inside]
        # The lowest polygon index wins on shared edges, as in district_at.
        np.minimum.at(result, ok[hit_point], hit_geom)
        codes = [*self.codes, None]
        return [codes[i] for i in result]


def _plausible(lat, lon):
    """Finite, on the globe, and not 0/0 (the usual placeholder for a missing location)."""
    with np.errstate(invalid="ignore"):
        on_globe = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        return on_globe & ~((lat == 0) & (lon == 0))


# --- CLI ----------------------------------------------------------------------------------------


def write_approx(region: str, districts_csv: str | Path | None = None, out: str | Path | None = None) -> Path:
    region_dir = REGIONS_DIR / region
    districts = read_districts(districts_csv or region_dir / "districts.csv")
    out = Path(out or region_dir / "districts_approx.geojson")
    collection = to_geojson(approximate_boundaries(districts), districts)
    out.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m regions.geo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    approx = sub.add_parser("approx", help="write regions/<region>/districts_approx.geojson from the centroids")
    approx.add_argument("region")
    approx.add_argument("--districts", help="districts CSV (default: regions/<region>/districts.csv)")
    approx.add_argument("--out", help="output file (default: regions/<region>/districts_approx.geojson)")
    args = parser.parse_args(argv)
    path = write_approx(args.region, args.districts, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
