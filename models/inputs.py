"""Input models: what a connector must produce before anything touches the database."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from models.base import Kind, Status
from models.tables import ComplaintBase

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)
MAX_BODY = 100_000
MAX_TITLE = 500


class ReporterIn(SQLModel):
    name: str | None = Field(default=None, max_length=200)
    nik: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)

    def is_empty(self) -> bool:
        return not any((self.name, self.nik, self.phone, self.email, self.address))


def _clean_coordinates(lat, lon) -> tuple[float | None, float | None]:
    """0/0 means 'no GPS'; swapped pairs are swapped back; anything else impossible is dropped."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if math.isnan(lat) or math.isnan(lon) or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
        return None, None
    if abs(lat) > 90 and abs(lon) <= 90:
        lat, lon = lon, lat
    if abs(lat) > 90 or abs(lon) > 180:
        return None, None
    return lat, lon


class ComplaintIn(ComplaintBase):
    """A validated complaint. Every connector's `parse` returns one of these or raises."""

    reporter: ReporterIn | None = None

    @field_validator("channel", "source_id", mode="before")
    @classmethod
    def _required_text(cls, value):
        text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError("is empty")
        return text

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        Kind(value)
        return value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        Status(value)
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _short_title(cls, value):
        if value is None:
            return None
        value = str(value).strip()
        return value[: MAX_TITLE - 1] + "…" if len(value) > MAX_TITLE else value or None

    @field_validator("body", mode="before")
    @classmethod
    def _bounded_body(cls, value):
        if value is None:
            return None
        value = str(value).strip()
        return value[:MAX_BODY] or None

    @field_validator(
        "received_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolve_due_at"
    )
    @classmethod
    def _zone_aware(cls, value: datetime | None):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("has no time zone")
        value = value.astimezone(timezone.utc)
        if value < EARLIEST:
            raise ValueError(f"is before {EARLIEST:%Y-%m-%d} ({value:%Y-%m-%d})")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.received_at > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
            raise ValueError(f"received_at {self.received_at:%Y-%m-%d %H:%M} UTC is in the future")
        for name in ("first_response_at", "resolved_at", "closed_at"):
            moment = getattr(self, name)
            if moment is not None and moment < self.received_at - CLOCK_SKEW:
                raise ValueError(f"{name} is before received_at")
        self.lat, self.lon = _clean_coordinates(self.lat, self.lon)
        if self.reporter is not None and self.reporter.is_empty():
            self.reporter = None
        return self

    @classmethod
    def validated(cls, fields: dict) -> "ComplaintIn":
        """`model_validate(fields)`, the same object, faster when every value already has its validated shape.

        The shape (see _compile_check below) is checked in plain Python, once per key set compiled into one
        function; then the object is built as model_validate builds it (same values, field order, fields_set).
        Anything else, including every value validation would change or refuse, goes through model_validate
        itself, so errors and coercions stay pydantic's own.
        """
        if _RULES is None or cls is not ComplaintIn:
            return cls.model_validate(fields)
        names = tuple(fields)
        check = _CHECKS.get(names)
        if check is None:
            rules, _, required, nullable = _RULES
            check = _compile_check(names, rules, required, nullable)
            if len(_CHECKS) < 256:  # connectors build a handful of key sets
                _CHECKS[names] = check
        if not check(fields):
            return cls.model_validate(fields)
        values = _RULES[1].copy()  # the defaults, in field order
        values.update(fields)
        if values["lat"] is not None or values["lon"] is not None:  # (None, None) stays as it is
            values["lat"], values["lon"] = _clean_coordinates(values["lat"], values["lon"])  # as _consistent does
        record = cls.__new__(cls)  # SQLModel.__new__: empty fields_set, no extra, no private attributes
        object.__setattr__(record, "__dict__", values)
        fields_set = set(fields)
        fields_set.update(_LAT_LON)  # _consistent assigns both, which marks them as set
        object.__setattr__(record, "__pydantic_fields_set__", fields_set)
        return record


# --- validation without pydantic's per-field calls, for values already in their validated shape --------------
#
# A file import validates hundreds of thousands of records whose values a connector has already built in the
# exact shape validation returns (stripped text within its length, aware UTC datetimes, cleaned coordinates):
# ComplaintIn.validated skips pydantic's per-field calls for those (about half the cost of model_validate).

_TEXT, _STRIPPED, _KIND, _STATUS, _MOMENT, _FLOAT, _BOOL, _NONE_ONLY = range(8)
# Field validators the shapes below account for; another one (or another model validator) disables the shortcut.
_KNOWN_VALIDATORS = ({"_required_text", "_known_kind", "_known_status", "_short_title", "_bounded_body",
                      "_zone_aware"}, {"_consistent"})
_KINDS = frozenset(k.value for k in Kind)
_STATUSES = frozenset(s.value for s in Status)
_LAT_LON = ("lat", "lon")


