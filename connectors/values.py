"""Parsing of the cell values sources send: dates in many spellings, Excel serials, durations, flags."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from connectors.base import RecordError

_MONTHS = {
    # English and Indonesian month names and abbreviations, as exports and people write them
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2, "pebruari": 2,
    "mar": 3, "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "agt": 8, "ags": 8,
    "agustus": 8, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oct": 10,
    "oktober": 10, "october": 10, "nov": 11, "nop": 11, "november": 11, "nopember": 11,
    "des": 12, "dec": 12, "desember": 12, "december": 12,
}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[\s\-/.]+([A-Za-z]+)[\s\-/.,]+(\d{4})$")
_NUMERIC_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_DURATION = re.compile(
    r"(?:(\d+)\s*Hari)?\s*:?\s*(?:(\d+)\s*Jam)?\s*:?\s*(?:(\d+)\s*Menit)?\s*:?\s*(?:(\d+)\s*Detik)?", re.IGNORECASE
)
# The 112 export's own spellings, parsed without the general machinery (the result is the same).
_PLAIN_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_PLAIN_DURATION = re.compile(r"(\d+) Hari : (\d+) Jam : (\d+) Menit : (\d+) Detik")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls except tab, line feed, carriage return
MAX_DURATION = timedelta(days=3660)  # ten years: anything longer is a broken cell, not a real handling time
_ZERO = timedelta(0)


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text(value) -> str | None:
    """A cell as clean text: numbers that are really ids lose their '.0', blanks become None, control characters
    are dropped (a NUL byte would make PostgreSQL refuse the whole batch)."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raw = str(value)
    if not raw.isprintable():  # a fast check first: most cells have nothing to remove
        raw = _CONTROL.sub("", raw)
    cleaned = " ".join(raw.split()) if not isinstance(value, str) or "\n" not in raw else raw.strip()
    return cleaned or None


def _excel_serial(number: float, field: str = "date") -> datetime:
    if not 1 <= number < 2_958_466:  # Excel's own range (1900-01-01 .. 9999-12-31)
        raise RecordError(f"{field} {number!r} is not a date")
    # to the millisecond, Excel's own precision: 07:00 is 45931.291666666664, a float a hair short of it
    return _EXCEL_EPOCH + timedelta(milliseconds=round(float(number) * 86_400_000))


def parse_date(value, field: str = "date") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _excel_serial(value, field).date()
    raw = text(value)
    if raw is None:
        raise RecordError(f"{field} is empty")
    raw = raw.split("T")[0].split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2}", raw) else raw
    try:
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", raw):
            return date.fromisoformat("-".join(p.zfill(2) for p in raw.split("-")))
        if m := _DAY_MONTH_YEAR.match(raw):
            month = _MONTHS.get(m.group(2).lower())
            if month:
                return date(int(m.group(3)), month, int(m.group(1)))
        if m := _NUMERIC_DMY.match(raw):  # Indonesian order: day/month/year
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.match(r"^\d+(\.\d+)?$", raw):
            return _excel_serial(float(raw), field).date()
    except ValueError:
        pass
    raise RecordError(f"{field} {raw!r} is not a date")


def parse_time(value, field: str = "time") -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, float) and 0 <= value < 1:  # Excel stores times as a fraction of a day
        seconds = round(value * 86400)
        return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    raw = text(value)
    if raw is None:
        return time(0, 0)
    m = re.match(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?", raw)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise RecordError(f"{field} {raw!r} is not a time of day")
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_datetime(value, tz: ZoneInfo | timezone, field: str = "time") -> datetime:
    """A moment from an ISO string (zone kept), a datetime cell or 'date time' text (zone `tz` assumed)."""
    if value.__class__ is str and len(value) == 19 and _PLAIN_DATETIME.fullmatch(value):
        # 'YYYY-MM-DD HH:MM:SS', the exports' usual cell: text() would leave it as it is
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:  # 2026-02-30 ...: the general path below says why
            pass
        else:
            return _utc(moment.replace(tzinfo=tz), field)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not is_blank(value):
        moment = _excel_serial(value, field)
    else:
        raw = text(value)
        if raw is None:
            raise RecordError(f"{field} is empty")
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None and re.fullmatch(r"\d+\.\d+", raw):  # an Excel serial saved as text: keep its time
            moment = _excel_serial(float(raw))
        elif moment is None:
            head, _, tail = raw.partition(" ")
            if re.match(r"^\d{1,2}:\d{2}", tail.strip()) is None and not re.match(r"^\d", head):
                raise RecordError(f"{field} {raw!r} is not a date and time") from None
            day_part, time_part = _split_date_time(raw)
            moment = datetime.combine(parse_date(day_part, field), parse_time(time_part, field))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return _utc(moment, field)


def _utc(moment: datetime, field: str) -> datetime:
    """The moment in UTC; a local time on the calendar's first or last day may fall outside it in UTC."""
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise RecordError(f"{field} {moment.isoformat(' ', 'minutes')} is outside the calendar") from None


def _split_date_time(raw: str) -> tuple[str, str | None]:
    m = re.match(r"^(.*?)[\sT,]+(\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)\s*$", raw)
    return (m.group(1), m.group(2)) if m else (raw, None)


def combine_local(day, clock, tz: ZoneInfo | timezone, field: str = "date") -> datetime:
    """A date cell and a separate time cell, read in zone `tz`, as UTC."""
    moment = datetime.combine(parse_date(day, field), parse_time(clock, field))
    return _utc(moment.replace(tzinfo=tz), field)


def parse_duration(value, field: str = "duration") -> timedelta | None:
    """'0 Hari : 20 Jam : 41 Menit : 56 Detik' (112 logs), 'HH:MM:SS', or a number of seconds; at most ten years."""
    if is_blank(value):
        return None
    try:
        duration = _duration(value)
    except (OverflowError, ValueError):  # more days than a timedelta holds, digits int() cannot read
        duration = None
    if duration is not None and _ZERO <= duration <= MAX_DURATION:
        return duration
    raw = value if isinstance(value, timedelta) else text(value)
    if duration is None:
        raise RecordError(f"{field} {raw!r} is not a duration")
    raise RecordError(f"{field} {raw!r} is not a plausible duration (negative, or more than ten years)")


def _duration(value) -> timedelta | None:
    if value.__class__ is str and (m := _PLAIN_DURATION.fullmatch(value)):  # the 112 export's spelling
        days, hours, minutes, seconds = m.groups()
        return timedelta(days=int(days), hours=int(hours), minutes=int(minutes), seconds=int(seconds))
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)  # an Excel time cell
    raw = str(value).strip()
    if m := re.match(r"^(\d+):(\d{2}):(\d{2})$", raw):
        return timedelta(hours=int(m.group(1)), minutes=int(m.group(2)), seconds=int(m.group(3)))
    m = _DURATION.fullmatch(raw)
    if not m or not any(m.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_float(value) -> float | None:
    """A number, or None for blanks and for what is not one ('n/a', a date cell, a list, a boolean)."""
    if is_blank(value) or isinstance(value, bool):
        return None
    try:
        return float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def flags(value, separator: str = "|") -> set[str]:
    """'Anonim|Rahasia' -> {'anonim', 'rahasia'}."""
    raw = text(value)
    return {part.strip().lower() for part in raw.split(separator)} if raw else set()
