"""Jogja-Smart-Service-style feed: an API envelope with offset pagination, UTC times, snake_case English."""
from __future__ import annotations

from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_json
from .people import chance, weighted

LIMIT = 200
PRIORS = {"roads": 14, "drainage": 7, "waste": 9, "street_lights": 8, "trees": 6, "parking": 5, "traffic": 5,
          "street_vendors": 4, "public_order": 4, "civil_registration": 8, "social_assistance": 7, "health": 5,
          "education": 3, "water": 4, "pollution": 3, "building_permits": 2, "information": 5, "other": 3}
SOURCES = [("app", 0.7), ("phone", 0.12), ("sms", 0.1), ("email", 0.08)]
PROGRESS = {"new": "submitted", "verified": "verified", "dispatched": "forwarded", "in_progress": "on_process",
            "resolved": "done", "rejected": "rejected"}


def extras(rng, case: Case) -> dict:
    return {"source": weighted(rng, SOURCES), "gps": chance(rng, 0.8)}


# Quick-response teams: answers within about two hours.
SPEC = ChannelSpec("jss", 4, 100, clock.hour_profile([(9.5, 2, 1.0), (13.5, 2, 0.6), (19.5, 2, 0.6)], 0.03),
                   PRIORS, verify_hours=0.3, response_factor=0.12, detail=0.5, pii=0.02, reject=0.04, extras=extras)


def item(world: World, case: Case) -> dict:
    at = world.window.cutoff
    stage = case.stage(at)
    agency = world.region.agencies.get(case.agency or "")
    return {
        "complaint_id": int(f"{case.day:%Y%m%d}{case.seq:04d}"),
        "reported_at": clock.iso_utc(case.received),
        "last_modified": clock.iso_utc(case.last_event(at)),
        "channel_source": case.extra["source"],
        "complaint_type": case.source.text,
        "subject": case.title,
        "description": case.body,
        "area": {"district_name": case.district.name, "subdistrict_name": case.kelurahan},
        "coordinates": f"{case.lat},{case.lon}" if case.extra["gps"] else None,
        "handler_unit": agency.name if agency and stage in ("dispatched", "in_progress", "resolved") else None,
        "progress_status": PROGRESS.get(stage, "submitted"),
        "responded_at": clock.iso_utc(case.verified if stage == "rejected" else case.seen(case.responded, at)),
        "completed_at": clock.iso_utc(case.resolved) if stage == "resolved" else None,
        "reporter": {"full_name": case.reporter["nama"], "id_number": case.reporter["nik"],
                     "phone_number": case.reporter["telepon"]},
    }


def write(world: World, out_dir: Path) -> list[Path]:
    items = [item(world, c) for c in world.cases(SPEC)]
    paths = []
    for n, offset in enumerate(range(0, max(len(items), 1), LIMIT), start=1):
        payload = {"status": "success", "code": 200,
                   "result": {"complaints": items[offset:offset + LIMIT],
                              "pagination": {"offset": offset, "limit": LIMIT, "total_count": len(items)}}}
        paths.append(write_json(out_dir / "jss" / f"complaints-{n:04d}.json", payload))
    return paths
