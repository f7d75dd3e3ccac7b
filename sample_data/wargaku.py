"""Wargaku app feed: paged JSON `{"data": [...], "page", "per_page", "total", "next_page"}`."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_json
from .people import chance, weighted

PER_PAGE = 500
# Wargaku topics: 2021 vaccination 13 %, bansos 7 %, MBR 4 %, PJU 4 %, trees 3.5 %, roads 3 %, adminduk 3 %,
# PDAM 2.5 %, e-KTP 2.4 %, kamtibmas 2 %; in 2022 trees, MBR, roads and floods lead.
PRIORS = {"health": 8, "social_assistance": 12, "street_lights": 5, "trees": 8, "roads": 7, "civil_registration": 9,
          "water": 3, "public_order": 3, "flooding": 4, "drainage": 4, "waste": 5, "parking": 3, "street_vendors": 3,
          "traffic": 2, "education": 4, "housing": 3, "pollution": 2, "building_permits": 1, "electricity": 1.5,
          "information": 6, "other": 7}
KINDS = [("keluhan", 0.62), ("saran", 0.12), ("kritik", 0.09), ("apresiasi", 0.04), ("permohonan informasi", 0.13)]
STATUS = {"new": "menunggu", "verified": "menunggu", "dispatched": "diproses", "in_progress": "ditindaklanjuti",
          "resolved": "selesai", "rejected": "ditolak"}


def extras(rng, case: Case) -> dict:
    text = case.source.text.lower()
    kind = next((k for k, _ in KINDS if k == text), None)
    if kind is None:
        kind = "permohonan informasi" if case.category == "information" else weighted(rng, KINDS[:4])
    return {"kind": kind, "gps": chance(rng, 0.88)}


SPEC = ChannelSpec("wargaku", 2, 900, clock.hour_profile([(9, 2, 1.0), (13, 2, 0.6), (20, 2, 0.8)], 0.03), PRIORS,
                   verify_hours=0.4, response_factor=0.9, detail=0.35, pii=0.02, reject=0.03, extras=extras)


def year_offsets(world: World) -> dict[date, int]:
    """Number of Wargaku complaints filed earlier in the same year, for each day of the window."""
    offsets, running = {}, 0
    day = date(world.window.start.year, 1, 1)
    while day <= world.window.end:
        if day.month == 1 and day.day == 1:
            running = 0
        offsets[day] = running
        running += world.day_count(SPEC, day)
        day += timedelta(days=1)
    return offsets


def item(world: World, case: Case, number: int) -> dict:
    at = world.window.cutoff
    stage = case.stage(at)
    agency = world.region.agencies.get(case.agency or "")
    first = case.verified if stage == "rejected" else case.seen(case.responded, at)
    return {
        "id": f"WG-{case.day.year}-{number:06d}",
        "created_at": clock.iso_local(case.received),
        "updated_at": clock.iso_local(case.last_event(at)),
        "jenis": case.extra["kind"],
        "kategori": case.source.text,
        "judul": case.title,
        "isi": case.body,
        "kecamatan": case.district.name,
        "kelurahan": case.kelurahan,
        "lat": case.lat if case.extra["gps"] else None,
        "lng": case.lon if case.extra["gps"] else None,
        "opd": agency.short_name if agency and stage not in ("new", "verified", "rejected") else None,
        "status": STATUS.get(stage, "menunggu"),
        "tanggapan_pertama_at": clock.iso_local(first),
        "selesai_at": clock.iso_local(case.resolved) if stage == "resolved" else None,
        "pelapor": dict(case.reporter),
    }


def write(world: World, out_dir: Path) -> list[Path]:
    offsets = year_offsets(world)
    items = [item(world, c, offsets[c.day] + c.seq) for c in world.cases(SPEC)]
    pages = [items[i:i + PER_PAGE] for i in range(0, len(items), PER_PAGE)] or [[]]
    paths = []
    for n, chunk in enumerate(pages, start=1):
        payload = {"data": chunk, "page": n, "per_page": PER_PAGE, "total": len(items),
                   "next_page": n + 1 if n < len(pages) else None}
        paths.append(write_json(out_dir / "wargaku" / f"page-{n:04d}.json", payload))
    return paths
