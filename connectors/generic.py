"""Any other channel (Kantorku, an SMS/WhatsApp gateway, the e-mail desk, a regional app's JSON dump), defined
entirely by a mapping file: no Python per channel.

The region's channels.toml names the mapping:

    [kantorku]
    mapping = "mappings/kantorku.toml"   # relative to the region folder, or a name in connectors/mappings/

The mapping's keys are documented at the top of connectors/mappings/kantorku.toml. Files may be xlsx, CSV (any
encoding or delimiter, header anywhere in the first rows), a JSON list of objects (or an object holding the list
under a configurable key) or JSON Lines; nested JSON keys are flattened with dots ("location.district").

The helpers here (time zone setting, place resolution, value clipping) are shared by the built-in mapping-driven
connectors (call112, social).
"""
from __future__ import annotations

import json
import logging
import math
import tomllib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.base import RecordError, SourceError
from connectors.files import check_size, header_key
from connectors.tabular import MAPPINGS_DIR, TabularConnector
from connectors.values import combine_local, is_blank, parse_datetime, parse_float
from models import ComplaintIn
from models.base import Kind, Status
from models.inputs import ReporterIn, _clean_coordinates
from regions import Region, load_region
from regions.normalise import Resolver

log = logging.getLogger(__name__)

CONNECTORS_DIR = Path(__file__).resolve().parent
JSON_SUFFIXES = {".json", ".geojson"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}
# Top-level mapping keys: written after a [table] header, TOML puts them inside that table.
TOP_LEVEL_KEYS = ("required", "timezone", "records", "preamble", "prefer_coordinates", "agency_from_category")
TABLES = ("columns", "status", "kind", "call_type")
TRUE_WORDS = {"1", "true", "t", "yes", "y", "ya", "iya", "x", "v", "anonim", "anonymous", "rahasia", "confidential"}
FALSE_WORDS = {"", "0", "false", "f", "no", "n", "tidak", "bukan", "-"}
# Column limits of ComplaintBase: longer source text is cut rather than quarantining the whole record.
LIMITS = {"source_type": 80, "classification": 80, "category_raw": 200, "status_raw": 120, "district_raw": 120,
          "subdistrict": 120, "agency_raw": 200, "source_detail": 120}


# --- shared helpers -----------------------------------------------------------------------------


def clip(value: str | None, field: str) -> str | None:
    """Source text cut to the column's length (with an ellipsis), so an over-long cell never loses a record."""
    limit = LIMITS.get(field)
    if value is None or limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def mapping_timezone(mapping: dict, region: Region, default: str = "region") -> ZoneInfo | timezone:
    """The zone for source times without an offset: `timezone = "region"` means the region's own zone."""
    name = str(mapping.get("timezone") or default).strip()
    if name.lower() in ("region", "local"):
        return region.timezone
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd keys
        raise SourceError(f"mapping: unknown timezone {name!r} (use \"region\" or an IANA name such as "
                          f"\"Asia/Jakarta\")") from None


def moment(value, tz, field: str) -> datetime | None:
    """A source time as UTC, or None when blank. Large JSON numbers are Unix epoch seconds (or milliseconds)."""
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1e8:
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise RecordError(f"{field} {value!r} is not a date and time") from None
    return parse_datetime(value, tz, field)


def truthy(value) -> bool:
    """'ya', 'Y', 1, True, 'Anonim' -> True; '', 'tidak', 0, None -> False."""
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    word = str(value).strip().lower()
    if word in FALSE_WORDS:
        return False
    return word in TRUE_WORDS or word.startswith(("ya", "yes", "true"))


def clean_coordinates(lat, lon) -> tuple[float | None, float | None]:
    """The same cleaning ComplaintIn applies (0/0 is 'no GPS', swapped pairs are swapped back), done before the
    district lookup so that the lookup sees the point that will be stored."""
    return _clean_coordinates(parse_float(lat), parse_float(lon))


