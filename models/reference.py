"""Keep the reference tables (districts, agencies, categories) equal to the region's configuration files."""
from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine

from models.tables import Agency, Category, District
from regions import Region


def sync_reference_data(engine: Engine, region: Region) -> None:
    rows = {
        District.__table__: [
            {"code": d.code, "name": d.name, "lat": d.lat, "lon": d.lon, "population": d.population,
             "area_km2": d.area_km2} for d in region.districts
        ],
        Agency.__table__: [
            {"code": a.code, "name": a.name, "short_name": a.short_name, "kind": a.kind} for a in region.agencies
        ],
        Category.__table__: [
            {"code": c.code, "label_id": c.label_id, "label_en": c.label_en, "default_agency": c.default_agency}
            for c in region.categories
        ],
    }
    with engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(delete(table))
            if values:
                conn.execute(insert(table), values)
