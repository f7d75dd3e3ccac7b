"""Open311 GeoReport v2: `GET {url}/requests.json`, the standard 311 interface, read like any JSON API.

The field mapping and what the server supports (updated_after, page/page_size, date windows) are in
connectors/mappings/open311.toml; channels.toml may override the flags per region. open/closed are refined into
unified statuses by the `status_notes` rules of the mapping. The address is personal-ish (street and house
number): it is stored only as the reporter's address, and only its "Kec. …" / "Kel. …" parts are used to place
the request. With `source=` a saved requests.json page (a JSON array) is read instead.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

from connectors.base import RecordError, SourceError
from connectors.json_api import LIMITS, JsonApiConnector, clip, cursor_string, dig, format_since, zone_named
from connectors.values import parse_datetime, text

_DISTRICT_PART = re.compile(r"^(kecamatan|kec)\b\.?\s*\S", re.IGNORECASE)
_SUBDISTRICT_PART = re.compile(r"^(kelurahan|kel|desa|ds)\b\.?\s*\S", re.IGNORECASE)
_PREFIX = re.compile(r"^(kecamatan|kec|kelurahan|kel|desa|ds)\b\.?\s*", re.IGNORECASE)


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "ya")


class Open311Connector(JsonApiConnector):
    name = "open311"
    primary_key = "service_request_id"
    default_mapping = "open311"

    def requests_url(self) -> str:
        """The configured url if it names the document (…/requests.json), else {url}/requests.json."""
        url = self.url()
        parts = urlsplit(url)
        if parts.path.endswith(".json"):
            return url
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/requests.json"))

    def pages(self, since: str | None) -> Iterator[list]:
        common = {}
        if self.setting("jurisdiction_id"):
            common["jurisdiction_id"] = self.setting("jurisdiction_id")
        self._window_floor = None
        if _flag(self.setting("supports_updated_after", True)):
            yield from self._paged({**common, "updated_after": self.since_value(since)})
            return
        # Date windows come oldest first, but a window's requests in any order: the safe place to resume from is
        # the start of the window being read, not the newest update seen (see cursor_of).
        zone = zone_named(self.mapping.get("since_timezone", "UTC"), self.region.timezone, "open311 mapping")
        for start, end in self.windows(since):
            self._window_floor = cursor_string(start)
            yield from self._paged({**common, "start_date": format_since(start, self.mapping.get("since_format"), zone),
                                    "end_date": format_since(end, self.mapping.get("since_format"), zone)})

    def cursor_of(self, raw: dict) -> str | None:
        """updated_datetime with `updated_after`; with date windows, the start of the window being read (every
        earlier window is complete), from which the next poll re-reads `lookback_days` back."""
        floor = getattr(self, "_window_floor", None)
        return floor if floor is not None else super().cursor_of(raw)

    def windows(self, since: str | None, now: datetime | None = None) -> list[tuple[datetime, datetime]]:
        """start_date/end_date windows (inclusive ends, no overlap) covering the requests to re-read."""
        now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        days = lambda key, default: timedelta(days=float(self.setting(key, default)))  # noqa: E731
        if since:
            try:
                start = parse_datetime(since, timezone.utc, "cursor") - days("lookback_days", 30)
            except RecordError as exc:
                raise SourceError(f"{self.name}: the stored cursor {since!r} is not a time ({exc})") from None
        else:
            start = now - days("history_days", 400)
        start = start.replace(microsecond=0)
        step = days("window_days", 90)
        if step <= timedelta(0):
            raise SourceError(f"{self.name}: window_days must be positive")
        spans = []
        while start <= now:
            end = min(start + step, now)
            spans.append((start, end if end == now else end - timedelta(seconds=1)))
            if end == now:
                break
            start = end
        return spans

    def _paged(self, params: dict) -> Iterator[list]:
        url = self.requests_url()
        if not _flag(self.setting("supports_paging", True)):
            yield self.items_of(self.http.get_json(url, params), url)
            return
        size, previous_first = self.page_size(), None
        for page in range(1, self.max_pages() + 1):
            items = self.items_of(self.http.get_json(url, {**params, "page": page, "page_size": size}), url)
            first = self.source_id_of(items[0]) if items and isinstance(items[0], dict) else None
            if page > 1 and first is not None and first == previous_first:
                raise SourceError(f"{self.name}: page {page} repeats page {page - 1}; the server ignores `page` "
                                  "(set supports_paging = false for this channel)")
            yield items
            if len(items) < size:
                return
            previous_first = first
        raise SourceError(f"{self.name}: more than {self.max_pages()} pages; the server keeps sending full pages")

    def place(self, raw: dict, body: str | None) -> dict:
        """District and sub-district from the address's 'Kec. …' / 'Kel. …' parts, else a mention in the text.

        Only those parts are kept (as district_raw / subdistrict): the street and number never leave the
        reporter record.
        """
        address = None
        for path in self.spec_reporter("address"):
            found = dig(raw, path)
            if isinstance(found, str) and found.strip():
                address = found
                break
        district_part = subdistrict_part = None
        for part in (address or "").split(","):
            part = " ".join(part.split())
            if district_part is None and _DISTRICT_PART.match(part):
                district_part = part
            elif subdistrict_part is None and _SUBDISTRICT_PART.match(part):
                subdistrict_part = part
        district_code = self.resolver.district(district_part) if district_part else None
        if district_code is None and district_part is None:
            district_code = self.resolver.district_from_text(address) or self.resolver.district_from_text(body)
        subdistrict, sub_district_code = self.resolver.subdistrict(subdistrict_part, district_code)
        if district_code is None and district_part is None:
            district_code = sub_district_code
        if subdistrict is None and subdistrict_part:
            subdistrict = clip(_PREFIX.sub("", subdistrict_part).title(), LIMITS["subdistrict"])
        return {"district_code": district_code, "district_raw": clip(text(district_part), LIMITS["district_raw"]),
                "subdistrict": subdistrict}

    def spec_reporter(self, field: str) -> list[str]:
        spec = self.reporter_paths.get(field)
        return [spec] if isinstance(spec, str) and spec else [p for p in spec or () if p]