class Places:
    """District and sub-district from a source's place names and GPS point, with the region's boundaries.

    The point lookup (a DistrictLocator over the region's boundary file, or over the approximate Voronoi layer
    when no file is configured) is built once, on first use. Everything after the point lookup depends only on
    (named district, point's district, sub-district text), which repeat across a file: it is memoised.
    """

    MEMO_LIMIT = 100_000  # entries; a file with more distinct place combinations just stops adding

    def __init__(self, region: Region, resolver: Resolver):
        self.region = region
        self.resolver = resolver
        self._locator = None
        self._tried = False
        self._memo: dict[tuple, tuple[str | None, str | None]] = {}

    @property
    def locator(self):
        if not self._tried:
            self._tried = True
            self._locator = _build_locator(self.region)
        return self._locator

    def district_at(self, lat, lon) -> str | None:
        if lat is None or lon is None or self.locator is None:
            return None
        return self.locator.district_at(lat, lon)

    def resolve(self, district_raw: str | None, subdistrict_raw: str | None = None, lat=None, lon=None, *,
                prefer_point: bool = False, text_hint: str | None = None) -> tuple[str | None, str | None]:
        """(district code, sub-district name).

        The named district wins unless it is missing or unknown; with `prefer_point` a GPS point inside another
        district wins too (112 operators type the kecamatan; the caller's phone position is measured).
        Without either, an unambiguous sub-district name, then a 'kecamatan X' mention in `text_hint`.
        """
        named = self.resolver.district(district_raw) if district_raw else None
        point = None
        if lat is not None and lon is not None and (named is None or prefer_point):
            point = self.district_at(lat, lon)
        if text_hint:  # free text is rarely repeated: not worth a memo entry
            return self._resolve(named, point, subdistrict_raw, text_hint)
        key = (named, point, subdistrict_raw)
        found = self._memo.get(key)
        if found is None:
            found = self._resolve(named, point, subdistrict_raw, None)
            if len(self._memo) < self.MEMO_LIMIT:
                self._memo[key] = found
        return found

    def _resolve(self, named: str | None, point: str | None, subdistrict_raw: str | None,
                 text_hint: str | None) -> tuple[str | None, str | None]:
        code = point if point is not None else named
        if code is None and subdistrict_raw:
            code = self.resolver.subdistrict(subdistrict_raw, None)[1]
        if code is None and text_hint:
            code = self.resolver.district_from_text(text_hint)
        subdistrict = None
        if subdistrict_raw:
            for scope in dict.fromkeys((code, named)):
                if scope is not None:
                    subdistrict = self.resolver.subdistrict(subdistrict_raw, scope)[0]
                    if subdistrict:
                        break
            subdistrict = subdistrict or clip(subdistrict_raw.title(), "subdistrict")
        return code, subdistrict


def _build_locator(region: Region):
    from regions.geo import DistrictLocator, approximate_boundaries, load_boundaries

    path = region.boundary_path()
    if path is not None:
        settings = region.boundaries or {}
        try:
            return DistrictLocator(load_boundaries(path, settings.get("crs") or "EPSG:4326",
                                                   settings.get("name_property"), region.districts))
        except (ValueError, OSError) as exc:
            log.warning("%s: district boundaries unusable (%s); using the approximate layer", region.name, exc)
    try:
        return DistrictLocator(approximate_boundaries(region.districts))
    except ValueError as exc:
        log.warning("%s: no district layer for GPS lookups (%s)", region.name, exc)
        return None


def check_mapping_file(path: Path) -> None:
    """Catch the mapping mistakes the loader would turn into silent nonsense, with a line a person can act on."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"mapping file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"mapping file {path}: {exc}") from exc
    for table in TABLES:
        value = raw.get(table, {})
        if not isinstance(value, dict):
            hint = ' (for a fixed value write [kind] default = "...")' if table == "kind" else ""
            raise SourceError(f"mapping file {path.name}: {table} must be a [{table}] table{hint}")
        for key in TOP_LEVEL_KEYS:
            if key in value:
                raise SourceError(f"mapping file {path.name}: {key!r} is inside [{table}]; top-level keys must come "
                                  f"before the first [table] header")
    for field, names in raw.get("columns", {}).items():
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise SourceError(f"mapping file {path.name}: [columns] {field} must be a list of column names, "
                              f"e.g. {field} = [\"{names if isinstance(names, str) else field}\"]")
    for value in raw.get("kind", {}).values():
        if value not in Kind._value2member_map_:
            raise SourceError(f"mapping file {path.name}: [kind] value {value!r} is not one of "
                              f"{', '.join(k.value for k in Kind)}")
    for value in raw.get("status", {}).values():
        if value not in Status._value2member_map_:
            raise SourceError(f"mapping file {path.name}: [status] value {value!r} is not one of "
                              f"{', '.join(s.value for s in Status)}")


def mapping_path(value: str, region: Region) -> Path:
    """A channels.toml `mapping`: a bare name in connectors/mappings/, else a path relative to the region folder
    (then to connectors/, then a file of that name in connectors/mappings/)."""
    given = Path(value)
    if not given.suffix and len(given.parts) == 1:
        return MAPPINGS_DIR / f"{value}.toml"
    if given.is_absolute():
        return given
    for candidate in (region.path / given, CONNECTORS_DIR / given, MAPPINGS_DIR / given.name):
        if candidate.is_file():
            return candidate.resolve()
    return (region.path / given).resolve()  # does not exist: the loader says so, with this path


def mapping_settings(region: Region, channel: str, settings: dict | None, default: str) -> dict:
    """`settings` with the channel's mapping resolved to a checked file path (see mapping_path)."""
    merged = {**region.channel_settings(channel), **(settings or {})}
    if not (merged.get("mapping") or default):
        raise SourceError(f"channel {channel!r} has no mapping: add mapping = \"...\" to its [{channel}] table in "
                          f"channels.toml")
    path = mapping_path(str(merged.get("mapping") or default), region)
    check_mapping_file(path)
    return {**(settings or {}), "mapping": str(path)}


