"""Command Center 112 incident logs: the monthly/yearly export as xlsx or CSV.

Every call is stored, emergencies as `emergency_call` and the rest (information, prank, ghost, silent call ...)
as `non_emergency_call`, so they are counted but never mixed into complaint statistics.

A yearly export holds hundreds of thousands of calls in which the call types, categories, place names and
operator codes repeat: `parse` memoises what is derived from those cells (per raw cell value) and reads each
field from the columns this file actually has. `parse_reference` is the same parse without any of that, kept
for the tests that prove both give the same records.
"""
from __future__ import annotations

from operator import itemgetter

from connectors.base import RecordError, SourceError
from connectors.files import header_key
from connectors.generic import Places, clean_coordinates, clip, mapping_settings, mapping_timezone
from connectors.tabular import TabularConnector
from connectors.values import is_blank, parse_datetime, parse_duration, text
from models import ComplaintIn
from models.base import Kind, Status
from regions import load_region


class Call112Connector(TabularConnector):
    name = "call112"
    primary_key = "source_id"
    mapping_name = "call112"
    MEMO_LIMIT = 50_000  # entries per memo: a file with more distinct values just stops adding

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
        self.prefer_point = bool(self.mapping.get("prefer_coordinates", True))
        # Candidate columns per field; once a file is open, only those its header has (the rows hold no others).
        self._cells = {f: tuple(names) for f, names in self.mapping["columns"].items()}
        self._reader = None  # set per file (see _resolve_columns)
        self._kinds: dict = {}  # TIPE LAPORAN cell -> (text, kind)
        self._categories: dict = {}  # (KATEGORI cell, SUB KATEGORI cell) -> (category, agency, category_raw, title)
        self._texts: dict = {}  # place and operator cells -> text()
        self._durations: dict = {}  # DURASI PENGERJAAN cell -> timedelta or None

    def _resolve_columns(self, header: list[str]) -> dict[str, str]:
        present = set(header)
        # (a mapping may name one column twice: "WAKTU LAPOR" and "waktu_lapor" are one header key)
        self._cells = {f: tuple(dict.fromkeys(n for n in names if n in present))
                       for f, names in self.mapping["columns"].items()}
        self._reader = _row_reader([self._cells.get(f, ()) for f in _FIELDS])
        return super()._resolve_columns(header)

    def call_kind(self, call_type: str | None) -> str:
        if call_type is None:
            raise RecordError("TIPE LAPORAN is empty")
        kind = self.call_types.get(header_key(call_type))
        if kind is None:
            raise RecordError(f"unknown call type {call_type!r}: add it to the [call_type] table of the "
                              f"{self.name} mapping")
        return kind

    # the fast path

    def _cell(self, raw: dict, field: str):
        """self.value(raw, field): the first filled candidate column."""
        for name in self._cells.get(field, ()):
            value = raw.get(name)
            if value is not None and (value.strip() if value.__class__ is str else not is_blank(value)):
                return value
        return None

    def _cells_of(self, raw: dict) -> tuple:
        """The row's cells in _FIELDS order. Blank cells may come back as they are instead of None: every use
        below treats them as None does (text(), parse_datetime, parse_duration and parse_float all do)."""
        if self._reader is not None:
            try:
                return self._reader(raw)
            except KeyError:  # a short row: fewer cells than the header
                pass
        cell = self._cell
        return tuple(cell(raw, f) for f in _FIELDS)

    def _text(self, value) -> str | None:
        """text(value), memoised for the text cells that repeat (place names, operator codes)."""
        if value.__class__ is not str:
            return text(value)
        found = self._texts.get(value, _MISSING)
        if found is _MISSING:
            found = text(value)
            if len(self._texts) < self.MEMO_LIMIT:
                self._texts[value] = found
        return found

    def _kind_of(self, cell) -> tuple[str | None, str]:
        """(TIPE LAPORAN as text, kind); an empty or unknown type raises (and is never memoised)."""
        if cell.__class__ is str and cell in self._kinds:
            return self._kinds[cell]
        call_type = text(cell)
        found = (call_type, self.call_kind(call_type))
        if cell.__class__ is str and len(self._kinds) < self.MEMO_LIMIT:
            self._kinds[cell] = found
        return found

    def _duration_of(self, cell):
        """parse_duration of DURASI PENGERJAAN, memoised for text cells (short calls repeat their lengths)."""
        if cell.__class__ is not str:
            return parse_duration(cell, "DURASI PENGERJAAN")
        found = self._durations.get(cell, _MISSING)
        if found is _MISSING:
            found = parse_duration(cell, "DURASI PENGERJAAN")  # raises for a broken cell: never memoised
            if len(self._durations) < self.MEMO_LIMIT:
                self._durations[cell] = found
        return found

    def _category_of(self, category_cell, subcategory_cell) -> tuple:
        """(category, agency code, category_raw, title) from KATEGORI and SUB KATEGORI 1."""
        key = (category_cell, subcategory_cell)
        memo = all(c is None or c.__class__ is str for c in key)
        if memo and key in self._categories:
            return self._categories[key]
        category_text, subcategory = text(category_cell), text(subcategory_cell)
        category, agency_code = self.resolver.category(self.name, category_text)
        if category is None and subcategory:
            category, agency_code = self.resolver.category(self.name, subcategory)
        found = (category, agency_code, clip(category_text or subcategory, "category_raw"),
                 subcategory or category_text)
        if memo and len(self._categories) < self.MEMO_LIMIT:
            self._categories[key] = found
        return found

    def parse(self, raw: dict) -> ComplaintIn:
        uid, when, call_cell, category_cell, subcategory_cell, district_cell, subdistrict_cell, lat, lon, agent, \
            duration = self._cells_of(raw)
        source_id = text(uid)
        if source_id is None:
            raise RecordError("UID is empty")
        received_at = parse_datetime(when, self.zone, "WAKTU LAPOR")
        call_type, kind = self._kind_of(call_cell)
        category, agency_code, category_raw, title = self._category_of(category_cell, subcategory_cell)
        if (lat is None or lat == "") and (lon is None or lon == ""):
            lat = lon = None  # no GPS (most non-emergency calls): what clean_coordinates gives
        else:
            lat, lon = clean_coordinates(lat, lon)
        district_raw = self._text(district_cell)
        district_code, subdistrict = self.places.resolve(
            district_raw, self._text(subdistrict_cell), lat, lon, prefer_point=self.prefer_point)

        duration = self._duration_of(duration)
        finished = received_at + duration if duration is not None else None
        if kind == _EMERGENCY:
            status = _RESOLVED if finished is not None else _IN_PROGRESS
        else:
            status = _CLOSED  # the call itself is the whole case; its length is the duration
        fields = dict(
            channel=self.name,
            source_id=source_id,
            received_at=received_at,
            kind=kind,
            source_type=clip(call_type, "source_type"),
            category=category,
            category_raw=category_raw,
            title=title,
            status=status,
            district_code=district_code,
            district_raw=clip(district_raw, "district_raw"),
            subdistrict=subdistrict,
            lat=lat,
            lon=lon,
            agency_code=agency_code,
            # AGENT L1 is an operator code: kept only as the source detail, never in text shown to users.
            source_detail=clip(self._text(agent), "source_detail"),
            first_response_at=received_at,  # a logged call was answered when it was logged
            resolved_at=finished,
            closed_at=finished,
        )
        return ComplaintIn.validated(self.with_sla(fields))  # model_validate, without re-checking built values

    # the reference

    def parse_reference(self, raw: dict) -> ComplaintIn:
        """parse() without memos or column shortcuts: what the tests compare the fast path with."""
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
            source_detail=clip(self.text(raw, "agent"), "source_detail"),
            first_response_at=received_at,
            resolved_at=finished,
            closed_at=finished,
        )
        return ComplaintIn.model_validate(self.with_sla(fields))


_FIELDS = ("source_id", "received_at", "call_type", "category", "subcategory", "district", "subdistrict", "lat",
           "lon", "agent", "duration")
_MISSING = object()
_EMERGENCY = Kind.emergency_call.value
_RESOLVED, _IN_PROGRESS, _CLOSED = Status.resolved.value, Status.in_progress.value, Status.closed.value


def _row_reader(columns: list[tuple[str, ...]]):
    """A function giving a row's cells per field (None for a field without a column), or None when some field
    has several candidate columns in this file (then the first filled one counts: see Call112Connector._cell)."""
    if any(len(names) > 1 for names in columns):
        return None
    names = [names[0] if names else None for names in columns]
    present = [name for name in names if name is not None]
    if len(present) == len(names):
        return itemgetter(*names)
    if not present:
        return lambda raw: (None,) * len(names)
    slots = [i for i, name in enumerate(names) if name is not None]
    get = itemgetter(*present) if len(present) > 1 else (lambda raw: (raw[present[0]],))

    def read(raw: dict) -> tuple:
        cells = [None] * len(names)
        for slot, value in zip(slots, get(raw)):
            cells[slot] = value
        return tuple(cells)

    return read
