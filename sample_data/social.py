"""Social-listening export: one CSV per month of posts mentioning the city's accounts."""
from __future__ import annotations

import base64
from pathlib import Path

from . import clock
from .cases import Case, ChannelSpec, World
from .files import write_csv
from .people import pick, weighted
from .texts import PHRASES, social_post

COLUMNS = ["post_id", "platform", "account", "posted_at", "author_handle", "text", "url", "topic", "location_hint",
           "sentiment", "handled_by", "status", "replied_at", "closed_at"]
PRIORS = {"roads": 14, "flooding": 6, "waste": 10, "street_lights": 10, "trees": 7, "parking": 8, "traffic": 10,
          "street_vendors": 5, "crime": 4, "information": 8, "other": 10}
PLATFORMS = [("instagram", 0.5), ("x", 0.3), ("facebook", 0.2)]
ACCOUNTS = {"instagram": [("@sapawargasby", 0.55), ("@banggasurabaya", 0.45)],
            "x": [("@sapawargasby", 0.7), ("@banggasurabaya", 0.3)],
            "facebook": [("@sapawargasby", 0.5), ("@pemkotsurabaya", 0.5)]}
STATUS = {"new": "new", "verified": "forwarded", "dispatched": "forwarded", "in_progress": "replied",
          "resolved": "closed", "rejected": "dismissed"}
HANDLE_STEMS = ["arek", "cak", "ning", "wargasby", "suroboyo", "sby", "kampung"]
THANKED = ["roads", "waste", "street_lights", "trees", "drainage"]
EPOCH_MS = 1288834974657  # X snowflake epoch


def snowflake(case: Case) -> int:
    """X-style id: milliseconds since the X epoch, shifted, plus the day's sequence number."""
    ms = int(case.received.replace(tzinfo=clock.WIB).timestamp() * 1000)
    return ((ms - EPOCH_MS) << 22) | (case.seq & 0x3FFFFF)


def handle(rng, case: Case) -> str:
    first = case.reporter["nama"].split()[0].lower()
    stem = pick(rng, HANDLE_STEMS + [first, first])
    tail = pick(rng, [case.district.name.split()[0].lower(), first, "sby"])
    return f"@{stem}{pick(rng, ['_', '.', ''])}{tail}{int(rng.random() * 99)}"


def location_hint(rng, case: Case) -> str:
    roll = rng.random()
    if roll < 0.45:
        return case.street
    if roll < 0.65 and case.kelurahan:
        return case.kelurahan
    return f"Kec. {case.district.name}" if roll < 0.78 else ""


def extras(rng, case: Case) -> dict:
    platform = weighted(rng, PLATFORMS)
    account = weighted(rng, ACCOUNTS[platform])
    mention = case.category == "other"
    sentiment = weighted(rng, [("positive", 0.4), ("neutral", 0.6)] if mention else
                         [("negative", 0.8), ("neutral", 0.17), ("positive", 0.03)])
    topic = case.topic if not mention else pick(rng, PHRASES[pick(rng, THANKED)][0])
    text = social_post(rng, topic, case.place, account, sentiment)
    return {"platform": platform, "account": account, "sentiment": sentiment, "text": text,
            "author": handle(rng, case), "hint": location_hint(rng, case), "page": int(rng.random() * 9e14) + 10**14}


SPEC = ChannelSpec("social", 6, 400, clock.hour_profile([(12, 2, 0.5), (20.5, 2.5, 1.0)], 0.05), PRIORS,
                   verify_hours=0.8, response_factor=0.5, detail=0.0, reject=0.12, extras=extras,
                   weekday=(1.09, 1.06, 1.03, 1.02, 0.97, 0.92, 0.84))


def post_url(case: Case, post_id: str) -> str:
    x = case.extra
    if x["platform"] == "x":
        return f"https://x.com/{x['author'][1:]}/status/{post_id}"
    if x["platform"] == "instagram":
        code = base64.urlsafe_b64encode(int(post_id).to_bytes(8, "big")).decode().rstrip("=")
        return f"https://www.instagram.com/p/{code}/"
    return f"https://www.facebook.com/{x['account'][1:]}/posts/{post_id.split('_')[1]}"


def row(world: World, case: Case) -> list:
    at = world.window.cutoff
    stage = case.stage(at)
    x = case.extra
    number = snowflake(case)
    post_id = f"{x['page']}_{number}" if x["platform"] == "facebook" else str(number)
    agency = world.region.agencies.get(case.agency or "")
    handled = agency.short_name if agency and stage not in ("new", "rejected") else ""
    replied = case.seen(case.responded, at)
    return [post_id, x["platform"], x["account"], clock.iso_local(case.received), x["author"], x["text"],
            post_url(case, post_id), case.source.text, x["hint"], x["sentiment"], handled, STATUS.get(stage, "new"),
            clock.iso_local(replied) or "", clock.iso_local(case.resolved) if stage == "resolved" else ""]


def write(world: World, out_dir: Path) -> list[Path]:
    by_month: dict[str, list] = {}
    for case in world.cases(SPEC):
        by_month.setdefault(f"{case.day:%Y-%m}", []).append(row(world, case))
    return [write_csv(out_dir / "social" / f"social-{month}.csv", COLUMNS, rows) for month, rows in by_month.items()]
