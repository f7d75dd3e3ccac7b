"""A polled drop folder for file channels (LAPOR exports, 112 logs, social-media exports, generic channels).

Every new or changed file in the channel's `drop_folder` is imported exactly once: a file's identity is the
sha256 of its content, and a file whose sha256 already has a succeeded run for the channel is not imported
again (renaming or touching a file changes nothing; editing it makes a new file). Files are imported in the
order of the export's own date where the connector knows it (LAPOR's "Tanggal Generate"), else by
modification time, then name, so successive exports replay status changes in the order they happened.

Skipped, each with a reason a person reads: symbolic links, anything that resolves outside the folder,
hidden and partial files (`.x`, `~$x.xlsx`, `x.part`, `x.crdownload` …), files still being written (changed
in the last few seconds), empty files and files that are not data files (`.pdf`, `.docx` …).

The content imported is exactly the content hashed: each file is copied to a private snapshot (read without
following links) and the snapshot is imported. A file that fails is recorded as a failed run and retried on
the next poll; later files wait for it, so statuses are never applied out of order.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from connectors.base import SourceError
from connectors.files import refusal
from connectors.pipeline import RunSummary, run_import
from connectors.registry import connector_for
from models import ImportRun
from models.db import PROJECT_ROOT
from regions import Region

log = logging.getLogger("sigap.drop_folder")

DEFAULT_SETTLE_SECONDS = 5.0
DATA_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson"})
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".filepart", ".swp",
                    ".lock", ".opdownload", ".!ut")
REFUSED = frozenset({"symbolic link (not followed)", "outside the drop folder", "cannot be resolved"})
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_HASH_CACHE: dict[tuple, str] = {}  # (path, size, mtime_ns, ctime_ns, inode) -> sha256, per process
_HASH_CACHE_LIMIT = 20_000


@dataclass
class Candidate:
    """A file ready to import."""

    path: Path
    size: int
    mtime: float
    sha256: str
    exported_at: datetime | None = None  # the export's own date (e.g. LAPOR "Tanggal Generate"), if known

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sort_key(self) -> tuple:
        moment = self.exported_at or datetime.fromtimestamp(self.mtime, timezone.utc)
        return (moment, self.mtime, self.name)


@dataclass
class FolderScan:
    channel: str
    folder: Path
    pending: list[Candidate] = field(default_factory=list)  # new files, in import order
    already_imported: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


@dataclass
class FolderResult:
    channel: str
    folder: Path
    runs: list[RunSummary] = field(default_factory=list)
    already_imported: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # files left for the next poll (after a failure)
    stopped: str | None = None  # why the poll stopped early, if it did

    @property
    def failed(self) -> list[RunSummary]:
        return [r for r in self.runs if r.state != "succeeded"]


def folder_of(settings: dict, root: Path = PROJECT_ROOT) -> Path | None:
    """The channel's drop folder from its settings: relative paths are relative to the project root."""
    value = str(settings.get("drop_folder") or "").strip()
    if not value:
        return None
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else root / path


def skip_reason(folder: Path, path: Path, now: float | None = None,
                settle_seconds: float = DEFAULT_SETTLE_SECONDS) -> str | None:
    """Why `path` must not be imported from `folder`, or None when it is a file ready to import."""
    name = path.name
    if name.startswith("."):
        return "hidden file"
    if name.startswith("~$") or name.endswith("~") or (name.startswith("#") and name.endswith("#")):
        return "editor lock or backup file"
    if name.lower().endswith(PARTIAL_SUFFIXES):
        return "partial file (still being copied or downloaded)"
    try:
        info = path.lstat()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return "symbolic link (not followed)"
    try:
        real = path.resolve(strict=True)
        inside = real.is_relative_to(folder.resolve(strict=True))
    except (OSError, RuntimeError):
        return "cannot be resolved"
    if not inside or real.parent != folder.resolve():
        return "outside the drop folder"
    if stat.S_ISDIR(info.st_mode):
        return "folder (sub-folders are not scanned)"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if path.suffix.lower() not in DATA_SUFFIXES:
        return f"not a data file ({path.suffix or 'no extension'}; expected .xlsx, .csv or .json)"
    now = time.time() if now is None else now
    changed = max(info.st_mtime, info.st_ctime)
    if now - changed < settle_seconds:
        return f"still being written (changed {max(now - changed, 0):.0f} s ago); next poll"
    if info.st_size == 0:
        return "empty file"
    return None