# --- JSON and JSON Lines ------------------------------------------------------------------------


def flatten(record: dict, prefix: str = "", out: dict | None = None) -> dict:
    """{'location': {'district': 'X'}} -> {'location_district': 'X'} (keys as header_key('location.district'))."""
    out = {} if out is None else out
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flatten(value, name, out)
        elif isinstance(value, list):
            scalar = all(not isinstance(v, (dict, list)) for v in value)
            out.setdefault(header_key(name), ", ".join("" if v is None else str(v) for v in value) if scalar
                           else json.dumps(value, ensure_ascii=False))
        else:
            out.setdefault(header_key(name), None if value == {} else value)
    return out


def _find_records(doc, key: str | None, name: str) -> list:
    if key:
        node = doc
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise SourceError(f"{name}: no {key!r} in this JSON document (set `records` in the mapping)")
            node = node[part]
        if not isinstance(node, list):
            raise SourceError(f"{name}: {key!r} is not a list of records")
        return node
    if isinstance(doc, list):
        return doc
    # No key configured: the first list of objects found, shallowest first ({"data": [...]}, {"result": {...}}).
    queue = [doc]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            for value in node.values():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    return value
                if isinstance(value, dict):
                    queue.append(value)
    if isinstance(doc, dict) and any(isinstance(v, list) for v in doc.values()):
        return []  # an empty page: {"data": [], "next_page": null}
    raise SourceError(f"{name}: no list of records in this JSON document (set `records` in the mapping)")


def read_json_records(path: Path, records_key: str | None = None) -> Iterator[dict]:
    """Flattened records of a JSON document or a JSON Lines file; unusable items become `_invalid` rows that
    parse() quarantines, so one bad line never hides the rest."""
    if path.is_symlink():
        raise SourceError(f"{path.name}: symbolic links are not imported")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    check_size(path)
    data = path.read_bytes()
    if not data.strip():
        raise SourceError(f"{path.name}: the file is empty")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{path.name}: JSON must be UTF-8") from None
    lines = path.suffix.lower() in JSONL_SUFFIXES
    if not lines:
        try:
            doc = json.loads(content)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise SourceError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
            lines = True  # several documents one after another: JSON Lines without the suffix
    if lines:
        return _json_lines(content)
    return (flatten(item) if isinstance(item, dict) else {"_invalid": f"item {i} is not an object: {item!r:.80}"}
            for i, item in enumerate(_find_records(doc, records_key, path.name), start=1))


def _json_lines(content: str) -> Iterator[dict]:
    for line_no, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield {"_invalid": f"line {line_no} is not valid JSON ({exc.msg})", "_line": line[:2000]}
            continue
        yield flatten(item) if isinstance(item, dict) else {"_invalid": f"line {line_no} is not an object"}


def is_json_file(path: Path) -> bool:
    if path.suffix.lower() in JSON_SUFFIXES | JSONL_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


# --- the connector ------------------------------------------------------------------------------


