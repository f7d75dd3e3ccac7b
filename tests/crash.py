"""Killing a process at the worst moment: while it holds an open write transaction on the database."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

from sqlalchemy import text

from models.db import get_engine


def writing(db_url: str) -> bool:
    """True while another process holds an open write transaction on the database."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        finally:
            conn.close()
    with get_engine(db_url).connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar_one())


def kill_when(process: subprocess.Popen, ready, what: str, seconds: float = 90) -> None:
    """SIGKILL `process` as soon as ready() holds; fails if it ended first."""
    deadline = time.monotonic() + seconds
    try:
        while not ready():
            assert process.poll() is None, f"ended before {what}: {process.communicate()}"
            assert time.monotonic() < deadline, f"never reached {what}"
            time.sleep(0.02)
        assert process.poll() is None, f"finished before it could be killed at {what}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)
    assert process.returncode == -signal.SIGKILL
