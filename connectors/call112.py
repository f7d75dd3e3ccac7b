"""Command Center 112 incident logs: the monthly/yearly export as xlsx or CSV.

Every call is stored, emergencies as `emergency_call` and the rest (information, prank, ghost, silent call ...)
as `non_emergency_call`, so they are counted but never mixed into complaint statistics.
"""
from __future__ import annotations

from connectors.base import RecordError, SourceError
from connectors.files import header_key
from connectors.generic import Places, clean_coordinates, clip, mapping_settings, mapping_timezone
from connectors.tabular import TabularConnector
from connectors.values import parse_datetime, parse_duration
from models import ComplaintIn
from models.base import Kind, Status
from regions import load_region


class Call112Connector(TabularConnector):
    name = "call112"
    primary_key = "source_id"
    mapping_name = "call112"

    def __init__(self, source=None, *, region=None, settings=None, channel=None, **kwargs):
        region = region or load_region()
        settings = mapping_settings(region, channel or self.name, settings, self.mapping_name)
        super().__init__(source=source, region=region, settings=settings, channel=channel, **kwargs)
        self.zone = mapping_timezone(self.mapping, self.region)
        raw_types = self.mapping.get("call_type")
        if not isinstance(raw_types, dict) or not raw_types:
            raise SourceError(f"the {self.name} mapping has no [call_type] table (TIPE LAPORAN -> kind)")
        self.call_types = {header_key(k): v for k, v in raw_types.items()}
        bad = sorted({v for v in self.call_types.values() if v not in Kind._value2member_map_})
        if bad:
            raise SourceError(f"the {self.name} mapping's [call_type] table has unknown kind(s) {', '.join(bad)}")
        self.places = Places(self.region, self.resolver)

    def call_kind(self, call_type: str | None) -> str:
        if call_type is None:
            raise RecordError("TIPE LAPORAN is empty")
        kind = self.call_types.get(header_key(call_type))
        if kind is None:
            raise RecordError(f"unknown call type {call_type!r}: add it to the [call_type] table of the "
                              f"{self.name} mapping")
        return kind

    def parse(self, raw: dict) -> ComplaintIn:
        source_id = self.text(raw, "source_id")
        if source_id is None:
            raise RecordError("UID is empty")
        received_at = parse_datetime(self.value(raw, "received_at"), self.zone, "WAKTU LAPOR")
        call_type = self.text(raw, "call_type")
        kind = self.call_kind(call_type)

        category_text, subcategory = self.text(raw, "category"), self.text(raw, "subcategory")
        category, agency_code = self.resolver.category(self.name, category_text)
        if category is None and subcategory:
            category, agency_code = self.resolver.category(self.name, subcategory)

        lat, lon = clean_coordinates(self.value(raw, "lat"), self.value(raw, "lon"))
        district_raw = self.text(raw, "district")
        district_code, subdistrict = self.places.resolve(
            district_raw, self.text(raw, "subdistrict"), lat, lon,
            prefer_point=bool(self.mapping.get("prefer_coordinates", True)))

        duration = parse_duration(self.value(raw, "duration"), "DURASI PENGERJAAN")
        finished = received_at + duration if duration is not None else None
        if kind == Kind.emergency_call.value:
            status = Status.resolved.value if finished is not None else Status.in_progress.value
        else:
            status = Status.closed.value  # the call itself is the whole case; its length is the duration
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=kind,
            source_type=clip(call_type, "source_type"),
            category=category,
            category_raw=clip(category_text or subcategory, "category_raw"),
            title=subcategory or category_text,
            status=status,
            district_code=district_code,
            district_raw=clip(district_raw, "district_raw"),
            subdistrict=subdistrict,
            lat=lat,
            lon=lon,
            agency_code=agency_code,
            # AGENT L1 is an operator code: kept only as the source detail, never in text shown to users.
            source_detail=clip(self.text(raw, "agent"), "source_detail"),
            first_response_at=received_at,  # a logged call was answered when it was logged
            resolved_at=finished,
            closed_at=finished,
        )
        return ComplaintIn.model_validate(self.with_sla(fields))
