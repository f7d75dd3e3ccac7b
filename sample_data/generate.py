"""Deterministic sample data for Sigap, written in each channel's real source format.

    python -m sample_data.generate OUT_DIR [--today YYYY-MM-DD[THH:MM]] [--seed N] [--scale F] [--months N]

Same arguments -> byte-identical files. Nothing depends on the wall clock except through `today`.
"""
from __future__ import annotations

import argparse
import sys
import time as timer
from datetime import date, datetime
from pathlib import Path

from . import call112, jss, lapor, mediacenter, open311, social, wargaku
from .cases import World
from .clock import make_window
from .region import load_region

WRITERS = {"lapor": lapor.write, "call112": call112.write, "wargaku": wargaku.write,
           "mediacenter": mediacenter.write, "jss": jss.write, "social": social.write, "open311": open311.write}


def generate(out_dir: Path, today: date, seed: int = 42, scale: float = 1.0, months: int = 12,
             region: str | Path = "surabaya", channels: list[str] | None = None) -> dict[str, list[Path]]:
    """Write every channel's files under out_dir; returns channel -> files in import order.

    `today` as a date covers that whole day (up to 23:59:59 WIB); pass a datetime (naive = WIB) to stop
    the data at that exact moment, e.g. "now" for a live demo.
    """
    if months < 1 or scale <= 0:
        raise ValueError("months must be >= 1 and scale > 0")
    world = World(load_region(region), make_window(today, months, seed, scale))
    out_dir = Path(out_dir)
    return {name: write(world, out_dir) for name, write in WRITERS.items() if channels is None or name in channels}


def _parse_today(text: str) -> date:
    return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_data.generate", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--today", type=_parse_today, default=None,
                        help="last day covered, YYYY-MM-DD (or YYYY-MM-DDTHH:MM for an exact cut-off, WIB)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--region", default="surabaya")
    args = parser.parse_args(argv)
    today = args.today if args.today is not None else date.today()
    started = timer.perf_counter()
    written = generate(args.out_dir, today, args.seed, args.scale, args.months, args.region)
    for channel, paths in written.items():
        print(f"{channel:12s} {len(paths):3d} file(s) in {args.out_dir / channel}")
    print(f"done in {timer.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
