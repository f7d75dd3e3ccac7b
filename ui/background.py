"""Channel polling inside the dashboard process, for the embedded default (one machine, SQLite, no worker).

`start_embedded_poller()` starts one APScheduler BackgroundScheduler per process (st.cache_resource), never
per session or rerun. It does nothing when SIGAP_EMBEDDED_POLLER=0 or when DATABASE_URL is set: a production
database is polled by the worker process (`python -m connectors worker`). Two dashboard processes on the same
SQLite file are safe: the per-channel lease lets only one of them poll a channel at a time.
"""
from __future__ import annotations

import atexit
import logging
import os

import streamlit as st

from models.db import get_engine

log = logging.getLogger("sigap.embedded_poller")


def enabled() -> bool:
    return os.environ.get("SIGAP_EMBEDDED_POLLER", "1").strip() != "0" and not os.environ.get("DATABASE_URL")


def _start_sample_feeds(region) -> None:
    """The embedded demo's API channels point at the local sample server (127.0.0.1:8765): serve the seeded
    sample feeds there, so those channels are polled like real ones instead of showing as failing."""
    from urllib.parse import urlparse

    from connectors.sample_server import SampleHttpServer, SampleStore
    from sample_data.seed import SAMPLE_DIR

    ports = {urlparse(cfg.get("url", "")).port for cfg in region.channels.values()
             if cfg.get("enabled", True) and urlparse(cfg.get("url", "")).hostname == "127.0.0.1"}
    folders = sorted(p for p in SAMPLE_DIR.glob("*") if p.is_dir()) if SAMPLE_DIR.exists() else []
    if len(ports) != 1 or not folders:
        return
    try:
        SampleHttpServer(SampleStore.from_dir(folders[-1]), port=ports.pop()).start()
    except OSError as exc:  # the port is taken: someone already serves it (e.g. a sample server run by hand)
        log.info("sample feeds not started: %s", exc)
    except FileNotFoundError as exc:
        log.info("sample feeds not started: %s", exc)


@st.cache_resource(show_spinner=False)
def _poller(url: str, region_path: str):
    from connectors.scheduler import build_scheduler
    from regions import load_region

    _start_sample_feeds(load_region(region_path))
    scheduler = build_scheduler(load_region(region_path), get_engine(url), blocking=False, max_workers=2)
    scheduler.start()
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    log.info("embedded poller started: %s", ", ".join(job.name for job in scheduler.get_jobs()))
    return scheduler


def start_embedded_poller():
    """Start the in-process poller once for this process; returns the scheduler, or None when not wanted."""
    if not enabled():
        return None
    from models.db import database_url
    from ui import context

    context.engine()  # migrated (and seeded) before the first poll
    return _poller(database_url(), str(context.region().path))
