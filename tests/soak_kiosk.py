"""Soak test for the wall screen: does the server's memory stay flat over a long run?

    python3 tests/soak_kiosk.py --minutes 30 [--warmup 5] [--sample 15] [--database sqlite:///…-demo.db]

Starts the dashboard on a demo database (seeded copy, demo simulator on unless --no-demo), opens the kiosk in a headless
Chromium with a short rotation, refresh and self-reload interval (so pages, fragments and sessions all churn),
and samples the server process's resident memory (VmRSS from /proc/<pid>/status). Prints every sample and,
after the warm-up, the growth and its trend in MB per hour. Not part of CI.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root is what `tests.` is relative to
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, Dashboard, seeded_database  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares trend of (seconds, MB) samples, in MB per hour."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [s for s, _ in samples], [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var * 3600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 tests/soak_kiosk.py", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=None, help="minutes ignored at the start (default: a sixth)")
    parser.add_argument("--sample", type=float, default=15, help="seconds between samples")
    parser.add_argument("--database", default=None, help="a demo database URL (default: a fresh seeded copy)")
    parser.add_argument("--rotate", default="5", help="seconds per kiosk page")
    parser.add_argument("--pages", default="overview,map,agencies,channels,how", help="the kiosk playlist")
    parser.add_argument("--reload-hours", default="0.05", help="browser self-reload interval (new sessions)")
    parser.add_argument("--no-demo", action="store_true", help="no simulator: the data stays still, so any growth "
                        "is the server's own")
    args = parser.parse_args(argv)
    warmup = (args.warmup if args.warmup is not None else args.minutes / 6) * 60

    url = args.database
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="sigap-soak-"))
        print("seeding a small demo database …", flush=True)
        url = seeded_database(folder / "sigap-demo.db")
    app = Dashboard(url, env={"SIGAP_KIOSK_SECONDS": args.rotate, "SIGAP_KIOSK_PAGES": args.pages,
                              "SIGAP_KIOSK_REFRESH_SECONDS": "2",
                              "SIGAP_CACHE_SECONDS": "2", "SIGAP_DEMO": "0" if args.no_demo else "1",
                              "SIGAP_DEMO_SECONDS": "2",
                              "SIGAP_KIOSK_RELOAD_HOURS": args.reload_hours})
    from playwright.sync_api import sync_playwright

    samples: list[tuple[float, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{app.url}/?kiosk=1", timeout=90_000)
            started = time.monotonic()
            print(f"server pid {app.process.pid}; kiosk at {app.url}/?kiosk=1; {args.minutes:g} min, "
                  f"warm-up {warmup / 60:g} min", flush=True)
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                if app.process.poll() is not None:
                    print(f"the server stopped (exit code {app.process.returncode}); see {app.log}", flush=True)
                    break
                samples.append((elapsed, rss_mb(app.process.pid)))
                print(f"{elapsed / 60:6.1f} min  RSS {samples[-1][1]:7.1f} MB  {page.url.split('?')[0]}", flush=True)
                page.wait_for_timeout(args.sample * 1000)
            browser.close()
    finally:
        app.stop()
    return report(samples, warmup)


def report(samples: list[tuple[float, float]], warmup: float) -> int:
    steady = [s for s in samples if s[0] >= warmup]
    if len(steady) < 2:
        print("too short to judge: run longer than the warm-up")
        return 1
    first, last = steady[0][1], steady[-1][1]
    peak = max(m for _, m in steady)
    half = steady[len(steady) // 2:]
    print(f"after warm-up: start {first:.1f} MB, end {last:.1f} MB, growth {last - first:+.1f} MB "
          f"({(last - first) / first * 100:+.1f}%), "
          f"peak {peak:.1f} MB, trend {slope_per_hour(steady):+.1f} MB/hour over {len(steady)} samples "
          f"(second half: {slope_per_hour(half):+.1f} MB/hour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
