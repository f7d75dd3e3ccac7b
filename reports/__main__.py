"""Command line: `python -m reports scorecard --month 2026-10 [--agency CODE|ALL] [--out FILE] [--lang id|en]`."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

from models.db import get_engine, prepare_database
from regions import RegionError, load_region


def last_month() -> str:
    first = datetime.now().date().replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def default_out(month: str, agency: str | None) -> Path:
    return Path(f"scorecard_{month}_{(agency or 'kota').lower()}.pdf")


def cmd_scorecard(args) -> int:
    from reports.pdf import render_pdf
    from reports.scorecard import build_scorecard

    region = load_region(args.region)
    engine = prepare_database(get_engine(), region)
    agency = args.agency.upper() if args.agency else None
    scorecard = build_scorecard(engine, region, args.month, agency, lang=args.lang)
    out = Path(args.out) if args.out else default_out(args.month, agency)
    out.write_bytes(render_pdf(scorecard))
    print(f"{out} ({len(scorecard.sections)} section(s))")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description="Sigap printed reports")
    commands = parser.add_subparsers(dest="command", required=True)
    scorecard = commands.add_parser("scorecard", help="the monthly scorecard as PDF")
    scorecard.add_argument("--month", default=last_month(), help="YYYY-MM (default: last month)")
    scorecard.add_argument("--agency", default=None, help="an agency code, or ALL for the city and every agency")
    scorecard.add_argument("--out", default=None, help="the PDF file to write")
    scorecard.add_argument("--lang", default="id", choices=("id", "en"))
    scorecard.add_argument("--region", default=None)
    scorecard.set_defaults(func=cmd_scorecard)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RegionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
