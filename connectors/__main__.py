"""Command line: `python -m connectors import CHANNEL PATH [--region NAME] [--json]`."""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
from pathlib import Path

from connectors import SourceError, connector_for
from connectors.cli_poll import add_commands as add_poll_commands
from connectors.pipeline import run_import
from connectors.scheduler import held_channel
from models.db import get_engine, prepare_database
from regions import RegionError, load_region


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def cmd_import(args) -> int:
    region = load_region(args.region)
    engine = prepare_database(get_engine(), region)
    path = Path(args.path)
    connector = connector_for(args.channel, region, source=path)

    def waiting(holder: str | None) -> None:
        print(f"waiting up to {args.wait:g} s for {holder or 'another process'} to finish with {args.channel}",
              file=sys.stderr)

    # Everything loaded so far (modules, region, mappings) lives as long as the process: moved out of the garbage
    # collector's view, full collections during a long import do not walk it again and again.
    gc.freeze()
    with held_channel(engine, args.channel, args.wait, on_wait=waiting):
        summary = run_import(connector, engine, source=str(path),
                             source_sha256=_sha256(path) if path.is_file() else None, parse_process=True)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print(f"{summary.channel} {path.name}: read {summary.read}, inserted {summary.inserted}, updated "
              f"{summary.updated}, unchanged {summary.unchanged}, quarantined {summary.quarantined} "
              f"(unmapped district {summary.unmapped_district}, unmapped agency {summary.unmapped_agency})")
        for reason, count in summary.quarantine_reasons.most_common(10):
            print(f"  quarantined {count}× {reason}")
    if summary.state != "succeeded":
        print(f"error: {summary.error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors", description="Sigap channel connectors")
    commands = parser.add_subparsers(dest="command", required=True)
    importer = commands.add_parser("import", help="import one file of a file-based channel")
    importer.add_argument("channel")
    importer.add_argument("path")
    importer.add_argument("--region", default=None, help="region name or folder (default: SIGAP_REGION or surabaya)")
    importer.add_argument("--json", action="store_true", help="print the run summary as one JSON object")
    importer.add_argument("--wait", type=float, default=300.0,
                          help="seconds to wait while a worker polls the same channel (default 300)")
    importer.set_defaults(func=cmd_import)
    add_poll_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (SourceError, RegionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
