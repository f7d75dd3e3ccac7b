"""Command line for scheduled polling, added to `python -m connectors` by `add_commands(subparsers)`:

    python -m connectors worker [--region NAME]
        the production worker: polls every enabled channel on its interval until SIGTERM/SIGINT, then lets
        the polls in progress finish (their leases are released) and exits 0.
    python -m connectors poll --once [--channel NAME] [--region NAME] [--json]
        poll what is due now (or the one channel named, due or not), once, and exit: 0 when every poll
        succeeded, 1 when one failed; a channel another worker is polling right now is reported as busy.
    python -m connectors poll [--channel NAME] [--region NAME]
        without --once: keep polling (all due channels, or the one named) like the worker, in the foreground.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys

from connectors.scheduler import PollResult, build_scheduler, poll_channel, poll_due
from models.db import get_engine, prepare_database
from regions import load_region

log = logging.getLogger("sigap.worker")


def add_commands(subparsers) -> None:
    """Register `worker` and `poll` on the `python -m connectors` sub-command parser."""
    worker = subparsers.add_parser("worker", help="poll every enabled channel on its schedule until stopped")
    worker.add_argument("--region", default=None, help="region name or folder (default: SIGAP_REGION or surabaya)")
    worker.set_defaults(func=cmd_worker)

    poll = subparsers.add_parser("poll", help="poll the channels that are due (or one channel)")
    poll.add_argument("--once", action="store_true", help="poll once and exit (default: keep polling)")
    poll.add_argument("--channel", default=None, help="poll only this channel (even when it is not due)")
    poll.add_argument("--region", default=None, help="region name or folder (default: SIGAP_REGION or surabaya)")
    poll.add_argument("--json", action="store_true", help="print the poll results as one JSON list")
    poll.set_defaults(func=cmd_poll)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _first_poll_within() -> float:
    """Seconds over which the first polls after start are spread (SIGAP_FIRST_POLL_SECONDS, default 20)."""
    try:
        return max(float(os.environ.get("SIGAP_FIRST_POLL_SECONDS", "20")), 0.5)
    except ValueError:
        return 20.0


def _prepare(region_name):
    region = load_region(region_name)
    return region, prepare_database(get_engine(), region)


def run_blocking(scheduler) -> int:
    """Run a BlockingScheduler until SIGTERM or SIGINT; polls in progress finish before the process exits."""
    def stop(signum, _frame):
        log.info("received %s: no new polls; waiting for the polls in progress to finish",
                 signal.Signals(signum).name)
        if scheduler.running:
            scheduler.shutdown(wait=False)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        jobs = scheduler.get_jobs()
        if not jobs:
            log.error("no channel to poll: enable a channel with a url or drop_folder in channels.toml")
            return 1
        log.info("worker started: %s", ", ".join(job.name for job in jobs))
        scheduler.start()  # blocks until shutdown
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("worker stopped")
    return 0


def cmd_worker(args) -> int:
    _logging()
    region, engine = _prepare(args.region)
    return run_blocking(build_scheduler(region, engine, blocking=True, first_run_within=_first_poll_within()))


def cmd_poll(args) -> int:
    region, engine = _prepare(args.region)
    if not args.once:
        _logging()
        channels = [args.channel] if args.channel else None
        return run_blocking(build_scheduler(region, engine, blocking=True, channels=channels,
                                            first_run_within=_first_poll_within()))
    if args.channel:
        results = [poll_channel(args.channel, region, engine)]
    else:
        results = poll_due(region, engine)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
    else:
        if not results:
            print("nothing is due")
        for result in results:
            print(describe(result))
    for result in results:
        if result.state == "failed":
            print(f"error: {result.channel}: {result.error}", file=sys.stderr)
    return 1 if any(r.state == "failed" for r in results) else 0


def describe(result: PollResult) -> str:
    """One line per poll, then one per run and per skipped file."""
    lines = [f"{result.channel}: {result.state}"
             + (f" — {result.message}" if result.message and result.state != "failed" else "")
             + (f", {result.already_imported} file(s) already imported" if result.already_imported else "")]
    for run in result.runs:
        where = (run.source or "").rsplit("/", 1)[-1] or "-"
        lines.append(f"  {where}: {run.state}, read {run.read}, inserted {run.inserted}, updated {run.updated}, "
                     f"unchanged {run.unchanged}, quarantined {run.quarantined}"
                     + (f" — {run.error}" if run.error else ""))
    for name, reason in result.skipped:
        lines.append(f"  skipped {name}: {reason}")
    if result.waiting:
        lines.append(f"  waiting for the next poll: {', '.join(result.waiting)}")
    return "\n".join(lines)
