"""Time the metric functions one page calls, in a fresh process: cold (first call, empty caches) and warm.

    python -m bench.replay DATABASE_URL CALLS.pickle PAGE OUT.json [--repeat K] [--warmup-url URL]

CALLS.pickle is what bench.serve recorded: per page, the (module, function, arguments) the page passed to
ui.context.query. Nothing here touches Streamlit: this is the page's server time spent in metrics/.
With --warmup-url (an empty migrated database) every function runs there first, so "cold" means what a
running server sees on a fresh connection (empty SQLite page cache), not Python importing modules.
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay")
    parser.add_argument("url")
    parser.add_argument("calls", type=Path)
    parser.add_argument("page")
    parser.add_argument("out", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup-url", default=None)
    args = parser.parse_args(argv)

    from models.db import get_engine

    entries = pickle.loads(args.calls.read_bytes()).get(args.page, [])
    functions = [(module, name, getattr(import_module(module), name), fn_args) for module, name, fn_args in entries]
    if args.warmup_url:
        spare = get_engine(args.warmup_url)
        for _, _, fn, fn_args in functions:
            try:
                fn(spare, *fn_args)
            except Exception:  # an empty database may not satisfy every function; imports are done anyway
                pass
        spare.dispose()
    engine = get_engine(args.url)
    timings = []
    for module, name, fn, fn_args in functions:  # cold: each function once, in the page's order
        began, cpu = time.perf_counter(), time.process_time()
        fn(engine, *fn_args)
        timings.append({"function": f"{module}.{name}", "cold_s": time.perf_counter() - began,
                        "cold_cpu_s": time.process_time() - cpu, "warm": [], "warm_cpu": []})
    for _ in range(args.repeat):
        for timing, (_, _, fn, fn_args) in zip(timings, functions):
            began, cpu = time.perf_counter(), time.process_time()
            fn(engine, *fn_args)
            timing["warm"].append(time.perf_counter() - began)
            timing["warm_cpu"].append(time.process_time() - cpu)
    for timing in timings:
        warm, warm_cpu = timing.pop("warm"), timing.pop("warm_cpu")
        timing["warm_s"] = statistics.median(warm) if warm else 0.0
        timing["warm_cpu_s"] = statistics.median(warm_cpu) if warm_cpu else 0.0
    keys = ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s")
    result = {
        "page": args.page,
        **{key: round(sum(t[key] for t in timings), 4) for key in keys},
        "functions": [{**t, **{key: round(t[key], 4) for key in keys}} for t in timings],
    }
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
