"""Polled JSON APIs (Wargaku, Media Center, Jogja Smart Service …): one class, one mapping file per channel.

The mapping (connectors/mappings/<channel>.toml, or the `mapping` named in channels.toml) says how the API
pages, where the items are, which query parameter asks for "changed since", and which item field means what.
Its keys are documented at the top of connectors/mappings/wargaku.toml.

`fetch(since)` asks for everything changed at or after the stored cursor (inclusive: the boundary record is read
again and ends as unchanged) and follows the pages; the cursor of a record is its `updated_at` as a fixed-width
UTC string, so string order is time order. With `source=` a saved page file (a response body) is read instead,
parsed the same way.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.base import Connector, IncompleteSource, RecordError, SourceError
from connectors.files import check_size, header_key
from connectors.http import JsonHttp
from connectors.tabular import load_mapping
from connectors.values import is_blank, parse_datetime, parse_float, text
from models import TERMINAL_STATUSES, ComplaintIn, Kind, ReporterIn, Status
from models.tables import ComplaintBase

log = logging.getLogger(__name__)

CURSOR_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # fixed width: string order is time order
FUTURE_TOLERANCE = timedelta(hours=1)
DEFAULT_MAX_PAGES = 100_000
PAGING_STYLES = ("page", "cursor", "offset", "none")
# Keys that belong at the top of a mapping file. Written after a [table] header, TOML puts them inside it.
TOP_LEVEL_KEYS = (
    "paging", "items", "page_param", "page_size_param", "first_page", "next_page", "cursor_param", "next_cursor",
    "has_more", "offset_param", "limit_param", "total", "page_size", "max_pages", "since_param", "since_format",
    "since_timezone", "since_initial", "timezone", "success_field", "success_values", "error_field",
    "supports_updated_after", "supports_paging", "window_days", "lookback_days", "history_days", "jurisdiction_id",
)
TABLES = ("fields", "reporter", "status", "kind", "status_fields")
FIELDS = (
    "source_id", "received_at", "updated_at", "kind", "source_type", "classification", "category", "title", "body",
    "status", "district", "subdistrict", "lat", "lon", "coordinates", "agency", "first_response_at",
    "resolved_at", "closed_at", "source_detail", "anonymous", "confidential", "status_notes",
)
# Fields shown on dashboards: they must never read reporter data.
TEXT_FIELDS = ("kind", "source_type", "classification", "category", "title", "body", "status", "district",
               "subdistrict", "agency", "source_detail")
REPORTER_FIELDS = ("name", "nik", "phone", "email", "address")
RESOLVED = frozenset({Status.resolved.value, Status.closed.value})
STATUSES = frozenset(s.value for s in Status)
KINDS = frozenset(k.value for k in Kind)
TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "ya", "anonim", "rahasia", "anonymous", "confidential"})


def _max_lengths(model) -> dict[str, int]:
    limits = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if getattr(meta, "max_length", None):
                limits[name] = meta.max_length
    return limits


LIMITS = _max_lengths(ComplaintBase)
REPORTER_LIMITS = _max_lengths(ReporterIn)


def clip(value: str | None, limit: int | None) -> str | None:
    """Over-long source text is cut (with an ellipsis) rather than losing the whole record."""
    if value is None or limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def dig(document, path: str | None):
    """The value at a dotted path ('location.district', 'result.complaints'); None when any step is missing."""
    if not path:
        return None
    current = document
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def cursor_string(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(CURSOR_FORMAT)


def zone_named(name: str | None, region_zone, what: str):
    name = str(name or "region").strip()
    if name.lower() in ("region", "local"):
        return region_zone
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError
        raise SourceError(f"{what}: unknown time zone {name!r} (use \"region\", \"UTC\" or an IANA name)") from None


def format_since(moment: datetime, fmt: str | None, zone) -> str:
    """The updated-since query value: 'iso' (ISO-8601 in `zone`, 'Z' for UTC), 'epoch', 'epoch_ms' or strftime."""
    fmt = (fmt or "iso").strip()
    if fmt == "epoch":
        return str(int(moment.timestamp()))
    if fmt == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    local = moment.astimezone(zone)
    if fmt == "iso":
        value = local.replace(microsecond=0).isoformat()
        return value.replace("+00:00", "Z") if zone is timezone.utc else value
    return local.strftime(fmt)


def check_mapping(mapping: dict, where: str, http: bool) -> None:
    """Catch the mistakes that would otherwise turn into silent nonsense, with a line a person can act on."""
    for table in TABLES:
        value = mapping.get(table, {})
        if not isinstance(value, dict):
            raise SourceError(f"mapping {where}: {table} must be a [{table}] table")
        for key in TOP_LEVEL_KEYS:
            if key in value:
                raise SourceError(f"mapping {where}: {key!r} is inside [{table}]; top-level keys must come before "
                                  "the first [table] header")
    fields = mapping.get("fields", {})
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise SourceError(f"mapping {where}: unknown field(s) {', '.join(unknown)} in [fields]")
    for required in ("source_id", "received_at", "status"):
        if not fields.get(required):
            raise SourceError(f"mapping {where}: [fields] needs {required}")
    unknown = sorted(set(mapping.get("reporter", {})) - set(REPORTER_FIELDS))
    if unknown:
        raise SourceError(f"mapping {where}: unknown field(s) {', '.join(unknown)} in [reporter]")
    reporter_paths = {p for spec in mapping.get("reporter", {}).values() for p in _paths(spec)}
    overrides = [(f"status_fields.{s}", t) for s, t in mapping.get("status_fields", {}).items()]
    for table_name, table in [("fields", fields), *overrides]:
        if not isinstance(table, dict):
            raise SourceError(f"mapping {where}: {table_name} must be a table")
        for field in TEXT_FIELDS:
            for path in _paths(table.get(field)):
                if any(path == r or r.startswith(path + ".") for r in reporter_paths):
                    raise SourceError(f"mapping {where}: {table_name}.{field} reads {path!r}, which is reporter "
                                      "data; personal data goes only in [reporter]")
    for source_status, status in mapping.get("status", {}).items():
        if status not in STATUSES:
            raise SourceError(f"mapping {where}: [status] {source_status} = {status!r} is not one of "
                              f"{', '.join(sorted(STATUSES))}")
    for status in mapping.get("status_fields", {}):
        if status not in STATUSES:
            raise SourceError(f"mapping {where}: [status_fields.{status}] is not a unified status")
    rules = mapping.get("status_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise SourceError(f"mapping {where}: status_rules must be [[status_rules]] tables")
    for rule in rules:
        if rule.get("status") not in STATUSES or not isinstance(rule.get("contains", []), list):
            raise SourceError(f"mapping {where}: a [[status_rules]] entry needs status = <unified status> and "
                              f"contains = [words]; got {rule!r}")
    for source_kind, kind in mapping.get("kind", {}).items():
        if kind not in KINDS:
            raise SourceError(f"mapping {where}: [kind] {source_kind} = {kind!r} is not one of "
                              f"{', '.join(sorted(KINDS))}")
    if http:
        paging = mapping.get("paging", "none")
        if paging not in PAGING_STYLES:
            raise SourceError(f"mapping {where}: paging = {paging!r}; use one of {', '.join(PAGING_STYLES)}")


def _paths(spec) -> list[str]:
    if spec is None or spec == "":
        return []
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list) and all(isinstance(p, str) for p in spec):
        return [p for p in spec if p]
    raise SourceError(f"a field must be a path or a list of paths, not {spec!r}")


class JsonApiConnector(Connector):
    """A polled JSON API described entirely by its mapping file."""

    name = "json_api"
    primary_key = "id"
    incremental = True
    default_mapping: str | None = None  # subclasses with a fixed mapping name (open311)

    def __init__(self, source: str | Path | None = None, **kwargs):
        super().__init__(**kwargs)
        if self.name == JsonApiConnector.name:
            raise SourceError("JsonApiConnector needs channel= (wargaku, mediacenter, jss, …)")
        self.source = Path(source) if source else None
        # A bare name is a file in connectors/mappings/; a path may be relative to the region folder.
        mapping_name = str(self.settings.get("mapping") or self.default_mapping or self.name)
        self.mapping = load_mapping(mapping_name, self.region.path)
        self.mapping_label = Path(mapping_name).name if Path(mapping_name).suffix else f"{mapping_name}.toml"
        check_mapping(self.mapping, self.mapping_label, http=self.source is None)
        self.fields = self.mapping.get("fields", {})
        self.reporter_paths = self.mapping.get("reporter", {})
        self.status_fields = dict(self.mapping.get("status_fields", {}))
        self.zone = zone_named(self.mapping.get("timezone"), self.region.timezone, f"mapping {self.mapping_label}")
        self.primary_key = _paths(self.fields["source_id"])[0]
        self._http: JsonHttp | None = None
        self._newest_seen: str | None = None
        self._warned_order = False
        self._announced: int | None = None  # the `total` the server announced on the latest page

    # --- reading -------------------------------------------------------------------------------------------

    @property
    def http(self) -> JsonHttp:
        if self._http is None:
            self._http = JsonHttp.from_settings(self.name, self.settings)
        return self._http

    def url(self) -> str:
        url = str(self.settings.get("url") or "").strip()
        if not url:
            raise SourceError(f"{self.name}: no url in the region's channels.toml [{self.name}] table")
        return url

    def setting(self, key: str, default=None):
        """A channel setting (channels.toml) overrides the mapping's default."""
        value = self.settings.get(key)
        return value if value not in (None, "") else self.mapping.get(key, default)

    def page_size(self) -> int:
        try:
            size = int(self.setting("page_size", 100))
        except (TypeError, ValueError):
            raise SourceError(f"{self.name}: page_size must be a whole number") from None
        if size < 1:
            raise SourceError(f"{self.name}: page_size must be at least 1")
        return size

    def max_pages(self) -> int:
        try:
            return max(1, int(self.setting("max_pages", DEFAULT_MAX_PAGES)))
        except (TypeError, ValueError):
            raise SourceError(f"{self.name}: max_pages must be a whole number") from None

    def fetch(self, since: str | None = None) -> Iterator[dict]:
        if self.source is not None:
            yield from self.read_file(self.source)
            return
        self._newest_seen, self._announced = None, None
        seen: set[str] = set()
        for number, items in enumerate(self.pages(since), start=1):
            self._refuse_repeated_page(number, items, seen)
            yield from self._watch_order(items)
        self._check_complete(len(seen), since)

    def _refuse_repeated_page(self, number: int, items: list, seen: set[str]) -> None:
        """A page holding only records read earlier in this run means the server's paging went wrong (its real
        page would be skipped): stop before it, so the cursor stays below every unread record."""
        ids = {i for i in map(self.source_id_of, items) if i is not None}
        if number > 1 and ids and ids <= seen:
            raise SourceError(f"{self.name}: page {number} repeats {len(items)} record(s) already read on an "
                              "earlier page of this run; the server's paging is inconsistent, stopping so that no "
                              "page is skipped")
        seen |= ids

    def _check_complete(self, distinct: int, since: str | None) -> None:
        """Records the server announced (`total`) but never sent were skipped by its paging: fail the run, and
        the pipeline puts the cursor back where the run started."""
        if self._announced is not None and distinct < self._announced:
            raise IncompleteSource(f"{self.name}: the server announced {self._announced} changed records but sent "
                                   f"{distinct} different ones; a page skipped records. The next poll reads again "
                                   f"from {since or 'the beginning'}")

    def read_file(self, path: Path) -> Iterator[dict]:
        """A saved response body: the same JSON the API returns for one page."""
        if path.is_symlink():
            raise SourceError(f"{path.name}: symbolic links are not imported")
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
        check_size(path)
        try:
            document = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{path.name}: not valid JSON ({exc}); is it a whole {self.name} page file?") from None
        yield from self.items_of(document, path.name)

    def items_of(self, document, where: str) -> list:
        """The item list of one response, after checking the envelope says it succeeded."""
        success_field = self.mapping.get("success_field")
        if success_field and isinstance(document, dict):
            value = dig(document, success_field)
            allowed = [str(v).lower() for v in self.mapping.get("success_values", ["success", "ok", "true"])]
            if str(value).lower() not in allowed:
                message = text(dig(document, self.mapping.get("error_field", "message")))
                raise SourceError(f"{self.name}: {where} answered {success_field} = {value!r}"
                                  + (f": {clip(message, 200)}" if message else ""))
        path = self.mapping.get("items")
        items = document if not path and isinstance(document, list) else dig(document, path)
        if not isinstance(items, list):
            problem = f"has no {path!r} list of items" if path else "is not a JSON array of items"
            raise SourceError(f"{self.name}: {where} {problem}; is this the {self.name} API?")
        return items

    def since_value(self, since: str | None) -> str | None:
        """The updated-since query value for a stored cursor (or the mapping's `since_initial` on a first poll)."""
        raw = since or self.mapping.get("since_initial")
        if not raw:
            return None
        try:
            moment = parse_datetime(raw, timezone.utc, "cursor")
        except RecordError as exc:
            raise SourceError(f"{self.name}: the stored cursor {raw!r} is not a time ({exc})") from None
        zone = zone_named(self.mapping.get("since_timezone", "UTC"), self.region.timezone,
                          f"mapping {self.mapping_label}")
        return format_since(moment, self.mapping.get("since_format"), zone)

    def pages(self, since: str | None) -> Iterator[list]:
        """Each page's item list, following the mapping's paging style until the last page."""
        m = self.mapping
        url = self.url()
        params: dict = {}
        if m.get("since_param"):
            params[m["since_param"]] = self.since_value(since)
        size, style, limit = self.page_size(), m.get("paging", "none"), self.max_pages()
        if style == "none":
            yield self.items_of(self.http.get_json(url, params), url)
            return
        page, token, offset, previous_token = int(m.get("first_page", 1)), None, 0, None
        for _ in range(limit):
            query = dict(params)
            if style == "page":
                query.update({m.get("page_param", "page"): page, m.get("page_size_param", "per_page"): size})
            elif style == "cursor":
                query[m.get("page_size_param", "limit")] = size
                if token is not None:
                    query[m.get("cursor_param", "cursor")] = token
            else:
                query.update({m.get("offset_param", "offset"): offset, m.get("limit_param", "limit"): size})
            document = self.http.get_json(url, query)
            items = self.items_of(document, url)
            self._note_total(document)
            yield items
            if not items:
                return
            if style == "page":
                if m.get("next_page"):
                    following = dig(document, m["next_page"])
                    if following is None or following is False:
                        return
                    try:
                        following = int(following)
                    except (TypeError, ValueError):
                        raise SourceError(f"{self.name}: {m['next_page']} = {following!r} is not a page "
                                          "number") from None
                    if following <= page:
                        raise SourceError(f"{self.name}: the server sent page {page} with next page {following}; "
                                          "stopping rather than looping")
                    page = following
                elif len(items) < size:
                    return
                else:
                    page += 1
            elif style == "cursor":
                more = dig(document, m["has_more"]) if m.get("has_more") else True
                token = dig(document, m.get("next_cursor", "cursor"))
                if not more or token in (None, ""):
                    return
                if token == previous_token:
                    raise SourceError(f"{self.name}: the server sent the same page cursor twice; stopping rather "
                                      "than looping")
                previous_token = token
            else:
                offset += len(items)
                if self._announced is not None:
                    if offset >= self._announced:
                        return
                elif len(items) < size:
                    return
        raise SourceError(f"{self.name}: more than {limit} pages; the server keeps sending more (raise max_pages "
                          "if that is real)")

    def _note_total(self, document) -> None:
        """Remember the mapping's `total` field (how many changed records the server says it has)."""
        if not self.mapping.get("total"):
            return
        total = dig(document, self.mapping["total"])
        try:
            self._announced = int(total) if total is not None and not isinstance(total, bool) else None
        except (TypeError, ValueError):
            raise SourceError(f"{self.name}: {self.mapping['total']} = {total!r} is not a number") from None

    def _watch_order(self, items: list) -> Iterator:
        """Pass items through, warning once when the server does not send the oldest change first.

        The cursor committed with each batch is the newest change read so far: resuming from it after a failure
        is only safe when the server returns changes in update order.
        """
        page_newest = self._newest_seen
        for item in items:
            cursor = self.cursor_of(item) if isinstance(item, dict) else None
            if cursor and page_newest and cursor < page_newest and not self._warned_order:
                self._warned_order = True
                log.warning("%s: the server does not return changes oldest first (%s after %s); a run that fails "
                            "part-way may resume past unread records", self.name, cursor, page_newest)
            if cursor and (self._newest_seen is None or cursor > self._newest_seen):
                self._newest_seen = cursor
            yield item

    # --- parsing -------------------------------------------------------------------------------------------

    def spec(self, field: str, status: str | None = None) -> list[str]:
        """The paths of `field`, with the per-status override from [status_fields.<status>] when there is one."""
        if status is not None and field in self.status_fields.get(status, {}):
            return _paths(self.status_fields[status][field])
        return _paths(self.fields.get(field))

    def value(self, raw: dict, field: str, status: str | None = None):
        """The first filled value among the field's paths."""
        for path in self.spec(field, status):
            found = dig(raw, path)
            if not is_blank(found):
                if isinstance(found, (dict, list)):
                    raise RecordError(f"{path} is a JSON {'object' if isinstance(found, dict) else 'list'}, "
                                      "not a value; fix the path in the mapping")
                return found
        return None

    def text(self, raw: dict, field: str, status: str | None = None) -> str | None:
        value = self.value(raw, field, status)
        return clip(text(value), LIMITS.get(field)) if value is not None else None

    def moment(self, raw: dict, field: str, status: str | None = None) -> datetime | None:
        value = self.value(raw, field, status)
        if value is None:
            return None
        return parse_datetime(value, self.zone, self.spec(field, status)[0])

    def source_id_of(self, raw: dict) -> str | None:
        if not isinstance(raw, dict):
            return None
        value = dig(raw, self.primary_key)
        return None if isinstance(value, (dict, list)) else text(value)

    def cursor_of(self, raw: dict) -> str | None:
        try:
            moment = self.moment(raw, "updated_at") or self.moment(raw, "received_at")
        except RecordError:
            return None
        return cursor_string(moment) if moment is not None else None

    def status(self, raw: dict) -> tuple[str, str | None]:
        """(unified status, the source's own status text)."""
        status_raw = self.text(raw, "status")
        if status_raw is None:
            default = self.mapping["status"].get("default")
            if default:
                return default, None
            raise RecordError(f"{self.spec('status')[0]} is empty")
        status = self.mapping["status"].get(header_key(status_raw))
        if status is None:
            raise RecordError(f"unknown status {status_raw!r}: add it to the [status] table of {self.mapping_label}")
        return self.refine_status(raw, header_key(status_raw), status), clip(status_raw, LIMITS["status_raw"])

    def refine_status(self, raw: dict, status_key: str, status: str) -> str:
        """[[status_rules]]: the first rule whose `when` and `contains` match the status notes decides."""
        rules = self.mapping.get("status_rules") or ()
        if not rules:
            return status
        notes = (self.text(raw, "status_notes") or "").lower()
        for rule in rules:
            when = {header_key(w) for w in rule.get("when", ())}
            if when and status_key not in when:
                continue
            words = [str(w).lower() for w in rule.get("contains", ())]
            if (words and any(w in notes for w in words)) or (not words and notes):
                return rule["status"]
        return status

    def kind(self, raw: dict) -> str:
        table = self.mapping["kind"]
        raw_kind = self.text(raw, "kind")
        return table.get(header_key(raw_kind), table.get("default", "complaint")) if raw_kind else \
            table.get("default", "complaint")

    def category(self, raw: dict) -> tuple[str | None, str | None]:
        """(unified category, the source's text): the first of the field's paths that the category map knows."""
        first = None
        for path in self.spec("category"):
            raw_text = text(dig(raw, path)) if not isinstance(dig(raw, path), (dict, list)) else None
            if raw_text is None:
                continue
            first = first or raw_text
            category, _ = self.resolver.category(self.name, raw_text)
            if category:
                return category, clip(raw_text, LIMITS["category_raw"])
        return None, clip(first, LIMITS["category_raw"])

    def coordinates(self, raw: dict) -> tuple[float | None, float | None]:
        if self.spec("lat"):
            return parse_float(self.value(raw, "lat")), parse_float(self.value(raw, "lon"))
        pair = self.text(raw, "coordinates")
        if pair and pair.count(",") == 1:
            lat, lon = (parse_float(p.strip()) for p in pair.split(","))
            return lat, lon
        return None, None

    def place(self, raw: dict, body: str | None) -> dict:
        """district_code, district_raw and subdistrict, as the LAPOR connector resolves them."""
        district_raw = self.text(raw, "district")
        subdistrict_raw = self.text(raw, "subdistrict")
        district_code = self.resolver.district(district_raw) if district_raw else None
        subdistrict, sub_district_code = self.resolver.subdistrict(subdistrict_raw, district_code)
        if district_code is None and not district_raw:
            district_code = sub_district_code or self.resolver.district_from_text(body)
        return {
            "district_code": district_code,
            "district_raw": district_raw,
            "subdistrict": (subdistrict or clip(subdistrict_raw.title(), LIMITS["subdistrict"])) if subdistrict_raw
            else None,
        }

    def reporter(self, raw: dict) -> ReporterIn | None:
        values = {}
        for field, spec in self.reporter_paths.items():
            for path in _paths(spec):
                found = dig(raw, path)
                if not is_blank(found) and not isinstance(found, (dict, list)):
                    values[field] = clip(text(found), REPORTER_LIMITS.get(field))
                    break
        return ReporterIn(**values) if values else None

    def flag(self, raw: dict, field: str) -> bool:
        value = self.value(raw, field)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in TRUE_WORDS

    def parse(self, raw: dict) -> ComplaintIn:
        if not isinstance(raw, dict):
            raise RecordError(f"the item is a JSON {type(raw).__name__}, not an object")
        source_id = self.source_id_of(raw)
        if source_id is None:
            raise RecordError(f"{self.primary_key} is empty")
        if len(source_id) > LIMITS["source_id"]:
            raise RecordError(f"{self.primary_key} is longer than {LIMITS['source_id']} characters")
        received_at = self.moment(raw, "received_at")
        if received_at is None:
            raise RecordError(f"{self.spec('received_at')[0]} is empty")
        updated_at = self.moment(raw, "updated_at")
        if updated_at is not None and updated_at > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
            # Would move the cursor past every later change: refuse it.
            raise RecordError(f"{self.spec('updated_at')[0]} {updated_at:%Y-%m-%d %H:%M} UTC is in the future")
        status, status_raw = self.status(raw)
        kind = self.kind(raw)
        category, category_raw = self.category(raw)
        body = self.text(raw, "body")
        agency_raw = self.text(raw, "agency")
        lat, lon = self.coordinates(raw)
        times = {name: self.moment(raw, name, status) for name in ("first_response_at", "resolved_at", "closed_at")}
        if status not in RESOLVED:
            times["resolved_at"] = None
        if status not in TERMINAL:
            times["closed_at"] = None
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=kind,
            source_type=self.text(raw, "source_type"),
            classification=self.text(raw, "classification"),
            category=category,
            category_raw=category_raw,
            title=self.text(raw, "title"),
            body=body,
            status=status,
            status_raw=status_raw,
            lat=lat,
            lon=lon,
            agency_code=self.resolver.agency(agency_raw) if agency_raw else None,  # None: not routed yet
            agency_raw=agency_raw,
            source_detail=self.text(raw, "source_detail"),
            is_anonymous=self.flag(raw, "anonymous"),
            is_confidential=self.flag(raw, "confidential"),
            reporter=self.reporter(raw),
            **self.place(raw, body),
            **times,
        )
        return ComplaintIn.model_validate(self.with_sla(fields))
