"""Region configuration: districts, agencies, categories, SLA rules and channels, read from plain files.

A region is a folder `regions/<name>/` (or any folder given by path). Nothing region-specific lives in Python.
"""
from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

REGIONS_DIR = Path(__file__).resolve().parent
DEFAULT_REGION = "surabaya"


class RegionError(ValueError):
    """A region folder is missing or one of its files is malformed."""


@dataclass(frozen=True)
class DistrictConfig:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    population: int | None = None
    area_km2: float | None = None


@dataclass(frozen=True)
class SubdistrictConfig:
    name: str
    district_code: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgencyConfig:
    code: str
    name: str
    short_name: str | None = None
    aliases: tuple[str, ...] = ()
    kind: str = "city"


@dataclass(frozen=True)
class CategoryConfig:
    code: str
    label_id: str
    label_en: str
    default_agency: str | None = None


@dataclass(frozen=True)
class CategoryMapping:
    channel: str
    source_category: str
    category: str
    agency: str | None = None


@dataclass(frozen=True)
class Region:
    name: str
    path: Path
    display_name: str
    timezone: ZoneInfo
    holidays_country: str
    map_view: dict
    boundaries: dict | None
    sla_rules: tuple[dict, ...]
    districts: tuple[DistrictConfig, ...]
    subdistricts: tuple[SubdistrictConfig, ...]
    agencies: tuple[AgencyConfig, ...]
    categories: tuple[CategoryConfig, ...]
    category_map: tuple[CategoryMapping, ...]
    channels: dict = field(default_factory=dict)
    province: str | None = None

    def channel_settings(self, channel: str) -> dict:
        return dict(self.channels.get(channel, {}))

    def enabled_channels(self) -> list[str]:
        return [name for name, cfg in self.channels.items() if cfg.get("enabled", True)]

    def boundary_path(self) -> Path | None:
        if not self.boundaries or not self.boundaries.get("file"):
            return None
        return (self.path / self.boundaries["file"]).resolve()


def _split_aliases(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split("|") if a.strip())


def _optional(value: str | None, cast):
    value = (value or "").strip()
    return cast(value) if value else None


def _read_csv(path: Path, required: set[str]) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise RegionError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if any(not (row.get(col) or "").strip() for col in required):
                raise RegionError(f"{path}:{line_no}: empty value in a required column ({', '.join(sorted(required))})")
            rows.append({k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k})
        return rows


def _load_districts(folder: Path) -> tuple[DistrictConfig, ...]:
    rows = _read_csv(folder / "districts.csv", {"code", "name"})
    if not rows:
        raise RegionError(f"{folder}: districts.csv is missing or empty")
    return tuple(
        DistrictConfig(
            code=r["code"],
            name=r["name"],
            aliases=_split_aliases(r.get("aliases")),
            lat=_optional(r.get("lat"), float),
            lon=_optional(r.get("lon"), float),
            population=_optional(r.get("population"), lambda v: int(float(v))),
            area_km2=_optional(r.get("area_km2"), float),
        )
        for r in rows
    )


def _load_region_file(folder: Path) -> dict:
    path = folder / "region.toml"
    if not path.exists():
        raise RegionError(f"{folder}: region.toml is missing")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RegionError(f"{path}: {exc}") from exc


def _load_channels(folder: Path) -> dict:
    path = folder / "channels.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RegionError(f"{path}: {exc}") from exc


def region_folder(name_or_path: str | os.PathLike | None = None) -> Path:
    name = str(name_or_path or os.environ.get("SIGAP_REGION") or DEFAULT_REGION)
    candidate = Path(name)
    if candidate.is_dir():
        return candidate.resolve()
    folder = REGIONS_DIR / name
    if not folder.is_dir():
        known = sorted(p.name for p in REGIONS_DIR.iterdir() if (p / "region.toml").exists())
        raise RegionError(f"unknown region {name!r}; known regions: {', '.join(known)} (or give a folder path)")
    return folder


@lru_cache(maxsize=16)
def load_region(name_or_path: str | None = None) -> Region:
    folder = region_folder(name_or_path)
    settings = _load_region_file(folder)
    try:
        tz = ZoneInfo(settings.get("timezone", "Asia/Jakarta"))
    except Exception as exc:  # ZoneInfoNotFoundError and bad keys alike
        raise RegionError(f"{folder}/region.toml: unknown timezone {settings.get('timezone')!r}") from exc
    return Region(
        name=settings.get("name", folder.name),
        path=folder,
        display_name=settings.get("display_name", folder.name),
        province=settings.get("province"),
        timezone=tz,
        holidays_country=settings.get("holidays_country", "ID"),
        map_view=settings.get("map", {}),
        boundaries=settings.get("boundaries"),
        sla_rules=tuple(settings.get("sla", [])),
        districts=_load_districts(folder),
        subdistricts=tuple(
            SubdistrictConfig(r["name"], r["district_code"], _split_aliases(r.get("aliases")))
            for r in _read_csv(folder / "subdistricts.csv", {"name", "district_code"})
        ),
        agencies=tuple(
            AgencyConfig(r["code"], r["name"], r.get("short_name") or None, _split_aliases(r.get("aliases")),
                         r.get("kind") or "city")
            for r in _read_csv(folder / "agencies.csv", {"code", "name"})
        ),
        categories=tuple(
            CategoryConfig(r["code"], r.get("label_id") or r["code"], r.get("label_en") or r["code"],
                           r.get("default_agency") or None)
            for r in _read_csv(folder / "categories.csv", {"code"})
        ),
        category_map=tuple(
            CategoryMapping(r["channel"], r["source_category"], r["category"], r.get("agency") or None)
            for r in _read_csv(folder / "category_map.csv", {"channel", "source_category", "category"})
        ),
        channels=_load_channels(folder),
    )
