"""Shared helpers: timing (wall and CPU), throw-away databases, statistics."""
from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from models.db import PROJECT_ROOT

SQLITE_PRAGMAS = (  # what models.db._tune_sqlite sets on every connection the app opens
    "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-65536", "PRAGMA temp_store=MEMORY",
)


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float | None = None) -> None:
        self.wall.append(wall)
        if cpu is not None:
            self.cpu.append(cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    def as_dict(self) -> dict:
        return {"wall_s": [round(v, 4) for v in self.wall], "cpu_s": [round(v, 4) for v in self.cpu],
                "median_s": round(self.median, 4), "min_s": round(min(self.wall), 4),
                "max_s": round(max(self.wall), 4)}


@contextmanager
def timed(timing: Timing):
    """Wall-clock and this process's CPU time of the block."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timing.add(time.perf_counter() - wall, time.process_time() - cpu)


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    return conn


class Workspace:
    """A folder of throw-away SQLite files copied from one migrated template (Alembic runs once)."""

    def __init__(self, root: Path | None = None, keep: bool = False):
        self.root = Path(root or PROJECT_ROOT / "var" / "bench") / uuid.uuid4().hex[:8]
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._template: Path | None = None

    def template(self) -> Path:
        if self._template is None:
            from models.db import get_engine, prepare_database, reset_engines
            from regions import load_region

            path = self.root / "template.db"
            prepare_database(get_engine(f"sqlite:///{path}"), load_region("surabaya"))
            reset_engines()
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            self._template = path
        return self._template

    def fresh(self, name: str) -> Path:
        """A migrated, empty database file (reference tables loaded)."""
        path = self.root / f"{name}.db"
        self.drop(path)
        shutil.copyfile(self.template(), path)
        return path

    @staticmethod
    def drop(path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def ratio(reference: float, measured: float) -> float | None:
    """How fast `measured` is relative to `reference` (1.0 = as fast; 0.5 = takes twice as long)."""
    return None if not measured else round(reference / measured, 3)


def peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def median(values):
    return statistics.median(values) if values else None
