"""Media Center tickets (web form, live chat, walk-in, letter): cursor-paged JSON."""
from __future__ import annotations

import base64
from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_json
from .people import chance, weighted

PER_PAGE = 250
PRIORS = {"roads": 13, "flooding": 4, "drainage": 7, "waste": 8, "street_lights": 8, "trees": 6, "parking": 4,
          "street_vendors": 4, "traffic": 4, "public_order": 4, "civil_registration": 7, "social_assistance": 7,
          "health": 5, "education": 3, "water": 4, "electricity": 2, "pollution": 3, "building_permits": 2,
          "housing": 3, "information": 6, "other": 3}
OFFICE = [("web_form", 0.40), ("live_chat", 0.30), ("walk_in", 0.18), ("letter", 0.12)]
AFTER_HOURS = [("web_form", 0.6), ("live_chat", 0.4)]
STATES = {"new": "open", "verified": "open", "dispatched": "assigned", "in_progress": "in_progress",
          "resolved": "closed", "rejected": "rejected"}


def extras(rng, case: Case) -> dict:
    t = case.received
    office = t.weekday() < 5 and 8 <= t.hour < 16
    channel = weighted(rng, OFFICE if office else AFTER_HOURS)
    located = chance(rng, 0.5 if channel == "live_chat" else 0.9)
    email = chance(rng, 0.2 if channel in ("walk_in", "letter") else 0.8)
    return {"channel": channel, "located": located, "email": email}


SPEC = ChannelSpec("mediacenter", 3, 300, clock.hour_profile([(10, 2, 1.0), (14, 2, 0.7), (20, 2, 0.25)], 0.02),
                   PRIORS, verify_hours=1.5, response_factor=1.0, detail=0.6, pii=0.03, reject=0.03, extras=extras,
                   weekday=(1.15, 1.06, 1.03, 1.02, 0.97, 0.56, 0.37))


def item(world: World, case: Case) -> dict:
    at = world.window.cutoff
    stage = case.stage(at)
    agency = world.region.agencies.get(case.agency or "")
    x = case.extra
    location = None
    if x["located"]:
        location = {"district": case.district.name, "village": case.kelurahan, "lat": case.lat, "lon": case.lon}
    return {
        "ticket_no": f"MC-{case.day:%y%m%d}-{case.seq:04d}",
        "channel": x["channel"],
        "submitted": clock.iso_local(case.received),
        "last_update": clock.iso_local(case.last_event(at)),
        "topic": case.source.text,
        "message": case.body,
        "location": location,
        "assigned_to": agency.name if agency and stage in ("dispatched", "in_progress", "resolved") else None,
        "state": STATES.get(stage, "open"),
        "first_reply": clock.iso_local(case.verified if stage == "rejected" else case.seen(case.responded, at)),
        "closed": clock.iso_local({"resolved": case.resolved, "rejected": case.verified}.get(stage)),
        "citizen": {"name": case.reporter["nama"], "phone": case.reporter["telepon"],
                    "email": case.reporter["email"] if x["email"] else None},
    }


def cursor(ticket_no: str) -> str:
    return base64.urlsafe_b64encode(f"after:{ticket_no}".encode()).decode().rstrip("=")


def write(world: World, out_dir: Path) -> list[Path]:
    items = [item(world, c) for c in world.cases(SPEC)]
    pages = [items[i:i + PER_PAGE] for i in range(0, len(items), PER_PAGE)] or [[]]
    paths = []
    for n, chunk in enumerate(pages, start=1):
        more = n < len(pages)
        payload = {"items": chunk, "cursor": cursor(chunk[-1]["ticket_no"]) if more else None, "has_more": more}
        paths.append(write_json(out_dir / "mediacenter" / f"tickets-{n:04d}.json", payload))
    return paths
