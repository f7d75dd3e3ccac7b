"""SLA rules from region.toml and the working-day calendar they are measured in.

A working day is Monday to Friday and not an Indonesian public holiday (the `holidays` library, which
follows the government's yearly decree). "N working days after" keeps the local time of day and counts
from the next working day: received Friday 10:00 + 1 working day = Monday 10:00.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays

from regions import Region, RegionError

_MATCHERS = ("channel", "kind", "classification", "category")


class WorkingCalendar:
    def __init__(self, tz: ZoneInfo, country: str = "ID"):
        self.tz = tz
        self.country = country
        self._holidays = holidays.country_holidays(country)  # expands lazily per year
        self._memo: dict[tuple[date, int], date] = {}

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def _add_days(self, start: date, n: int) -> date:
        key = (start, n)
        if key not in self._memo:
            day, left = start, n
            while left > 0:
                day += timedelta(days=1)
                if self.is_working_day(day):
                    left -= 1
            self._memo[key] = day
        return self._memo[key]

    def add_working_days(self, moment: datetime, n: float) -> datetime:
        local = moment.astimezone(self.tz)
        whole = int(n)
        day = self._add_days(local.date(), whole)
        due = datetime.combine(day, local.timetz()).replace(tzinfo=self.tz)
        if n != whole:  # a fraction of a working day counts as that share of 24 hours
            due += timedelta(hours=24 * (n - whole))
        return due.astimezone(timezone.utc)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days from start's date (exclusive) to end's date (inclusive), in local dates."""
        a, b = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


@dataclass(frozen=True)
class Duration:
    hours: float | None = None
    working_days: float | None = None

    @classmethod
    def parse(cls, spec, where: str) -> "Duration | None":
        if spec is None:
            return None
        if not isinstance(spec, dict) or len(spec) != 1 or not ({"hours", "working_days"} & spec.keys()):
            raise RegionError(f"{where}: expected {{ hours = N }} or {{ working_days = N }}, got {spec!r}")
        return cls(hours=spec.get("hours"), working_days=spec.get("working_days"))

    def after(self, moment: datetime, calendar: WorkingCalendar) -> datetime:
        if self.hours is not None:
            return moment + timedelta(hours=self.hours)
        return calendar.add_working_days(moment, self.working_days)

    def describe(self) -> str:
        return f"{self.hours:g} h" if self.hours is not None else f"{self.working_days:g} hari kerja"


@dataclass(frozen=True)
class SlaRule:
    name: str
    matchers: dict[str, frozenset[str]]
    response: Duration | None
    resolve: Duration | None

    def matches(self, **facts) -> bool:
        return all(facts.get(key) in allowed for key, allowed in self.matchers.items())


class SlaBook:
    """The region's SLA rules; the first rule whose matchers all fit decides both due times."""

    def __init__(self, region: Region):
        self.calendar = WorkingCalendar(region.timezone, region.holidays_country)
        self.rules = tuple(self._rule(i, spec) for i, spec in enumerate(region.sla_rules))
        self._memo: dict[tuple, SlaRule | None] = {}

    @staticmethod
    def _rule(index: int, spec: dict) -> SlaRule:
        where = f"region.toml [[sla]] #{index + 1}"
        matchers = {}
        for key in _MATCHERS:
            if key in spec:
                value = spec[key]
                matchers[key] = frozenset([value] if isinstance(value, str) else value)
        return SlaRule(
            name=spec.get("name", f"rule {index + 1}"),
            matchers=matchers,
            response=Duration.parse(spec.get("response"), where),
            resolve=Duration.parse(spec.get("resolve"), where),
        )

    def rule_for(self, channel: str, kind: str, classification: str | None, category: str | None) -> SlaRule | None:
        key = (channel, kind, classification, category)
        if key not in self._memo:
            self._memo[key] = next(
                (r for r in self.rules
                 if r.matches(channel=channel, kind=kind, classification=classification, category=category)),
                None,
            )
        return self._memo[key]

    def due_times(self, received_at: datetime, channel: str, kind: str, classification: str | None = None,
                  category: str | None = None) -> tuple[datetime | None, datetime | None]:
        rule = self.rule_for(channel, kind, classification, category)
        if rule is None:
            return None, None
        response = rule.response.after(received_at, self.calendar) if rule.response else None
        resolve = rule.resolve.after(received_at, self.calendar) if rule.resolve else None
        return response, resolve
