"""What every page needs: the database (prepared and seeded once per process), the region, the clock,
and metric queries cached for as long as the fastest channel's polling interval."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from importlib import import_module

import streamlit as st

from models.db import database_url, get_engine, prepare_database
from regions import Region, load_region

# Dashboards refresh with the data: a query result lives as long as the shortest polling interval.
CACHE_SECONDS = int(os.environ.get("SIGAP_CACHE_SECONDS", "60"))


@st.cache_resource(show_spinner=False)
def _prepared(url: str, region_name: str):
    """Migrate and, for the embedded default, seed sample data: once per process, never per session."""
    from sample_data.seed import seed, should_seed

    region = load_region(region_name)
    engine = prepare_database(get_engine(url), region)
    if should_seed():
        seed(engine, region)
    return engine


def region() -> Region:
    return load_region(os.environ.get("SIGAP_REGION"))


def engine():
    from ui.i18n import t

    with st.spinner(t("seeding")):
        return _prepared(database_url(), region().name)


def now() -> datetime:
    """The current moment, rounded down to the cache interval so reruns within it share cached results."""
    stamp = datetime.now(timezone.utc).timestamp()
    return datetime.fromtimestamp(stamp - stamp % CACHE_SECONDS, timezone.utc)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=512)
def _cached(module: str, name: str, url: str, *args):
    return getattr(import_module(module), name)(get_engine(url), *args)


def query(fn, *args):
    """Run a metrics function (engine first argument) through the shared cache."""
    engine()
    return _cached(fn.__module__, fn.__name__, database_url(), *args)