class GenericConnector(TabularConnector):
    """A channel defined only by its mapping file (see connectors/mappings/kantorku.toml for the keys)."""

    primary_key = "source_id"
    mapping_name = ""  # none: the channel's [table] in channels.toml must name one

    def __init__(self, source: str | Path | None = None, *, channel: str | None = None, region: Region | None = None,
                 settings: dict | None = None, **kwargs):
        region = region or load_region()
        name = channel or getattr(self, "name", None)
        if not name:
            raise SourceError("a generic connector needs a channel name")
        super().__init__(source=source, channel=name, region=region,
                         settings=mapping_settings(region, name, settings, self.mapping_name), **kwargs)
        path = Path(self.settings["mapping"])
        self.mapping.setdefault("required", ["source_id", "received_at" if "received_at" in self.mapping["columns"]
                                             else "date"])
        for field in self.mapping["required"]:
            if field not in self.mapping["columns"]:
                raise SourceError(f"mapping file {path.name}: required field {field!r} has no [columns] entry")
        self.zone = mapping_timezone(self.mapping, self.region)
        self.places = Places(self.region, self.resolver)

    # reading

    def fetch(self, since: str | None = None) -> Iterator[dict]:
        if self.source is None:
            raise SourceError(f"{self.name}: no file given")
        if not is_json_file(self.source):
            yield from super().fetch(since)
            return
        records = list(read_json_records(self.source, self.mapping.get("records")))
        present = set().union(*records) if records else set()
        if records:
            missing = [f for f in self.mapping["required"] if not present & set(self.mapping["columns"][f])]
            if missing:
                wanted = "; ".join(f"{f} ({' / '.join(self.mapping['columns'][f])})" for f in missing)
                raise SourceError(f"{self.source.name}: no record has the expected field(s) {wanted}; "
                                  f"is this the right kind of file?")
        self._columns = self._resolve_columns(sorted(present))
        self.on_open()
        for number, record in enumerate(records, start=1):
            record["_row"] = number
            yield record

    # parsing

    def label(self, field: str) -> str:
        """The source's own name for a field, for quarantine reasons."""
        return self._columns.get(field) or (self.mapping["columns"].get(field) or [field])[0]

    def moment(self, raw: dict, field: str) -> datetime | None:
        return moment(self.value(raw, field), self.zone, self.label(field))

    def received_at(self, raw: dict) -> datetime:
        if "received_at" in self.mapping["columns"] and self.value(raw, "received_at") is not None:
            return self.moment(raw, "received_at")
        day, clock = self.value(raw, "date"), self.value(raw, "time")
        if day is None:
            raise RecordError(f"{self.label('received_at' if 'received_at' in self.mapping['columns'] else 'date')}"
                              f" is empty")
        if clock is None:
            return parse_datetime(day, self.zone, self.label("date"))
        return combine_local(day, clock, self.zone, self.label("date"))

    def unified_status(self, raw_status: str | None) -> str:
        if raw_status is None:
            default = self.mapping["status"].get("default")
            if default is None:
                raise RecordError(f"{self.label('status')} is empty")
            return default
        return self.status(raw_status)

    def reporter(self, raw: dict) -> ReporterIn | None:
        reporter = ReporterIn(**{f: self.text(raw, f"reporter_{f}") for f in ("name", "nik", "phone", "email",
                                                                              "address")})
        return None if reporter.is_empty() else reporter

    def parse(self, raw: dict) -> ComplaintIn:
        if "_invalid" in raw:
            raise RecordError(raw["_invalid"])
        source_id = self.text(raw, "source_id")
        if source_id is None:
            raise RecordError(f"{self.label('source_id')} is empty")
        received_at = self.received_at(raw)
        kind_raw = self.text(raw, "kind")
        kind = self.kind(kind_raw)
        category_raw = self.text(raw, "category")
        category, category_agency = self.resolver.category(self.name, category_raw)
        agency_raw = self.text(raw, "agency")
        if agency_raw:
            agency_code = self.resolver.agency(agency_raw)
        elif "agency" in self.mapping["columns"] and not self.mapping.get("agency_from_category", False):
            agency_code = None  # the source says who handles it, and nobody does yet
        else:
            agency_code = category_agency
        body = self.text(raw, "body")
        lat, lon = self.value(raw, "lat"), self.value(raw, "lon")
        if lat is None and (pair := self.text(raw, "coordinates")):
            lat, _, lon = pair.partition(",")
        lat, lon = clean_coordinates(lat, lon)
        district_raw = self.text(raw, "district")
        subdistrict_raw = self.text(raw, "subdistrict")
        district_code, subdistrict = self.places.resolve(
            district_raw, subdistrict_raw, lat, lon, prefer_point=bool(self.mapping.get("prefer_coordinates")),
            text_hint=body)
        status_raw = self.text(raw, "status")
        status = self.unified_status(status_raw)
        first_response_at = self.moment(raw, "first_response_at")
        closed_at = self.moment(raw, "closed_at")
        resolved_at = self.moment(raw, "resolved_at")
        if resolved_at is None and status == Status.resolved.value:
            resolved_at = closed_at
        words = {w.strip().lower() for w in (self.text(raw, "flags") or "").replace(",", "|").split("|")}
        classification = self.text(raw, "classification")
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=kind,
            source_type=clip(kind_raw, "source_type"),
            classification=clip(classification, "classification"),
            category=category,
            category_raw=clip(category_raw, "category_raw"),
            title=self.text(raw, "title"),
            body=body,
            status=status,
            status_raw=clip(status_raw, "status_raw"),
            district_code=district_code,
            district_raw=clip(district_raw, "district_raw"),
            subdistrict=subdistrict,
            lat=lat,
            lon=lon,
            agency_code=agency_code,
            agency_raw=clip(agency_raw, "agency_raw"),
            source_detail=clip(self.text(raw, "source_detail"), "source_detail"),
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            closed_at=closed_at,
            is_anonymous=truthy(self.value(raw, "anonymous")) or bool(words & {"anonim", "anonymous"}),
            is_confidential=truthy(self.value(raw, "confidential")) or bool(words & {"rahasia", "confidential"}),
            reporter=self.reporter(raw),
        )
        return ComplaintIn.model_validate(self.with_sla(fields))
