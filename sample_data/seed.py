"""Seed an empty embedded database with sample data, through the same import path production data takes.

The generator writes files in the channels' real formats; each file is imported with its channel's
connector and the ordinary pipeline, so the seeded database is exactly what real imports would produce.
"""
from __future__ import annotations

import fcntl
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models import Complaint
from models.db import PROJECT_ROOT
from regions import Region

log = logging.getLogger("sigap.seed")
SAMPLE_DIR = PROJECT_ROOT / "var" / "sample"


@dataclass
class SeedReport:
    files: int = 0
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    skipped_channels: list[str] = field(default_factory=list)


def should_seed() -> bool:
    """Seed the embedded default only, unless told otherwise: a production database is never filled with samples."""
    setting = os.environ.get("SIGAP_SEED", "").lower()
    if setting in ("0", "false", "no"):
        return False
    return setting in ("1", "true", "yes") or not os.environ.get("DATABASE_URL")


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Complaint.__table__)).scalar_one() == 0


@contextmanager
def _seed_lock():
    """Two processes starting at once (dashboard + worker) must not seed twice."""
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    with (SAMPLE_DIR / ".seed.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def seed(engine: Engine, region: Region, now: datetime | None = None, scale: float | None = None,
         months: int | None = None) -> SeedReport | None:
    """Generate and import sample data if the database holds no complaint yet; None when nothing was done.

    SIGAP_SEED_SCALE and SIGAP_SEED_MONTHS shrink it (tests, small demo machines).
    """
    scale = scale if scale is not None else float(os.environ.get("SIGAP_SEED_SCALE", "1"))
    months = months if months is not None else int(os.environ.get("SIGAP_SEED_MONTHS", "12"))
    from connectors.pipeline import run_import
    from connectors.registry import connector_for
    from sample_data import generate

    with _seed_lock():
        if not is_empty(engine):
            return None
        started = time.monotonic()
        local_now = (now or datetime.now(region.timezone)).astimezone(region.timezone).replace(tzinfo=None)
        out_dir = SAMPLE_DIR / local_now.strftime("%Y%m%d-%H%M")
        written = generate(out_dir, today=local_now, scale=scale, months=months, region=str(region.path))
        report = SeedReport()
        for channel, files in written.items():
            for path in files:
                try:
                    connector = connector_for(channel, region, source=path)
                    summary = run_import(connector, engine, source=str(path))
                except Exception as exc:  # one broken channel must not stop the others
                    log.warning("seeding %s skipped: %s", channel, exc)
                    report.skipped_channels.append(channel)
                    break
                report.files += 1
                report.read += summary.read
                report.stored += summary.inserted + summary.updated + summary.unchanged
                report.quarantined += summary.quarantined
        from metrics import daily

        daily.refresh(engine, region.timezone)  # the first page view reads a built rollup
        report.seconds = time.monotonic() - started
        log.info("seeded %s records from %s files in %.1fs", report.read, report.files, report.seconds)
        return report
