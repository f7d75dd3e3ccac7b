"""Markdown tables for the README from `python -m bench --json` outputs, with the page-time growth factor.

    python -m bench.report RUN_100K.json RUN_1M.json [RUN_10M_PG.json ...]

Growth is page time at the larger size / page time at the smaller, between the first two runs given.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def page_figures(page: dict) -> dict:
    """AppTest (the real page) and metrics-only times, from this or the earlier JSON layout."""
    if "apptest_cold_s" in page:  # earlier layout: cold_s/warm_s were the metric replay
        return {"cold_s": page.get("apptest_cold_s"), "warm_s": page.get("apptest_warm_s"),
                "cold_cpu_s": None, "warm_cpu_s": None, "metrics_cold_s": page.get("cold_s"),
                "metrics_cold_cpu_s": page.get("cold_cpu_s"), "duckdb": page.get("duckdb", {})}
    return {key: page.get(key) for key in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s", "metrics_cold_s",
                                           "metrics_cold_cpu_s")} | {"duckdb": page.get("duckdb", {})}


def _s(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def ratios_table(runs: list[dict]) -> str:
    lines = ["| run | ingest_ratio (CPU) | reimport_ratio (CPU) | file_import_ratio (CPU) | PostgreSQL ingest / reimport "
             "| map payload | peak RSS |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        cpu = run.get("cpu_ratios", {})
        pg = run.get("postgres") or {}
        pg_text = (f"{_s(pg.get('ingest_ratio'))} / {_s(pg.get('reimport_ratio'))} at {pg.get('ingest_rows', run['rows']):,}"
                   if pg else "–")
        lines.append(
            f"| {label(run)} | {_s(run.get('ingest_ratio'))} ({_s(cpu.get('ingest'))}) "
            f"| {_s(run.get('reimport_ratio'))} ({_s(cpu.get('reimport'))}) "
            f"| {_s(run.get('file_import_ratio'))} ({_s(cpu.get('file_import'))}) | {pg_text} "
            f"| {run.get('map_bytes') or 0:,} B | {run.get('peak_rss_mb')} MB |")
    return "\n".join(lines)


def label(run: dict) -> str:
    database = run.get("pages_database", "sqlite (pipeline-loaded)").split(" ")[0]
    return f"{run['rows']:,} rows, {database}"


def pages_table(runs: list[dict]) -> str:
    head = "| page | " + " | ".join(f"{label(r)}: cold / warm s (cold CPU s)" for r in runs)
    growth = len(runs) >= 2
    head += " | growth ×, first→second run (cold wall / cold CPU) | metrics-only cold s, each run | DuckDB ×, each run |"
    lines = [head, "|" + "---|" * (len(runs) + 4)]
    names = list(dict.fromkeys(name for run in runs for name in run.get("pages", {})))
    for name in names:
        cells = []
        figures = [page_figures(run.get("pages", {}).get(name, {})) for run in runs]
        for f in figures:
            cells.append(f"{_s(f['cold_s'])} / {_s(f['warm_s'])} ({_s(f['cold_cpu_s'])})")
        grow = "–"
        if growth:
            wall = [figures[0]["cold_s"], figures[1]["cold_s"]]
            cpu = [figures[0]["cold_cpu_s"], figures[1]["cold_cpu_s"]]
            grow = " / ".join(f"{b / a:.1f}" if a and b else "–" for a, b in (wall, cpu))
        metrics = " / ".join(_s(f["metrics_cold_s"]) for f in figures)
        duck = " / ".join(_s(f["duckdb"].get("duckdb_speedup")) for f in figures)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {grow} | {metrics} | {duck} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    runs = [json.loads(Path(p).read_text()) for p in (argv or sys.argv[1:])]
    print(ratios_table(runs))
    print()
    print(pages_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
