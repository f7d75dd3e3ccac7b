"""The connector contract, after Singer taps and dlt sources.

A connector has a name, the source's primary key, `fetch(since)` yielding raw records, and `parse(raw)`
returning one validated `ComplaintIn`. It never touches the database: the pipeline does.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from models import ComplaintIn
from regions import Region, load_region
from regions.normalise import Resolver
from regions.sla import SlaBook


class RecordError(ValueError):
    """One record cannot be used; the message is the quarantine reason a person reads."""


class SourceError(Exception):
    """A whole source cannot be read (wrong format, unreadable file, server down): one clear line."""


class IncompleteSource(SourceError):
    """The source left records out of this run (a page that skipped records): the run fails and the channel's
    cursor goes back to where the run started, so the next poll reads the left-out records (the others come
    back unchanged)."""


class Connector:
    name: ClassVar[str]
    primary_key: ClassVar[str]
    # True for polled APIs: commit each batch with its cursor, so a crash resumes where it stopped.
    incremental: ClassVar[bool] = False

    def __init__(self, region: Region | None = None, settings: dict | None = None,
                 resolver: Resolver | None = None, sla: SlaBook | None = None, channel: str | None = None):
        if channel:
            self.name = channel
        self.region = region or load_region()
        self.settings = {**self.region.channel_settings(self.name), **(settings or {})}
        self.resolver = resolver or Resolver(self.region)
        self.sla = sla or SlaBook(self.region)
        # When the statuses in this source were true (e.g. a LAPOR export's "Tanggal Generate").
        self.observed_at: datetime | None = None

    def fetch(self, since: str | None) -> Iterator[dict]:
        raise NotImplementedError

    def parse(self, raw: dict) -> ComplaintIn:
        raise NotImplementedError

    def source_id_of(self, raw: dict) -> str | None:
        value = raw.get(self.primary_key)
        return None if value is None else str(value)

    def cursor_of(self, raw: dict) -> str | None:
        """The watermark this record moves the cursor to; None for sources without one."""
        return None

    def with_sla(self, fields: dict) -> dict:
        """Fill in the SLA due times from the region's rules."""
        fields["response_due_at"], fields["resolve_due_at"] = self.sla.due_times(
            fields["received_at"], self.name, fields["kind"], fields.get("classification"), fields.get("category")
        )
        return fields
