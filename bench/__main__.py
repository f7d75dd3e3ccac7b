"""Sigap benchmark suite: `python -m bench --rows N [--json] [--postgres URL] [--repeat K]`.

Measurements, each side by side in the same run (see bench/README.md):
  a. ingest: the pipeline's upsert of N validated records vs a bare sqlite3 executemany of the same rows
     (first load and re-import of unchanged rows), optionally on PostgreSQL too;
  b. file import: an N-row 112 CSV through `python -m connectors import call112` vs pandas.read_csv + the
     bare upsert;
  c. every page's server time: the metric functions each page calls, cold (fresh process) and warm, and the
     real pages through Streamlit's AppTest; DuckDB on a Parquet copy as a reference when it is installed;
  d. the map's pydeck payload in bytes;
  e. the peak RSS of a process that has served every page.
Ratios are reference time / measured time: 1.0 = as fast as the reference, 0.5 = twice as slow.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import Timing, Workspace, median, ratio
from models.db import PROJECT_ROOT

BARS = {"ingest_ratio": 0.5, "reimport_ratio": 0.5, "file_import_ratio": 0.5, "page_cold_s": 0.5,
        "page_warm_s": 0.1}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ratios(timings: dict[str, Timing], measured: str, reference: str) -> dict:
    wall = ratio(timings[reference].median, timings[measured].median)
    cpu = (ratio(timings[reference].cpu_median, timings[measured].cpu_median)
           if timings[reference].cpu and timings[measured].cpu else None)
    return {"wall": wall, "cpu": cpu}


def _subprocess(module: str, *args: str, env: dict | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}): {done.stderr[-3000:]}")


def measure_rollup(url: str) -> dict:
    """The daily rollup's upkeep on the pages' database: rebuilding what is pending (every day after a load
    through the pipeline; nothing after a bulk load, which rebuilt it) and then one day, as after a poll."""
    from datetime import date

    from metrics import daily
    from models.db import _normalise_url, get_engine, reset_engines
    from regions import load_region

    engine, tz = get_engine(_normalise_url(url)), load_region("surabaya").timezone
    began, cpu = time.perf_counter(), time.process_time()
    days = daily.refresh(engine, tz)
    pending = {"days": days, "wall_s": round(time.perf_counter() - began, 3),
               "cpu_s": round(time.process_time() - cpu, 3)}
    with engine.begin() as conn:
        daily.mark_days(conn, [date.today().isoformat()])
    began, cpu = time.perf_counter(), time.process_time()
    daily.refresh(engine, tz)
    one_day = {"wall_s": round(time.perf_counter() - began, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    reset_engines()
    log(f"rollup: pending {days} day(s) rebuilt in {pending['wall_s']} s; one day in {one_day['wall_s']} s")
    return {"pending_rebuild": pending, "one_day": one_day}


def measure_pages(workspace: Workspace, url: str, repeat: int, with_duckdb: bool) -> dict:
    """Every page through AppTest, each page's metric calls replayed, DuckDB reference, on the database at url."""
    served_path, calls_path = workspace.root / "served.json", workspace.root / "calls.pickle"
    log("pages: serving every page through AppTest (cold, warm)")
    _subprocess("bench.serve", url, str(served_path), "--repeat", str(repeat), "--calls", str(calls_path))
    served = json.loads(served_path.read_text())
    calls = pickle.loads(calls_path.read_bytes())
    pages = {}
    for page, apptest in served["pages"].items():
        # the page's server time as a viewer gets it: AppTest, cold (fresh cache) and warm (rerun)
        entry = {key: apptest.get(key) for key in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s")}
        if apptest.get("error") or apptest.get("exceptions"):
            entry["problem"] = apptest.get("error") or apptest.get("exceptions")
        if calls.get(page):
            log(f"pages: {page}: replaying {len(calls[page])} metric calls in a fresh process")
            out = workspace.root / f"replay-{page}.json"
            _subprocess("bench.replay", url, str(calls_path), page, str(out), "--repeat", str(repeat),
                        "--warmup-url", f"sqlite:///{workspace.template()}")
            replay = json.loads(out.read_text())
            entry.update({f"metrics_{key}": replay[key] for key in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s")},
                         functions=replay["functions"])
        pages[page] = entry
    result = {"pages": pages, "map_bytes": served.get("map_bytes"), "peak_rss_mb": served.get("peak_rss_mb"),
              "apptest_startup_s": served.get("startup_s")}
    if with_duckdb:
        from bench import duck

        if duck.available():
            parquet = workspace.root / "complaint.parquet"
            log("pages: DuckDB reference on a Parquet copy")
            result["duckdb_export_s"] = round(duck.export_parquet(url, parquet), 3)
            for page, timings in duck.time_calls(parquet, calls, repeat).items():
                if not timings or page not in pages or "functions" not in pages[page]:
                    continue
                covered = {t["function"] for t in timings}
                database_warm = sum(f["warm_s"] for f in pages[page]["functions"] if f["function"] in covered)
                duck_warm = sum(t["warm_s"] for t in timings)
                pages[page]["duckdb"] = {"functions": timings, "database_warm_s": round(database_warm, 4),
                                         "duckdb_warm_s": round(duck_warm, 4),
                                         "duckdb_speedup": round(database_warm / duck_warm, 2) if duck_warm else None}
        else:
            log("pages: duckdb is not installed; the DuckDB reference column is skipped")
    return result


def run(args) -> dict:
    from bench import data, fileimport, ingest

    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    ingest_rows = args.ingest_rows or args.rows
    pg_database = None
    workspace = Workspace(args.workdir, keep=args.keep)
    result: dict = {"rows": args.rows, "ingest_rows": ingest_rows, "repeat": args.repeat, "started_at": now.isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg()),
                                "python": platform.python_version(), "sqlite": __import__("sqlite3").sqlite_version},
                    "raw": {}}
    try:
        sqlite_ingest = {"database": None}
        result["cpu_ratios"] = {}
        result["ingest_ratio"] = result["reimport_ratio"] = None
        if not args.skip_ingest:
            log(f"generating {ingest_rows} complaints and validating them as ComplaintIn")
            began = time.perf_counter()
            dataset = data.dataset(ingest_rows, now=now)
            result["raw"]["generate_s"] = round(time.perf_counter() - began - dataset.validate_s, 3)
            result["raw"]["validate_s"] = round(dataset.validate_s, 3)
            result["raw"]["validate_us_per_record"] = round(dataset.validate_s / ingest_rows * 1e6, 2)

            log(f"ingest (SQLite): pipeline vs bare executemany, {args.repeat}x")
            keep = not args.skip_pages and not args.pages_postgres and ingest_rows == args.rows
            sqlite_ingest = ingest.sqlite_ingest(workspace, dataset.records, args.repeat, keep_last=keep)
            timings = sqlite_ingest["timings"]
            result["raw"]["ingest_sqlite"] = {k: t.as_dict() for k, t in timings.items()}
            result["raw"]["ingest_sqlite_counts"] = sqlite_ingest["counts"]
            first, again = (_ratios(timings, "pipeline_first", "bare_first"),
                            _ratios(timings, "pipeline_reimport", "bare_reimport"))
            result["ingest_ratio"], result["reimport_ratio"] = first["wall"], again["wall"]
            result["cpu_ratios"] = {"ingest": first["cpu"], "reimport": again["cpu"]}

            if args.postgres:
                log(f"ingest (PostgreSQL): pipeline vs bare executemany, {args.repeat}x")
                pg = ingest.postgres_ingest(args.postgres, dataset.records, args.repeat)
                result["raw"]["ingest_postgres"] = {k: t.as_dict() for k, t in pg["timings"].items()}
                pg_first = _ratios(pg["timings"], "pipeline_first", "bare_first")
                pg_again = _ratios(pg["timings"], "pipeline_reimport", "bare_reimport")
                result["postgres"] = {"ingest_rows": ingest_rows, "ingest_ratio": pg_first["wall"],
                                      "reimport_ratio": pg_again["wall"], "ingest_cpu_ratio": pg_first["cpu"],
                                      "reimport_cpu_ratio": pg_again["cpu"]}
            del dataset
            gc.collect()

        if not args.skip_file:
            log(f"file import: {ingest_rows}-row 112 CSV through the CLI vs pandas + bare upsert, {args.repeat}x")
            files = fileimport.measure(workspace, ingest_rows, args.repeat, now=now)
            result["raw"]["file_import"] = {k: t.as_dict() for k, t in files["timings"].items()}
            result["raw"]["file_import_summary"] = {k: files["summary"].get(k) for k in
                                                    ("read", "inserted", "updated", "unchanged", "quarantined")}
            result["raw"]["csv_bytes"] = files["csv_bytes"]
            ratios = _ratios(files["timings"], "cli", "pandas_bare")
            result["file_import_ratio"] = ratios["wall"]
            result["cpu_ratios"]["file_import"] = ratios["cpu"]
        else:
            result["file_import_ratio"] = None

        if args.skip_pages:
            result.update(pages={}, map_bytes=None, peak_rss_mb=None)
        else:
            if args.pages_url:
                url = args.pages_url
                result["pages_database"] = f"{url.split(':', 1)[0]} (given with --pages-url)"
            elif args.pages_postgres:
                from bench import bulkload

                pg_database, url = bulkload.create_database(args.postgres)
                log(f"pages: loading {args.rows:,} complaints into PostgreSQL with COPY (not the pipeline)")
                result["raw"]["bulk_load"] = bulkload.load(url, args.rows, now=now, log=log)
                result["pages_database"] = "postgresql (COPY-loaded)"
            elif sqlite_ingest["database"]:
                url = f"sqlite:///{sqlite_ingest['database']}"
                result["pages_database"] = "sqlite (pipeline-loaded)"
            else:
                from bench import bulkload

                path = workspace.fresh("pages")
                log(f"pages: loading {args.rows:,} complaints into SQLite with executemany (not the pipeline)")
                result["raw"]["bulk_load"] = bulkload.load_sqlite(path, args.rows, now=now, log=log)
                url = f"sqlite:///{path}"
                result["pages_database"] = "sqlite (bulk-loaded)"
            result["rollup"] = measure_rollup(url)
            result.update(measure_pages(workspace, url, args.repeat, not args.no_duckdb))
    finally:
        if pg_database and not args.keep:
            from bench import bulkload

            bulkload.drop_database(args.postgres, pg_database)
        workspace.cleanup()
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["bars"] = BARS
    return result


