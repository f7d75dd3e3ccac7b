"""SP4N-LAPOR! "Laporan Ringkas" exports: xlsx with or without the metadata preamble, 17 or 20 columns, or CSV."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from connectors.base import RecordError
from connectors.generic import clip
from connectors.tabular import TabularConnector
from connectors.values import combine_local, flags, parse_date, text
from models import ComplaintIn


class LaporConnector(TabularConnector):
    name = "lapor"
    primary_key = "source_id"
    mapping_name = "lapor"

    def on_open(self) -> None:
        # Statuses in an export were true when it was generated: that is when we observed them.
        generated = self.preamble.get("tanggal_generate")
        if generated is not None:
            try:
                day = parse_date(generated, "Tanggal Generate")
                local_end = datetime.combine(day, datetime.max.time()).replace(tzinfo=self.region.timezone)
                self.observed_at = min(local_end.astimezone(timezone.utc), datetime.now(timezone.utc))
            except RecordError:
                self.observed_at = None

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