def _open_nofollow(path: Path) -> int:
    return os.open(path, _READ_FLAGS)


def sha256_of(path: Path) -> str:
    """The sha256 of a file's content, never following a symbolic link (cached per size and times)."""
    info = path.lstat()
    key = (str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    cached = _HASH_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    fd = _open_nofollow(path)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if len(_HASH_CACHE) >= _HASH_CACHE_LIMIT:
        _HASH_CACHE.clear()
    _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def snapshot(path: Path, into: Path) -> tuple[Path, str]:
    """Copy `path` (not following links) into the folder `into`, returning the copy and its sha256."""
    target = into / path.name
    digest = hashlib.sha256()
    fd = _open_nofollow(path)
    with os.fdopen(fd, "rb") as source, target.open("wb") as copy:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            copy.write(block)
    return target, digest.hexdigest()


def imported_hashes(engine: Engine, channel: str, hashes: list[str]) -> set[str]:
    """Those of `hashes` that already have a succeeded run for `channel`."""
    if not hashes:
        return set()
    runs = ImportRun.__table__.c
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            found.update(conn.execute(
                select(runs.source_sha256).where(runs.channel == channel, runs.state == "succeeded",
                                                 runs.source_sha256.in_(chunk))
            ).scalars())
    return found


def export_date(channel: str, region: Region, path: Path) -> datetime | None:
    """The export's own date, for connectors that read one from the file (a preamble); None otherwise."""
    from connectors.tabular import TabularConnector

    try:
        connector = connector_for(channel, region, source=path)
    except Exception:  # noqa: BLE001 - the import itself reports a broken connector
        return None
    if not isinstance(connector, TabularConnector) or type(connector).on_open is TabularConnector.on_open:
        return None  # this connector reads no date from the file: do not open it twice
    rows = connector.fetch(None)
    try:
        next(rows, None)
    except Exception:  # noqa: BLE001 - unreadable: the import records why
        return None
    finally:
        rows.close()
    return connector.observed_at


def scan(channel: str, region: Region, engine: Engine, *, folder: Path | None = None,
         settle_seconds: float | None = None, now: float | None = None) -> FolderScan:
    """List the drop folder: new files in import order, the number already imported, and what was skipped."""
    settings = region.channel_settings(channel)
    if folder is None:
        folder = folder_of(settings)
        if folder is None:
            raise SourceError(f"{channel}: no drop_folder in the region's channels.toml [{channel}] table")
        if not folder.exists() and not Path(os.path.expanduser(str(settings["drop_folder"]))).is_absolute():
            folder.mkdir(parents=True, exist_ok=True)  # a fresh installation: a folder under the project is ours
    if settle_seconds is None:
        settle_seconds = float(settings.get("settle_seconds", DEFAULT_SETTLE_SECONDS))
    if not folder.is_dir():
        raise SourceError(f"{channel}: drop folder {folder} does not exist or is not a folder")
    result = FolderScan(channel=channel, folder=folder)
    found: list[Candidate] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise SourceError(f"{channel}: drop folder {folder} cannot be read ({exc.strerror or exc})") from exc
    for entry in entries:
        path = folder / entry.name
        reason = skip_reason(folder, path, now, settle_seconds)
        if reason is None:
            try:
                info = path.lstat()
                found.append(Candidate(path, info.st_size, info.st_mtime, sha256_of(path)))
            except OSError as exc:
                reason = f"cannot be read ({exc.strerror or exc})"
        if reason is not None:
            result.skipped.append((entry.name, reason))
            if reason in REFUSED:  # someone may be trying to make the importer read a file it must not
                log.warning("%s: refused %s in the drop folder %s: %s", channel, entry.name, folder, reason)
    done = imported_hashes(engine, channel, sorted({c.sha256 for c in found}))
    seen: set[str] = set()
    for candidate in found:
        if candidate.sha256 in done:
            result.already_imported += 1
        elif candidate.sha256 in seen:
            result.skipped.append((candidate.name, "same content as another file in the folder"))
        elif (refused := refusal(candidate.path)) is not None:  # over the size limit, a zip bomb: never opened
            log.warning("%s: refused %s in the drop folder %s: %s", channel, candidate.name, folder, refused)
            result.skipped.append((candidate.name, refused))
        else:
            seen.add(candidate.sha256)
            result.pending.append(candidate)
    for candidate in result.pending:
        candidate.exported_at = export_date(channel, region, candidate.path)
    result.pending.sort(key=lambda c: c.sort_key)
    return result


def import_folder(channel: str, region: Region, engine: Engine, *, folder: Path | None = None,
                  settle_seconds: float | None = None, keep_going: Callable[[], bool] = lambda: True
                  ) -> FolderResult:
    """Import every new file of the drop folder once, in order; stop at the first failure.

    `keep_going` is asked before each file (the scheduler passes "do I still hold the lease?").
    """
    listing = scan(channel, region, engine, folder=folder, settle_seconds=settle_seconds)
    result = FolderResult(channel=channel, folder=listing.folder, already_imported=listing.already_imported,
                          skipped=list(listing.skipped))
    for index, candidate in enumerate(listing.pending):
        rest = [c.name for c in listing.pending[index:]]
        if not keep_going():
            result.stopped, result.waiting = "the channel's lease was lost", rest
            break
        if imported_hashes(engine, channel, [candidate.sha256]):  # imported meanwhile (a manual import)
            result.already_imported += 1
            continue
        if (older := _older_than_imported(engine, channel, candidate)) is not None:
            log.warning("%s: %s not imported: %s", channel, candidate.path, older)
            result.skipped.append((candidate.name, older))
            continue
        with tempfile.TemporaryDirectory(prefix=f"sigap-{channel}-") as scratch:
            try:
                copy, digest = snapshot(candidate.path, Path(scratch))
            except OSError as exc:
                result.skipped.append((candidate.name, f"cannot be read ({exc.strerror or exc})"))
                continue
            if digest != candidate.sha256:
                result.skipped.append((candidate.name, "changed while being listed; next poll"))
                continue
            log.info("%s: importing %s", channel, candidate.path)
            summary = _import_one(channel, region, engine, copy, candidate)
        result.runs.append(summary)
        if summary.state != "succeeded":
            result.stopped = f"{candidate.name} failed: {summary.error}"
            result.waiting = rest[1:]
            break
    return result


def _older_than_imported(engine: Engine, channel: str, candidate: Candidate) -> str | None:
    """Why an export older than one already imported is left alone (it would move statuses backwards), or None.
    Skipped rather than failed: a failure would hold back every later file of the folder."""
    from connectors.lapor import cursor_moment
    from connectors.pipeline import read_cursor

    if candidate.exported_at is None:
        return None
    with engine.connect() as conn:
        newest = cursor_moment(read_cursor(conn, channel))
    if newest is None or candidate.exported_at >= newest:
        return None
    return (f"exported {candidate.exported_at:%Y-%m-%d %H:%M} UTC, before the newest export already imported "
            f"({newest:%Y-%m-%d %H:%M} UTC); it would move statuses backwards")


def _import_one(channel: str, region: Region, engine: Engine, copy: Path, candidate: Candidate) -> RunSummary:
    """Run the pipeline on one snapshot; a failure is recorded as a failed run (by the pipeline or here)."""
    source = str(candidate.path)
    try:
        connector = connector_for(channel, region, source=copy)
    except Exception as exc:  # noqa: BLE001 - a broken mapping must be recorded, not crash the poll
        from connectors.scheduler import record_failed_run

        error = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        return record_failed_run(engine, channel, source, error, candidate.sha256)
    try:
        return run_import(connector, engine, source=source, source_sha256=candidate.sha256)
    except Exception as exc:  # noqa: BLE001 - run_import has recorded the failed run before re-raising
        log.exception("%s: import of %s failed", channel, candidate.path)
        summary = RunSummary(channel=channel, source=source, state="failed")
        summary.error = f"{type(exc).__name__}: {exc}"
        return summary
