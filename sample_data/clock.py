"""Time window, per-day random streams, weather and daily/weekly rhythms.

Every random draw for a given (seed, stream, day) comes from its own generator, so the data of a day does
not depend on `today` or `months`: moving the window keeps the ids and contents of the overlapping days.
"""
from __future__ import annotations

import calendar
from functools import lru_cache
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import numpy as np

LOCAL_OFFSET = timedelta(hours=7)  # WIB
WIB = timezone(LOCAL_OFFSET)
TREND_EPOCH = date(2025, 7, 1)
RAIN_STREAM = 99

# Monday .. Sunday: busy Mondays, quiet weekends.
WEEKDAY = (1.15, 1.06, 1.03, 1.02, 0.97, 0.80, 0.62)


@dataclass(frozen=True)
class Window:
    start: date  # first day covered (local)
    end: date  # `today`
    cutoff: datetime  # naive local (WIB) moment the data stops
    seed: int
    scale: float

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def make_window(today: date | datetime, months: int, seed: int, scale: float) -> Window:
    """`today` as a date covers the whole day; as a datetime (naive = WIB) it is the exact cut-off."""
    if isinstance(today, datetime):
        cutoff = today.astimezone(WIB).replace(tzinfo=None) if today.tzinfo else today
        end = cutoff.date()
    else:
        end, cutoff = today, datetime.combine(today, time(23, 59, 59))
    start = add_months(end, -months) + timedelta(days=1)
    return Window(start, end, cutoff.replace(microsecond=0), seed, scale)


def month_ends(window: Window) -> list[date]:
    """Last day of every month that ends inside the window, before `today`."""
    out, day = [], window.start
    while True:
        last = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        if last >= window.end:
            return out
        out.append(last)
        day = last + timedelta(days=1)


def day_rng(seed: int, stream: int, day: date) -> np.random.Generator:
    return np.random.default_rng([seed, stream, day.toordinal()])


@lru_cache(maxsize=4096)
def heavy_rain(seed: int, day: date) -> bool:
    """Heavy-rain days: frequent in the wet season (Nov-Mar), rare otherwise."""
    chance = {11: 0.16, 12: 0.22, 1: 0.25, 2: 0.22, 3: 0.16, 4: 0.07, 10: 0.05}.get(day.month, 0.01)
    return bool(day_rng(seed, RAIN_STREAM, day).random() < chance)


def rain_level(seed: int, day: date) -> int:
    """2 = heavy rain that day, 1 = the day after heavy rain, 0 = dry."""
    if heavy_rain(seed, day):
        return 2
    return 1 if heavy_rain(seed, day - timedelta(days=1)) else 0


def trend(day: date) -> float:
    """Gentle growth, about +10 % a year."""
    return float(np.clip(1 + 0.10 * (day - TREND_EPOCH).days / 365, 0.6, 1.5))


def day_volume(day: date, per_month: float, scale: float, weekday: tuple = WEEKDAY) -> float:
    return per_month * 12 / 365 * scale * trend(day) * weekday[day.weekday()] / float(np.mean(WEEKDAY))


def hour_profile(peaks: list[tuple[float, float, float]], floor: float = 0.05) -> np.ndarray:
    """24 hourly weights from Gaussian bumps (centre hour, width, height)."""
    hours = np.arange(24) + 0.5
    weights = np.full(24, floor)
    for centre, width, height in peaks:
        weights += height * np.exp(-0.5 * ((hours - centre) / width) ** 2)
    return weights / weights.sum()


def sample_times(rng: np.random.Generator, n: int, day: date, profile: np.ndarray) -> list[datetime]:
    """n sorted local timestamps on `day` following an hourly profile."""
    seconds = rng.choice(24, size=n, p=profile) * 3600 + rng.integers(0, 3600, size=n)
    start = datetime.combine(day, time())
    return [start + timedelta(seconds=int(s)) for s in np.sort(seconds)]


def iso_local(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=WIB).isoformat()


def iso_utc(moment: datetime | None) -> str | None:
    return None if moment is None else (moment - LOCAL_OFFSET).strftime("%Y-%m-%dT%H:%M:%SZ")
