"""SP4N-LAPOR! "Laporan Ringkas" exports: xlsx with or without the metadata preamble, 17 or 20 columns, or CSV."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from connectors.base import RecordError, SourceError
from connectors.generic import clip
from connectors.tabular import TabularConnector
from connectors.values import combine_local, flags, parse_date, text
from models import ComplaintIn


class LaporConnector(TabularConnector):
    name = "lapor"
    primary_key = "source_id"
    mapping_name = "lapor"
    exported_at: datetime | None = None  # when the export was generated (its "Tanggal Generate"), if it says
    _since: str | None = None

    def fetch(self, since: str | None = None) -> Iterator[dict]:
        self._since = since  # the channel's cursor: the generation time of the newest export imported so far
        return super().fetch(since)

    def on_open(self) -> None:
        # Statuses in an export were true when it was generated: that is when we observed them.
        self.exported_at = None
        generated = self.preamble.get("tanggal_generate")
        if generated is not None:
            try:
                day = parse_date(generated, "Tanggal Generate")
                local_end = datetime.combine(day, datetime.max.time()).replace(tzinfo=self.region.timezone)
                self.observed_at = min(local_end.astimezone(timezone.utc), datetime.now(timezone.utc))
                self.exported_at = self.observed_at
            except RecordError:
                self.observed_at = None
        self._refuse_older_export()

    def _refuse_older_export(self) -> None:
        """An export generated before one already imported would move statuses backwards."""
        newest = cursor_moment(self._since)
        if self.exported_at is None or newest is None or self.exported_at >= newest:
            return
        if self.settings.get("allow_older_exports"):
            return
        zone = self.region.timezone
        raise SourceError(
            f"{self.source.name}: this export was generated on {self.exported_at.astimezone(zone):%Y-%m-%d} "
            f"(Tanggal Generate), before the newest LAPOR export already imported "
            f"({newest.astimezone(zone):%Y-%m-%d}); importing it would move statuses backwards. Import exports "
            f"oldest first, or set allow_older_exports = true in the [{self.name}] table of channels.toml")

    def cursor_of(self, raw: dict) -> str | None:
        """The export's generation time: the pipeline keeps the newest as the channel's cursor."""
        return None if self.exported_at is None else cursor_text(self.exported_at)

    def parse(self, raw: dict) -> ComplaintIn:
        source_id = self.text(raw, "source_id")
        if source_id is None:
            raise RecordError("Tracking ID is empty")
        zone = ZoneInfo(self.mapping.get("timezone", "UTC"))
        received_at = combine_local(self.value(raw, "date"), self.value(raw, "time"), zone, "Tanggal Laporan Masuk")
        classification = self.text(raw, "classification")
        kind = self.kind(classification)
        category_raw = self.text(raw, "category")
        category, _ = self.resolver.category(self.name, category_raw)
        agency_raw = self.text(raw, "agency")
        body = self.text(raw, "body")
        district_raw = self.text(raw, "district")
        subdistrict_raw = self.text(raw, "subdistrict")
        district_code = self.resolver.district(district_raw) if district_raw else None
        subdistrict, sub_district_code = self.resolver.subdistrict(subdistrict_raw, district_code)
        if district_code is None and not district_raw:
            district_code = sub_district_code or self.resolver.district_from_text(body)
        report_flags = flags(self.value(raw, "flags"))
        status_raw = self.text(raw, "status")
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=kind,
            source_type=clip(classification, "source_type"),
            classification=clip(classification, "classification"),
            category=category,
            category_raw=clip(category_raw, "category_raw"),
            title=self.text(raw, "title"),
            body=body,
            status=self.status(status_raw),
            status_raw=clip(status_raw, "status_raw"),
            district_code=district_code,
            district_raw=clip(district_raw, "district_raw"),
            subdistrict=clip(subdistrict or (subdistrict_raw.title() if subdistrict_raw else None), "subdistrict"),
            agency_code=self.resolver.agency(agency_raw) if agency_raw else None,  # not routed yet
            agency_raw=clip(agency_raw, "agency_raw"),
            source_detail=clip(text(self.value(raw, "source_detail")), "source_detail"),
            is_anonymous="anonim" in report_flags,
            is_confidential="rahasia" in report_flags,
        )
        return ComplaintIn.model_validate(self.with_sla(fields))


def cursor_text(moment: datetime) -> str:
    """A fixed-width UTC text, so that cursors compare as strings in time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cursor_moment(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        moment = datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
