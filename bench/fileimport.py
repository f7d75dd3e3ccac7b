"""File import end to end: an N-row 112 CSV through `python -m connectors import call112` against
`pandas.read_csv` plus the bare upsert of the same calls (the practical limit of reading that file into the
complaint table: vectorised parsing, no per-row Python, one executemany)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import Timing, Workspace, children_cpu, sqlite_connect, timed
from bench.ingest import COLUMNS, upsert_sql
from models.db import PROJECT_ROOT


def run_cli(csv_path: Path, db_path: Path) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds, run summary) of the import command in its own process."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SIGAP_SEED": "0"}
    cpu = children_cpu()
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "connectors", "import", "call112", str(csv_path), "--json"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"connectors import failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, children_cpu() - cpu, json.loads(done.stdout.strip().splitlines()[-1])


def bare_import(csv_path: Path, db_path: Path, utc_offset_hours: float = 7.0) -> int:
    """read_csv + vectorised mapping to complaint columns + one executemany upsert; returns rows stored."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n = len(frame)
    received = pd.to_datetime(frame["WAKTU LAPOR"], format="%Y-%m-%d %H:%M:%S") - pd.Timedelta(hours=utc_offset_hours)
    received_text = (received.astype(str) + ".000000").tolist()
    call_type = frame["TIPE LAPORAN"].str.strip()
    emergency = call_type.str.lower().eq("emergency").to_numpy()
    finished = frame["DURASI PENGERJAAN"].ne("").to_numpy()
    lat = pd.to_numeric(frame["LATITUDE"], errors="coerce")
    lon = pd.to_numeric(frame["LONGITUDE"], errors="coerce")
    no_gps = (lat.fillna(0) == 0) & (lon.fillna(0) == 0)
    lat, lon = lat.mask(no_gps), lon.mask(no_gps)

    def text(column: str) -> list:
        return frame[column].replace("", None).tolist()

    def floats(series: pd.Series) -> list:
        return [None if v != v else v for v in series.tolist()]

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    values = {
        "channel": ["call112"] * n, "source_id": frame["UID"].tolist(), "received_at": received_text,
        "kind": np.where(emergency, "emergency_call", "non_emergency_call").tolist(),
        "source_type": call_type.tolist(), "category_raw": text("KATEGORI"), "title": text("SUB KATEGORI 1"),
        "status": np.where(emergency, np.where(finished, "resolved", "in_progress"), "closed").tolist(),
        "district_raw": text("KECAMATAN"), "subdistrict": text("KELURAHAN"), "lat": floats(lat), "lon": floats(lon),
        "source_detail": text("AGENT L1"), "first_response_at": received_text, "is_anonymous": [0] * n,
        "is_confidential": [0] * n, "row_hash": [""] * n, "first_seen_at": [stamp] * n, "last_changed_at": [stamp] * n,
    }
    nulls = [None] * n
    rows = list(zip(*(values.get(name, nulls) for name in COLUMNS)))
    conn = sqlite_connect(db_path)
    conn.execute("BEGIN")
    conn.executemany(upsert_sql("sqlite"), rows)
    conn.execute("COMMIT")
    stored = conn.execute("SELECT count(*) FROM complaint").fetchone()[0]
    conn.close()
    return stored


def measure(workspace: Workspace, n: int, repeat: int, now: datetime | None = None) -> dict:
    from bench.data import write_call112_csv

    csv_path = workspace.root / f"call112-{n}.csv"
    began = time.perf_counter()
    write_call112_csv(csv_path, n, now=now)
    generated = time.perf_counter() - began
    timings = {"cli": Timing(), "pandas_bare": Timing()}
    summary = {}
    for rep in range(repeat):
        db = workspace.fresh(f"file-cli-{rep}")
        wall, cpu, summary = run_cli(csv_path, db)
        timings["cli"].add(wall, cpu)
        workspace.drop(db)
        db = workspace.fresh(f"file-bare-{rep}")
        with timed(timings["pandas_bare"]):
            stored = bare_import(csv_path, db)
        workspace.drop(db)
    unique = summary.get("inserted", 0)
    if summary.get("read") != n or summary.get("quarantined"):
        raise RuntimeError(f"112 import of {n} rows: unexpected summary {summary}")
    if stored != unique:
        raise RuntimeError(f"bare import stored {stored} rows, the pipeline {unique}")
    csv_bytes = csv_path.stat().st_size
    csv_path.unlink()
    return {"timings": timings, "summary": summary, "csv_bytes": csv_bytes, "generate_s": generated}
