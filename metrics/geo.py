"""What the map shows, as SQL aggregates and small payloads; callable without Streamlit.

- district values: metrics.queries.district_counts (one figure per district, reused as is);
- density: complaints of the period binned into a grid of ~400 m cells *in SQL*, so the map gets one row
  per occupied cell whatever the data size;
- recent points: the newest located complaints, capped, with coded fields only (never title, body or
  anything about the reporter) and coordinates rounded to ~100 m;
- the district polygons of a region, from its configured boundary file or approximated from centroids.
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Integer, and_, case, cast, func, not_, select, union_all
from sqlalchemy.engine import Engine

from metrics.filters import C, Filters
from metrics.queries import is_overdue
from metrics.sql import fetch_columns
from regions import Region
from regions.geo import approximate_boundaries, load_boundaries, to_geojson

# Choropleth metrics: key -> district_counts column.
CHOROPLETH = {"received": "received", "per_10k": "per_10k", "overdue_share": "overdue_share"}
CELL_M = 400.0  # density cell edge in metres
POINT_LIMIT = 1500
POINT_DECIMALS = 3  # ~110 m: enough for a city map, too coarse to point at a house
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
POINT_COLUMNS = ["lat", "lon", "category", "agency_code", "district_code", "channel", "status", "age_h", "overdue"]


def located():
    """A usable location: both coordinates, on the globe, and not the 0/0 'no GPS' placeholder."""
    return and_(C.lat.isnot(None), C.lon.isnot(None), C.lat.between(-90, 90), C.lon.between(-180, 180),
                not_(and_(C.lat == 0, C.lon == 0)))


def cell_degrees(cell_m: float = CELL_M, ref_lat: float = 0.0) -> tuple[float, float]:
    """Cell size in degrees of latitude and longitude for a square of `cell_m` metres at `ref_lat`."""
    return cell_m / M_PER_DEG_LAT, cell_m / (M_PER_DEG_LON * max(math.cos(math.radians(ref_lat)), 0.01))


def density_grid(engine: Engine, filters: Filters, tz: ZoneInfo, cell_m: float = CELL_M,
                 ref_lat: float = 0.0) -> pd.DataFrame:
    """Located complaints of the period per grid cell: (lat, lon) of the cell centre and count."""
    dlat, dlon = cell_degrees(cell_m, ref_lat)
    # Bin in a subquery and group by its labels: PostgreSQL would not match two bound divisors in GROUP BY.
    cells = select(cast(func.round(C.lat / dlat), Integer).label("row"),
                   cast(func.round(C.lon / dlon), Integer).label("col")) \
        .where(*filters.period_clauses(tz), located()).subquery()
    with engine.connect() as conn:
        row, col, count = fetch_columns(conn, select(cells.c.row, cells.c.col, func.count())
                                        .group_by(cells.c.row, cells.c.col), 3)
    frame = pd.DataFrame({"lat": np.asarray(row, dtype=float) * dlat, "lon": np.asarray(col, dtype=float) * dlon,
                          "count": np.asarray(count, dtype=np.int64)})
    frame.attrs.update(cell_m=cell_m, dlat=dlat, dlon=dlon)
    return frame.sort_values("count", ascending=False, ignore_index=True)


def recent_points(engine: Engine, filters: Filters, now: datetime, tz: ZoneInfo,
                  limit: int = POINT_LIMIT) -> pd.DataFrame:
    """The newest located complaints of the period, coded fields only (no text, nothing about the reporter)."""
    where = [*filters.period_clauses(tz), located()]
    if len(filters.kinds) > 1:
        # newest per kind from the (kind, received_at) index, then merged: one ORDER BY over every kind made
        # PostgreSQL sort the whole period (~2 s at 10M complaints)
        newest = union_all(*[select(C.id, C.received_at).where(*where, C.kind == kind)
                             .order_by(C.received_at.desc(), C.id.desc()).limit(limit).subquery().select()
                             for kind in filters.kinds]).subquery()
        ids = select(newest.c.id).order_by(newest.c.received_at.desc(), newest.c.id.desc()).limit(limit)
        where = [C.id.in_(ids.scalar_subquery())]
    query = (select(C.lat, C.lon, C.category, C.agency_code, C.district_code, C.channel, C.status,
                    C.received_at, case((is_overdue(now), 1), else_=0).label("overdue"))
             .where(*where).order_by(C.received_at.desc(), C.id.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["lat", "lon", "category", "agency_code", "district_code", "channel",
                                        "status", "received_at", "overdue"])
    frame["lat"] = frame["lat"].astype(float).round(POINT_DECIMALS)
    frame["lon"] = frame["lon"].astype(float).round(POINT_DECIMALS)
    frame["age_h"] = [max((now - r).total_seconds() / 3600, 0.0) for r in frame["received_at"]]
    frame["overdue"] = frame["overdue"].astype(bool)
    return frame[POINT_COLUMNS]


def mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(bbox: list[float], width: int, height: int, max_zoom: float | None = None) -> dict:
    """Map centre and zoom (deck.gl Web Mercator, 512 px world at zoom 0) showing bbox in width x height px."""
    west, south, east, north = bbox
    zoom_x = math.log2(width * 360 / (512 * max(east - west, 1e-6)))
    zoom_y = math.log2(height * 2 * math.pi / (512 * max(mercator_y(north) - mercator_y(south), 1e-9)))
    zoom = min(zoom_x, zoom_y, max_zoom if max_zoom is not None else 20.0) - 0.1  # a small margin
    return {"latitude": (north + south) / 2, "longitude": (east + west) / 2, "zoom": round(zoom, 2)}


def no_points() -> pd.DataFrame:
    """An empty recent_points result (the points layer switched off)."""
    return pd.DataFrame(columns=POINT_COLUMNS)


def district_geojson(region: Region, simplify: bool | float = True, approximate: bool = False) -> dict:
    """The region's district polygons as a WGS84 FeatureCollection with a bbox (properties: code, name,
    label_lat, label_lon: a point inside the polygon for its name).

    From region.boundaries (file, crs, name_property) when the file exists and `approximate` is false;
    otherwise Voronoi cells of the district centroids. The collection's 'source' member says which
    (the file path or 'approximate'). Raises ValueError for a boundary file that cannot be used.
    """
    path = region.boundary_path()
    config = region.boundaries or {}
    if not approximate and path is not None and path.exists():
        polygons = load_boundaries(path, crs=config.get("crs") or "EPSG:4326",
                                   name_property=config.get("name_property"), districts=region.districts)
        source = str(path)
    else:
        polygons = approximate_boundaries(region.districts)
        source = "approximate"
    collection = to_geojson(polygons, region.districts, simplify=simplify)
    for feature in collection["features"]:
        inside = polygons[feature["properties"]["code"]].representative_point()  # for the name label
        feature["properties"].update(label_lon=round(inside.x, 5), label_lat=round(inside.y, 5))
    collection["bbox"] = [round(float(v), 5) for v in shapely.total_bounds(list(polygons.values()))]
    collection["source"] = source
    return collection
