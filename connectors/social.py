"""Social-listening exports: posts mentioning the city's official accounts, triaged by the social-media team."""
from __future__ import annotations

from connectors.base import RecordError
from connectors.generic import Places, clip, mapping_settings, mapping_timezone, moment
from connectors.tabular import TabularConnector
from models import ComplaintIn
from models.base import Status
from models.inputs import ReporterIn
from regions import load_region
from regions.normalise import name_key

# A location hint that names a district, whether or not we know it ("Kec. Foo"): unmapped ones are counted.
_DISTRICT_WORDS = ("KEC ", "KECAMATAN ")


class SocialConnector(TabularConnector):
    name = "social"
    primary_key = "source_id"
    mapping_name = "social"

    def __init__(self, source=None, *, region=None, settings=None, channel=None, **kwargs):
        region = region or load_region()
        settings = mapping_settings(region, channel or self.name, settings, self.mapping_name)
        super().__init__(source=source, region=region, settings=settings, channel=channel, **kwargs)
        self.zone = mapping_timezone(self.mapping, self.region)
        self.places = Places(self.region, self.resolver)

    def moment(self, raw: dict, field: str, label: str):
        return moment(self.value(raw, field), self.zone, label)

    def place(self, hint: str | None, body: str | None) -> tuple[str | None, str | None, str | None]:
        """(district code, sub-district, district_raw) from the free-text location hint, then the post text.

        The hint is a street, a kelurahan or "Kec. X". It is kept as district_raw only when it names a place
        we resolved or a district: a street that resolves to nothing is not an unknown district name.
        """
        if not hint:
            return self.resolver.district_from_text(body), None, None
        named = self.resolver.district(hint) or self.resolver.district_from_text(hint)
        subdistrict, code = (None, named) if named else self.resolver.subdistrict(hint, None)
        keep = code is not None or name_key(hint).startswith(_DISTRICT_WORDS)
        if code is None:
            code = self.resolver.district_from_text(body)
        return code, subdistrict, clip(hint, "district_raw") if keep else None

    def parse(self, raw: dict) -> ComplaintIn:
        source_id = self.text(raw, "source_id")
        if source_id is None:
            raise RecordError("post_id is empty")
        received_at = self.moment(raw, "received_at", "posted_at")
        if received_at is None:
            raise RecordError("posted_at is empty")
        topic = self.text(raw, "category")
        category, _ = self.resolver.category(self.name, topic)  # routing comes from handled_by
        agency_raw = self.text(raw, "agency")
        body = self.text(raw, "body")
        district_code, subdistrict, district_raw = self.place(self.text(raw, "location"), body)
        status_raw = self.text(raw, "status")
        status = self.status(status_raw)
        closed_at = self.moment(raw, "closed_at", "closed_at")
        resolved_at = self.moment(raw, "resolved_at", "resolved_at")
        if resolved_at is None and status == Status.resolved.value:
            resolved_at = closed_at
        platform, account = self.text(raw, "platform"), self.text(raw, "account")
        handle = self.text(raw, "author")
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=self.kind(topic),
            source_type=clip(platform, "source_type"),
            category=category,
            category_raw=clip(topic, "category_raw"),
            body=body,
            status=status,
            status_raw=clip(status_raw, "status_raw"),
            district_code=district_code,
            district_raw=district_raw,
            subdistrict=subdistrict,
            # Who handles it once forwarded; nobody (None) while new or dismissed.
            agency_code=self.resolver.agency(agency_raw) if agency_raw else None,
            agency_raw=clip(agency_raw, "agency_raw"),
            # The city's own account that was mentioned: public, not the author.
            source_detail=clip(" ".join(p for p in (platform, account) if p) or None, "source_detail"),
            first_response_at=self.moment(raw, "first_response_at", "replied_at"),
            resolved_at=resolved_at,
            closed_at=closed_at,
            # The author handle is personal data: only in the protected reporter record.
            reporter=ReporterIn(name=handle[:200]) if handle else None,
        )
        return ComplaintIn.model_validate(self.with_sla(fields))
