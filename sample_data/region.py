"""Read the region configuration files the generator draws names, categories and agencies from."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGIONS_DIR = PROJECT_ROOT / "regions"
# Fallback for district centroids only (the brief's computed centroids).
SHARED_CENTROIDS = PROJECT_ROOT.parent / "shared" / "domain" / "surabaya_kecamatan.csv"


@dataclass
class District:
    code: str
    name: str
    aliases: list[str]
    lat: float
    lon: float
    population: float
    subdistricts: list[str] = field(default_factory=list)
    sub_aliases: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Agency:
    code: str
    name: str
    short_name: str
    aliases: list[str]
    kind: str

    @property
    def official_name(self) -> str:
        """The name as national systems (LAPOR) print it: '<name> Kota Surabaya' when that alias exists."""
        for alias in self.aliases:
            if alias.startswith(self.name) and alias.endswith("Kota Surabaya"):
                return alias
        return self.name


@dataclass
class SourceCategory:
    text: str
    category: str
    agency: str  # agency code after applying the category default


@dataclass
class RegionData:
    districts: list[District]
    agencies: dict[str, Agency]
    category_labels: dict[str, str]
    source_categories: dict[str, list[SourceCategory]]  # channel -> rows in file order

    def district_office(self, district: District) -> str | None:
        code = "KEC_" + district.code.upper()
        return code if code in self.agencies else None


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _split(text: str) -> list[str]:
    return [a.strip() for a in (text or "").split("|") if a.strip()]


def _fallback_centroids() -> dict[str, tuple[float, float]]:
    if not SHARED_CENTROIDS.exists():
        return {}
    return {r["kecamatan"].lower(): (float(r["lat"]), float(r["lon"])) for r in _rows(SHARED_CENTROIDS)}


def _load_districts(folder: Path) -> list[District]:
    fallback = _fallback_centroids()
    districts = []
    for r in _rows(folder / "districts.csv"):
        lat, lon = r.get("lat"), r.get("lon")
        if not (lat and lon):
            lat, lon = fallback.get(r["name"].lower(), (None, None))
        if lat is None:
            raise ValueError(f"districts.csv: no centroid for {r['name']}")
        districts.append(District(r["code"], r["name"], _split(r.get("aliases", "")), float(lat), float(lon),
                                  float(r.get("population") or 50000)))
    by_code = {d.code: d for d in districts}
    sub_path = folder / "subdistricts.csv"
    if sub_path.exists():
        for r in _rows(sub_path):
            d = by_code.get(r["district_code"])
            if d is not None:
                d.subdistricts.append(r["name"])
                d.sub_aliases[r["name"]] = _split(r.get("aliases", ""))
    return districts


def _load_agencies(folder: Path) -> dict[str, Agency]:
    return {r["code"]: Agency(r["code"], r["name"], r.get("short_name") or r["code"], _split(r.get("aliases", "")),
                              r.get("kind") or "city")
            for r in _rows(folder / "agencies.csv")}


def load_region(region: str | Path = "surabaya") -> RegionData:
    folder = Path(region) if Path(region).is_dir() else REGIONS_DIR / str(region)
    needed = ["districts.csv", "agencies.csv", "categories.csv", "category_map.csv"]
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: missing region file(s) {', '.join(missing)}")
    agencies = _load_agencies(folder)
    categories = _rows(folder / "categories.csv")
    defaults = {c["code"]: c.get("default_agency", "") for c in categories}
    fallback_agency = "DISKOMINFO" if "DISKOMINFO" in agencies else next(iter(agencies))
    source: dict[str, list[SourceCategory]] = {}
    for r in _rows(folder / "category_map.csv"):
        if r["channel"].startswith("#") or r["category"] not in defaults:
            continue
        agency = next((a for a in (r.get("agency"), defaults[r["category"]]) if a in agencies), fallback_agency)
        source.setdefault(r["channel"], []).append(SourceCategory(r["source_category"], r["category"], agency))
    return RegionData(_load_districts(folder), agencies, {c["code"]: c["label_id"] for c in categories}, source)
