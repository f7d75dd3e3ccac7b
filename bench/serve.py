"""Serve every page once cold and K times warm through Streamlit's AppTest, in this (fresh) process.

    python -m bench.serve DATABASE_URL OUT.json [--repeat K] [--calls CALLS.pickle]

The real app (app.py) runs with its navigation; each page is reached with switch_page. Cold = Streamlit's
data cache cleared and the database connections dropped (so SQLite's page cache is empty too); warm = the
same page rerun, as a second viewer within the cache interval sees it. Every metric function a page calls
through ui.context.query is recorded (module, name, arguments) for bench.replay. The map's payload is the
size of the pydeck JSON the page hands to the browser. VmHWM at the end is the peak RSS of a process that
has served every page.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

from bench.common import peak_rss_mb
from models.db import PROJECT_ROOT

APP = PROJECT_ROOT / "app.py"


def page_paths() -> list[str]:
    """The pages app.py registers, in its order (those whose file exists)."""
    listed = re.findall(r'"(pages/[A-Za-z0-9_]+\.py)"', APP.read_text(encoding="utf-8"))
    return [p for p in dict.fromkeys(listed) if (PROJECT_ROOT / p).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=Path, default=None)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)

    os.environ["DATABASE_URL"] = args.url
    os.environ["SIGAP_SEED"] = "0"
    os.environ["SIGAP_EMBEDDED_POLLER"] = "0"
    os.environ.setdefault("SIGAP_CACHE_SECONDS", "3600")  # warm reruns must hit the cache, not a new interval
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import ui.context as context
    from models.db import reset_engines

    calls: dict[str, list] = {}
    current = {"page": None}
    original_query = context.query

    def recording_query(fn, *fn_args):
        page_calls = calls.setdefault(current["page"], [])
        entry = (fn.__module__, fn.__name__, fn_args)
        try:
            if entry not in page_calls:
                page_calls.append(entry)
        except Exception:  # arguments that cannot be compared: record every call
            page_calls.append(entry)
        return original_query(fn, *fn_args)

    context.query = recording_query
    app = AppTest.from_file(str(APP), default_timeout=args.timeout)
    app.query_params["lang"] = "id"
    started = time.perf_counter()
    app.run()  # the default page: migrations checked, reference data synced, imports done
    result = {"startup_s": round(time.perf_counter() - started, 3), "pages": {}, "map_bytes": None}

    for path in page_paths():
        name = Path(path).stem
        current["page"] = name
        st.cache_data.clear()
        reset_engines()
        entry: dict = {}
        try:
            # The app loses session_state["lang"] when a viewer returns to the overview from another page
            # (KeyError in pages/overview.py under AppTest); a viewer always has a language, so set it.
            app.session_state["lang"] = "id"
            began, cpu = time.perf_counter(), time.process_time()
            app.switch_page(path).run()
            entry["cold_s"] = round(time.perf_counter() - began, 4)
            entry["cold_cpu_s"] = round(time.process_time() - cpu, 4)
            warm, warm_cpu = [], []
            for _ in range(args.repeat):
                app.session_state["lang"] = "id"
                began, cpu = time.perf_counter(), time.process_time()
                app.run()
                warm.append(time.perf_counter() - began)
                warm_cpu.append(time.process_time() - cpu)
            entry["warm_s"] = round(statistics.median(warm), 4)
            entry["warm_cpu_s"] = round(statistics.median(warm_cpu), 4)
            entry["warm_runs_s"] = [round(w, 4) for w in warm]
            entry["exceptions"] = [str(e.value)[:300] for e in app.exception]
        except Exception as exc:  # a page that cannot run is reported, not fatal for the others
            entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        if name == "map":
            decks = app.get("deck_gl_json_chart")
            if decks:
                result["map_bytes"] = sum(len(d.proto.json.encode()) for d in decks)
        result["pages"][name] = entry

    result["peak_rss_mb"] = peak_rss_mb()
    result["calls"] = {page: [(m, n) for m, n, _ in entries] for page, entries in calls.items()}
    if args.calls:
        picklable = {}
        for page, entries in calls.items():
            keep = []
            for entry in entries:
                try:
                    pickle.dumps(entry)
                    keep.append(entry)
                except Exception:
                    pass
            picklable[page] = keep
        args.calls.write_bytes(pickle.dumps(picklable))
    args.out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