def _fmt(value, unit: str = "s") -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if unit == "s" else f"{value}"


def page_verdict(page: dict, bar: dict) -> str:
    if page.get("cold_s") is None:
        return "–"
    return "ok" if page["cold_s"] <= bar["page_cold_s"] and page["warm_s"] <= bar["page_warm_s"] else "SLOW"


def table(result: dict) -> str:
    lines = [f"Sigap benchmark: {result['rows']:,} rows, {result['repeat']} run(s) each, "
             f"{result['machine']['cpus']} CPUs, load {result['machine']['load_average'][0]:.1f} at start, "
             f"{result['total_s']} s in total", ""]
    lines.append(f"{'measurement':44s} {'median s':>10s} {'min s':>10s} {'max s':>10s} {'CPU s':>10s}")
    raw = result["raw"]
    for group, label in (("ingest_sqlite", "ingest SQLite"), ("ingest_postgres", "ingest PostgreSQL"),
                         ("file_import", "file import 112 CSV")):
        for key, t in raw.get(group, {}).items():
            cpu = median(t["cpu_s"])
            lines.append(f"{label + ' ' + key:44s} {t['median_s']:10.3f} {t['min_s']:10.3f} {t['max_s']:10.3f} "
                         f"{(f'{cpu:10.3f}' if cpu is not None else '         –')}")
    lines.append("")
    bar = result["bars"]
    ratios = [("ingest_ratio", result.get("ingest_ratio"), result["cpu_ratios"].get("ingest")),
              ("reimport_ratio", result.get("reimport_ratio"), result["cpu_ratios"].get("reimport")),
              ("file_import_ratio", result.get("file_import_ratio"), result["cpu_ratios"].get("file_import"))]
    for name, wall, cpu in ratios:
        verdict = "" if wall is None else ("meets" if wall >= bar[name] else "BELOW") + f" the {bar[name]}x bar"
        lines.append(f"{name:22s} wall {_fmt(wall, 'x'):>6s}   CPU {_fmt(cpu, 'x'):>6s}   {verdict}")
    if result.get("postgres"):
        lines.append(f"{'postgres ingest_ratio':22s} wall {_fmt(result['postgres']['ingest_ratio'], 'x'):>6s}   "
                     f"reimport {_fmt(result['postgres']['reimport_ratio'], 'x')}")
    if result.get("pages"):
        lines += ["", f"{'page':16s} {'cold s':>7s} {'warm s':>7s} {'cold CPU':>9s} {'warm CPU':>9s} "
                      f"{'metrics cold':>13s} {'metrics CPU':>12s} {'DuckDB x':>9s}  "
                      f"bar (cold ≤{bar['page_cold_s']} s, warm ≤{bar['page_warm_s']} s)"]
        for page, p in result["pages"].items():
            lines.append(f"{page:16s} {_fmt(p.get('cold_s')):>7s} {_fmt(p.get('warm_s')):>7s} "
                         f"{_fmt(p.get('cold_cpu_s')):>9s} {_fmt(p.get('warm_cpu_s')):>9s} "
                         f"{_fmt(p.get('metrics_cold_s')):>13s} {_fmt(p.get('metrics_cold_cpu_s')):>12s} "
                         f"{_fmt(p.get('duckdb', {}).get('duckdb_speedup'), 'x'):>9s}  {page_verdict(p, bar)}")
    lines += ["", f"map payload bytes: {result.get('map_bytes')}    peak RSS serving every page: "
                  f"{result.get('peak_rss_mb')} MB    validation: {raw.get('validate_us_per_record')} µs/record"]
    rollup = result.get("rollup")
    if rollup:
        pending, one = rollup["pending_rebuild"], rollup["one_day"]
        lines.append(f"daily rollup: {pending['days']} pending day(s) rebuilt in {pending['wall_s']} s "
                     f"(CPU {pending['cpu_s']} s); one day (as after a poll) in {one['wall_s']} s (CPU {one['cpu_s']} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Sigap benchmark suite")
    parser.add_argument("--rows", type=int, default=100_000, help="complaints to generate (default 100000)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each measurement (default 3; 1 from 500000 rows, to keep a 1M run near 15 min)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (after the table, on stdout)")
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL: also run the ingest comparison there "
                                                         "(throw-away databases are created and dropped)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the throw-away files go (default var/bench)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (databases, CSV) afterwards")
    parser.add_argument("--skip-file", action="store_true", help="skip the file-import measurement")
    parser.add_argument("--skip-pages", action="store_true", help="skip pages, map payload and peak RSS")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB reference column")
    parser.add_argument("--ingest-rows", type=int, default=None,
                        help="rows for the ingest and file-import measurements (default: --rows)")
    parser.add_argument("--skip-ingest", action="store_true",
                        help="skip the ingest measurement (the pages' SQLite file is then bulk-loaded)")
    parser.add_argument("--pages-postgres", action="store_true",
                        help="measure the pages on PostgreSQL (needs --postgres): a throw-away database "
                             "loaded with COPY, not through the pipeline")
    parser.add_argument("--pages-url", default=None,
                        help="measure the pages on this existing database (e.g. one `python -m bench.bulkload` "
                             "loaded); --rows then only labels the run")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.rows < 500_000 else 1
    if args.rows < 100 or args.repeat < 1:
        parser.error("--rows must be at least 100 and --repeat at least 1")
    if args.pages_postgres and not args.postgres:
        parser.error("--pages-postgres needs --postgres URL")
    result = run(args)
    print(table(result), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
