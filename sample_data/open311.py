"""Open311 GeoReport v2 `requests.json` pages (plain arrays with the standard fields)."""
from __future__ import annotations

import re
import zlib
from datetime import timedelta
from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_json
from .people import chance

PAGE_SIZE = 500
PRIORS = {"roads": 18, "street_lights": 12, "flooding": 5, "drainage": 8, "waste": 12, "public_order": 3,
          "parking": 6, "traffic": 6, "trees": 8, "pollution": 5, "water": 6, "electricity": 3, "street_vendors": 3,
          "social_assistance": 2, "building_permits": 2, "other": 3}
NOTES = {"new": "Laporan diterima.", "verified": "Laporan telah diverifikasi.",
         "dispatched": "Diteruskan ke {agency}.", "in_progress": "Sedang ditangani {agency}.",
         "resolved": "Selesai ditangani {agency}.", "rejected": "Ditutup: di luar kewenangan atau laporan ganda."}


def extras(rng, case: Case) -> dict:
    return {"media": chance(rng, 0.35), "number": int(rng.random() * 150) + 1}


SPEC = ChannelSpec("open311", 5, 150, clock.hour_profile([(9, 2, 1.0), (13, 2, 0.6), (20, 2, 0.6)], 0.03), PRIORS,
                   verify_hours=1.0, response_factor=1.0, detail=0.5, pii=0.01, reject=0.04, extras=extras)


def service_code(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def item(world: World, case: Case) -> dict:
    at = world.window.cutoff
    stage = case.stage(at)
    agency = world.region.agencies.get(case.agency or "")
    request_id = f"{case.day:%y%m%d}{case.seq:04d}"
    kel = f", Kel. {case.kelurahan}" if case.kelurahan else ""
    return {
        "service_request_id": request_id,
        "status": "closed" if stage in ("resolved", "rejected") else "open",
        "status_notes": NOTES.get(stage, "").format(agency=agency.short_name if agency else "dinas terkait"),
        "service_name": case.source.text,
        "service_code": service_code(case.source.text),
        "description": case.body,
        "agency_responsible": agency.name if agency and stage not in ("new", "verified") else "",
        "service_notice": "",
        "requested_datetime": clock.iso_local(case.received),
        "updated_datetime": clock.iso_local(case.last_event(at)),
        "expected_datetime": clock.iso_local(case.received + timedelta(days=7)),
        "address": f"{case.street} No. {case.extra['number']}{kel}, Kec. {case.district.name}, Surabaya",
        "address_id": None,
        "zipcode": str(60111 + zlib.crc32((case.kelurahan or case.district.name).encode()) % 189),
        "lat": case.lat,
        "long": case.lon,
        "media_url": f"https://open311.sigap.example/media/{request_id}.jpg" if case.extra["media"] else None,
    }


def write(world: World, out_dir: Path) -> list[Path]:
    items = [item(world, c) for c in world.cases(SPEC)]
    chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    return [write_json(out_dir / "open311" / f"requests-{n:04d}.json", chunk) for n, chunk in enumerate(chunks, 1)]