def _shortcut_rules(model) -> tuple[dict, dict, frozenset, frozenset] | None:
    """field -> (shape, max length), the defaults in field order, the required and the nullable fields; None
    when the model has anything the shapes do not cover."""
    decorators = model.__pydantic_decorators__
    if (set(decorators.field_validators), set(decorators.model_validators)) != _KNOWN_VALIDATORS or any(
            (decorators.validators, decorators.root_validators, decorators.field_serializers,
             decorators.model_serializers, decorators.computed_fields)):
        return None
    if {k: v for k, v in model.model_config.items() if k != "registry"} != {"from_attributes": True}:
        return None
    special = {"channel": _STRIPPED, "source_id": _STRIPPED, "title": _STRIPPED, "body": _STRIPPED,
               "kind": _KIND, "status": _STATUS}
    by_annotation = {str: _TEXT, str | None: _TEXT, datetime: _MOMENT, datetime | None: _MOMENT,
                     float | None: _FLOAT, bool: _BOOL, ReporterIn | None: _NONE_ONLY}
    rules, defaults, required, nullable = {}, {}, set(), set()
    for name, info in model.model_fields.items():
        shape = by_annotation.get(info.annotation)
        limits = [m.max_length for m in info.metadata if type(m).__name__ == "MaxLen"]
        others = [m for m in info.metadata if type(m).__name__ not in ("MaxLen", "FieldInfoMetadata")]
        if shape is None or others or info.default_factory is not None or info.alias or info.validation_alias:
            return None
        limit = limits[0] if limits else None
        if name == "title":
            limit = MAX_TITLE if limit is None else min(limit, MAX_TITLE)
        elif name == "body":
            limit = MAX_BODY if limit is None else min(limit, MAX_BODY)
        rules[name] = (special.get(name, shape), limit)
        if type(None) in getattr(info.annotation, "__args__", ()):
            nullable.add(name)
        if info.is_required():
            required.add(name)
            defaults[name] = None
        else:
            defaults[name] = info.default
    return rules, defaults, frozenset(required), frozenset(nullable)


def _utf8(value: str) -> bool:
    """Can pydantic read this str (no lone surrogate, which it refuses)?"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _value_test(name: str, shape: int, limit: int | None, nullable: bool) -> str:
    """A Python expression, true when validation leaves field `name` (the local `v`) as it is."""
    length = f" and len(v) <= {limit}" if limit is not None else ""
    text = f"v.__class__ is str{length} and (v.isascii() or _utf8(v))"
    test = {
        _TEXT: text,
        _STRIPPED: f"{text} and v != '' and len(v.strip()) == len(v)",  # the before-validators strip
        _KIND: f"{text} and v in _KINDS",
        _STATUS: f"{text} and v in _STATUSES",
        _MOMENT: "v.__class__ is datetime and v.tzinfo is _UTC and v >= EARLIEST",
        _FLOAT: "v.__class__ is float",
        _BOOL: "v.__class__ is bool",
        _NONE_ONLY: "False",  # a reporter is validated by pydantic
    }[shape]
    return f"v is None or ({test})" if nullable else f"v is not None and {test}"


def _compile_check(names: tuple, rules: dict, required: frozenset, nullable: frozenset):
    """A function(fields) -> bool for dicts with exactly these keys: does validation leave every value as it is
    (and raise nothing)? Generated once per key set, so that a check costs no loop and no lookups."""
    if any(name not in rules for name in names) or not required <= set(names):
        return lambda fields: False  # unknown keys or a missing required field: pydantic decides
    lines = ["def check(f):"]
    for name in names:
        shape, limit = rules[name]
        lines += [f"    v = f[{name!r}]", f"    if not ({_value_test(name, shape, limit, name in nullable)}):",
                  "        return False"]
    # ComplaintIn._consistent
    lines += ["    received = f['received_at']",
              "    if received > _now(_UTC) + FUTURE_TOLERANCE:", "        return False",
              "    earliest = received - CLOCK_SKEW"]
    for name in ("first_response_at", "resolved_at", "closed_at"):
        if name in names:
            lines += [f"    v = f[{name!r}]", "    if v is not None and v < earliest:", "        return False"]
    lines.append("    return True")
    scope = {"_utf8": _utf8, "_KINDS": _KINDS, "_STATUSES": _STATUSES, "datetime": datetime, "_UTC": timezone.utc,
             "EARLIEST": EARLIEST, "FUTURE_TOLERANCE": FUTURE_TOLERANCE, "CLOCK_SKEW": CLOCK_SKEW,
             "_now": datetime.now}
    check_source = "\n".join(lines)
    exec(check_source, scope)  # noqa: S102 - our own text, from the model's field table
    return scope["check"]


_RULES = _shortcut_rules(ComplaintIn)
_CHECKS: dict[tuple, object] = {}
