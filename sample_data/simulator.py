"""Live activity for demos (studi tiru): new complaints and status changes, through the real import path.

Every few seconds the simulator acts as the channels' own systems would: it writes NEW complaints in their real
formats (a Wargaku API page, a Command Center 112 CSV log, drawn by the sample-data generator's own code) into a
temporary folder, moves open complaints on by writing their UPDATED source records (a Wargaku item with a new
status, a 112 call logged again once finished), and imports each file with the channel's connector and
`run_import`. It never edits the tables. The pace follows the generator's daily rhythms, sped up by an
acceleration factor (SIGAP_DEMO_SPEED, default 60: one simulated hour a minute).

It refuses to run unless the database is a demo one: the embedded default SQLite file, a database (or SQLite
file) whose name contains "demo", or any database when SIGAP_DEMO_DATABASE=1.

    python -m sample_data.simulator [--speed 60] [--seconds 5]     # run against DATABASE_URL until Ctrl-C
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine

from models import Agency, Category, Complaint
from models.db import DEFAULT_SQLITE_PATH
from regions import Region

from . import call112, clock, wargaku
from .cases import World
from .files import write_csv, write_json
from .region import RegionData
from .region import load_region as load_sample_region

log = logging.getLogger("sigap.simulator")
C = Complaint.__table__.c
TRUE = ("1", "true", "yes", "on")
# Wargaku status steps and the mean simulated hours spent before each (routing, first answer, resolution).
WARGAKU_STEPS = {"new": ("diproses", 0.5), "verified": ("diproses", 0.5), "dispatched": ("ditindaklanjuti", 6.0),
                 "in_progress": ("selesai", 48.0)}
PENDING_CALLS = 2000  # 112 calls remembered until they are logged as finished (bounded memory)
MAX_MOVES = 40  # status changes written per tick, at most


class DemoRefused(RuntimeError):
    """The database is not a demo database: the simulator does nothing."""

    def __init__(self, database: str):
        self.database = database
        super().__init__(f"refusing to simulate complaints in {database}: not a demo database (use the embedded "
                         "SQLite default, a database whose name contains 'demo', or set SIGAP_DEMO_DATABASE=1)")


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def is_demo_database(url: URL | str) -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(url) if isinstance(url, str) else url
    if os.environ.get("SIGAP_DEMO_DATABASE", "").strip().lower() in TRUE:
        return True
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return False
        path = Path(url.database)
        return path.resolve() == DEFAULT_SQLITE_PATH.resolve() or "demo" in path.name.lower()
    return "demo" in (url.database or "").lower()  # the database's own name, not the host or a folder


def ensure_demo_database(url: URL | str) -> None:
    if not is_demo_database(url):
        from sqlalchemy.engine import make_url

        raise DemoRefused(_shown(make_url(url) if isinstance(url, str) else url))


class Simulator:
    """A background thread that keeps a demo database alive; one per process (the dashboard caches it)."""

    def __init__(self, engine: Engine, region: Region, *, speed: float | None = None, seconds: float | None = None,
                 folder: Path | None = None, seed: int | None = None):
        ensure_demo_database(engine.url)  # first, before anything is created
        self.engine, self.region = engine, region
        self.speed = float(speed if speed is not None else os.environ.get("SIGAP_DEMO_SPEED", "60"))
        self.seconds = float(seconds if seconds is not None else os.environ.get("SIGAP_DEMO_SECONDS", "5"))
        self.rng = np.random.default_rng(seed)
        self.data: RegionData = load_sample_region(region.path)
        self.channels = [c for c in ("wargaku", "call112") if c in region.enabled_channels()
                         and self.data.source_categories.get(c)]
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="sigap-demo-"))
        self.pending: OrderedDict[str, tuple[list, datetime]] = OrderedDict()  # 112 uid -> (row, finishes at)
        self.totals = {"ticks": 0, "new": 0, "moved": 0, "errors": 0}
        self._queued: dict[str, list[dict]] = {}  # Wargaku items waiting for this step's page
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------------------------

    def start(self) -> "Simulator":
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sigap-demo-simulator", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a demo must keep going; the next tick tries again
                self.totals["errors"] += 1
                log.exception("demo simulator tick failed")

    def tick(self, now: datetime | None = None) -> dict:
        """One step: new arrivals and status changes for `self.seconds` of wall time at `self.speed`."""
        now = now or datetime.now(timezone.utc)
        hours = self.seconds * self.speed / 3600  # simulated hours in this step
        local_hour = now.astimezone(self.region.timezone).hour
        done = {"new": 0, "moved": 0}
        if "wargaku" in self.channels:
            rate = wargaku.SPEC.per_month * 12 / 365 * float(wargaku.SPEC.hours[local_hour])  # per hour
            done["new"] += self.add_wargaku(int(self.rng.poisson(rate * hours)), now, import_now=False)
            done["moved"] += self._move_wargaku(hours, now)
            self._import_pending("wargaku")
        if "call112" in self.channels:
            rate = 250 * float(call112.HOURS[local_hour])  # calls per hour
            done["new"] += self.add_calls(int(self.rng.poisson(rate * hours)), now)
        self.totals["ticks"] += 1
        self.totals["new"] += done["new"]
        self.totals["moved"] += done["moved"]
        return done

    # --- Wargaku ---------------------------------------------------------------------------------------------

    def add_wargaku(self, count: int, now: datetime | None = None, import_now: bool = True) -> int:
        """Write `count` new Wargaku complaints (status menunggu) drawn by the generator; import them."""
        if count <= 0:
            return 0
        now = now or datetime.now(timezone.utc)
        local = now.astimezone(self.region.timezone).replace(tzinfo=None, microsecond=0)
        world = World(self.data, clock.make_window(local, 1, int(self.rng.integers(1 << 30)), 1.0))
        cases = world.day_cases(wargaku.SPEC, local.date())
        while len(cases) < count:  # a quiet day draws few; borrow the next days' cases
            cases += world.day_cases(wargaku.SPEC, local.date() + timedelta(days=len(cases) + 1))
        number = self._next_number("wargaku", f"WG-{local.year}-", 6)
        items = []
        for i, case in enumerate(cases[:count]):
            case.received = local - timedelta(seconds=int(self.rng.integers(0, max(1, int(self.seconds)) + 1)))
            case.verified = case.dispatched = case.responded = case.resolved = None  # just arrived
            case.day = local.date()
            items.append(wargaku.item(world, case, number + i))
        self._queue("wargaku", items)
        if import_now:
            self._import_pending("wargaku")
        return len(items)

    def _move_wargaku(self, hours: float, now: datetime) -> int:
        """Advance open Wargaku complaints by one status each, with the chance their stage's mean time gives."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(C.source_id, C.status).where(
                C.channel == "wargaku", C.status.in_(tuple(WARGAKU_STEPS))).limit(5000)).all()
        chosen = [source_id for source_id, status in rows
                  if self.rng.random() < 1 - math.exp(-hours / WARGAKU_STEPS[status][1])][:MAX_MOVES]
        if not chosen:
            return 0
        self._queue("wargaku", self._updated_items(chosen, now))
        return len(chosen)

    def _updated_items(self, source_ids: list[str], now: datetime) -> list[dict]:
        """The Wargaku records of these complaints one status further on, rebuilt from what was imported.

        Reporter data is left out: the pipeline keeps the contact it stored.
        """
        agencies = {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(Complaint.__table__).where(
                C.channel == "wargaku", C.source_id.in_(source_ids))).mappings().all()
            short = dict(conn.execute(select(Agency.code, func.coalesce(Agency.short_name, Agency.name))).all())
            defaults = dict(conn.execute(select(Category.code, Category.default_agency)).all())
        districts = {d.code: d.name for d in self.region.districts}
        for row in rows:
            agency = row["agency_code"] or defaults.get(row["category"] or "")
            agencies[row["source_id"]] = row["agency_raw"] or short.get(agency or "")
        zone = self.region.timezone
        items = []
        for row in rows:
            status = WARGAKU_STEPS[row["status"]][0]
            responded = row["first_response_at"] or (now if status in ("ditindaklanjuti", "selesai") else None)
            items.append({
                "id": row["source_id"], "created_at": row["received_at"].astimezone(zone).isoformat(),
                "updated_at": now.astimezone(zone).replace(microsecond=0).isoformat(),
                "jenis": row["source_type"] or "keluhan", "kategori": row["category_raw"] or "",
                "judul": row["title"] or "", "isi": row["body"] or "",
                "kecamatan": row["district_raw"] or districts.get(row["district_code"] or "", ""),
                "kelurahan": row["subdistrict"], "lat": row["lat"], "lng": row["lon"],
                "opd": agencies.get(row["source_id"]), "status": status,
                "tanggapan_pertama_at": responded.astimezone(zone).replace(microsecond=0).isoformat()
                if responded else None,
                "selesai_at": now.astimezone(zone).replace(microsecond=0).isoformat() if status == "selesai" else None,
            })
        return items

    # --- Command Center 112 ----------------------------------------------------------------------------------

    def add_calls(self, count: int, now: datetime | None = None) -> int:
        """Log `count` new 112 calls (emergencies in progress) and finish earlier ones that are due; import."""
        now = now or datetime.now(timezone.utc)
        local = now.astimezone(self.region.timezone).replace(tzinfo=None, microsecond=0)
        rows = [self._finished(uid) for uid, (_, at) in list(self.pending.items()) if at <= local]
        if count > 0:
            rows += self._new_calls(count, local)
        if rows:
            path = self.folder / "call112" / f"call112-{local:%Y%m%d-%H%M%S}-{self.totals['ticks']}.csv"
            self._import("call112", write_csv(path, call112.COLUMNS, rows, bom=True))
        return max(count, 0)

    def _new_calls(self, count: int, local: datetime) -> list[list]:
        # a cut-off far ahead lets the generator give every call its full handling time, which we then compress
        world = World(self.data, clock.make_window(local + timedelta(days=60), 1, 0, 1.0))
        keywords, weights = call112.keyword_table(world)
        kinds = self.rng.choice(len(call112.TYPES), size=count, p=call112.TYPE_P)
        picks = self.rng.choice(len(keywords), size=count, p=weights / weights.sum())
        places = self.rng.choice(len(self.data.districts), size=count, p=world.district_p)
        first = self._next_number("call112", f"{local:%Y%m%d}", 4)
        rows = []
        for i in range(count):
            when = local - timedelta(seconds=int(self.rng.integers(0, max(1, int(self.seconds)) + 1)))
            row = call112.one_row(world, self.rng, local.date(), first + i, when, call112.TYPES[kinds[i]],
                                  keywords[picks[i]], self.data.districts[places[i]], xlsx=False)
            if row[2] == "emergency":
                seconds = _duration_seconds(row[10]) / self.speed
                row[10] = None  # still being handled
                self.pending[row[0]] = (row, when + timedelta(seconds=max(30, seconds)))
                while len(self.pending) > PENDING_CALLS:
                    self.pending.popitem(last=False)
            rows.append(row)
        return rows

    def _finished(self, uid: str) -> list:
        row, at = self.pending.pop(uid)
        started = datetime.strptime(row[1], "%Y-%m-%d %H:%M:%S")
        return [*row[:10], call112.duration_text(max(1.0, (at - started).total_seconds()))]

    # --- files and imports -----------------------------------------------------------------------------------

    def _next_number(self, channel: str, prefix: str, digits: int) -> int:
        """The number after the highest source id with this prefix (ids keep counting as the source's do)."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(C.source_id).where(C.channel == channel, C.source_id.like(prefix + "%"))
                               .order_by(func.length(C.source_id).desc(), C.source_id.desc()).limit(1)).scalars().all()
        tail = ids[0][len(prefix):] if ids else ""
        return int(tail) + 1 if tail.isdigit() else 1

    def _queue(self, channel: str, items: list[dict]) -> None:
        self._queued.setdefault(channel, []).extend(items)

    def _import_pending(self, channel: str) -> None:
        """Write the queued Wargaku items as one API page (the app's own JSON shape) and import it."""
        items = self._queued.pop(channel, [])
        if not items:
            return
        latest = {item["id"]: item for item in items}  # one record per complaint, the newest state
        payload = {"data": list(latest.values()), "page": 1, "per_page": wargaku.PER_PAGE, "total": len(latest),
                   "next_page": None}
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        self._import(channel, write_json(self.folder / channel / f"page-{stamp}.json", payload))

    def _import(self, channel: str, path: Path) -> None:
        from connectors.pipeline import run_import
        from connectors.registry import connector_for

        try:
            summary = run_import(connector_for(channel, self.region, source=path), self.engine, source=str(path))
            if summary.state != "succeeded" or summary.quarantined:
                log.warning("demo import of %s: %s", path.name, summary.as_dict())
        finally:
            path.unlink(missing_ok=True)  # the folder stays small however long the demo runs


def _duration_seconds(text: str | None) -> float:
    """'0 Hari : 1 Jam : 5 Menit : 9 Detik' -> 3909."""
    if not text:
        return 600.0
    numbers = [int(part.split()[0]) for part in text.split(":")]
    return float(numbers[0] * 86400 + numbers[1] * 3600 + numbers[2] * 60 + numbers[3])


def main(argv: list[str] | None = None) -> int:
    from models.db import get_engine, prepare_database
    from regions import load_region

    parser = argparse.ArgumentParser(prog="python -m sample_data.simulator", description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=None, help="acceleration factor (default 60)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds between steps (default 5)")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    region = load_region(args.region)
    engine = get_engine()
    try:
        simulator = Simulator(engine, region, speed=args.speed, seconds=args.seconds)
    except DemoRefused as exc:
        print(exc)
        return 2
    prepare_database(engine, region)
    simulator.start()
    try:
        while True:
            threading.Event().wait(60)
            print(simulator.totals, flush=True)
    except KeyboardInterrupt:
        simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
