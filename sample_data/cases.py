"""The complaint 'world': arrivals, places, categories, routing and each complaint's lifecycle.

Channel writers render these cases in their own source format, with the status each case has at the
moment the file is generated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable

import numpy as np

from . import clock
from .people import chance, person, pick, street
from .region import District, RegionData, SourceCategory
from .texts import complaint_body, title, topics, with_personal_data

# Agency performance: median response hours, resolution-time factor, share never finished.
PROFILES = {
    "DAMKAR": (0.4, 0.15, 0.0), "BPBD": (1.0, 0.5, 0.01), "DSDABM": (2.5, 0.8, 0.03), "DLH": (5, 0.9, 0.04),
    "DISHUB": (8, 1.0, 0.05), "SATPOLPP": (5, 0.7, 0.04), "DINSOS": (18, 1.3, 0.06),
    "DISPENDUKCAPIL": (40, 2.0, 0.08), "DINKES": (10, 1.0, 0.04), "DISPENDIK": (16, 1.2, 0.05),
    "DP3APPKB": (6, 1.0, 0.03), "DISKOMINFO": (3, 0.6, 0.01), "PDAM": (4, 0.7, 0.03),
    "PLN": (60, 2.5, 0.25), "POLRI": (24, 1.5, 0.2), "DPRKPP": (80, 3.0, 0.32), "DPMPTSP": (30, 1.5, 0.08),
}
DEFAULT_PROFILE = (20, 1.3, 0.06)
PHYSICAL = {"roads", "flooding", "drainage", "street_lights", "trees", "water", "electricity", "housing",
            "building_permits", "traffic"}
ADMIN = {"civil_registration", "social_assistance", "information", "education", "health", "women_children"}
URGENT = {"fire", "disaster", "crime", "traffic_accident", "medical_emergency"}
# Routed to the kecamatan office instead of the category's agency, sometimes.
OFFICE_ROUTED = {"waste", "public_order", "street_vendors", "social_assistance", "other", "roads", "housing"}
# Rain multipliers per category: (heavy-rain day, the day after).
RAIN_BOOST = {"flooding": (6.0, 3.0), "drainage": (3.0, 2.0), "trees": (3.5, 1.8), "roads": (1.3, 1.3),
              "electricity": (1.6, 1.2), "street_lights": (1.3, 1.1)}


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    stream: int
    per_month: float
    hours: np.ndarray
    priors: dict[str, float]  # unified category -> weight
    verify_hours: float  # median time to verification / triage
    response_factor: float  # multiplies agency response medians
    detail: float = 0.6  # share of texts naming the place
    pii: float = 0.0  # share of texts with (fake) personal data
    reject: float = 0.03
    waiting_info: float = 0.0
    extras: Callable | None = None  # channel-specific draws: extras(rng, case) -> dict
    weekday: tuple = clock.WEEKDAY


@dataclass
class Case:
    channel: str
    day: date
    seq: int  # 1-based order within the day
    received: datetime  # naive local time (WIB)
    district: District
    district_no: int
    kelurahan: str | None
    lat: float
    lon: float
    street: str
    source: SourceCategory
    agency: str | None
    outcome: str  # normal | stuck (never finished) | rejected | waiting_info
    verified: datetime | None = None
    dispatched: datetime | None = None
    responded: datetime | None = None
    resolved: datetime | None = None
    topic: tuple[str, str] = ("", "")  # (title stem, problem phrase)
    title: str = ""
    body: str = ""
    reporter: dict = field(default_factory=dict)
    has_pii: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def category(self) -> str:
        return self.source.category

    @property
    def place(self) -> dict:
        return {"kelurahan": self.kelurahan, "kecamatan": self.district.name, "street": self.street,
                "lat": self.lat, "lon": self.lon}

    def stage(self, at: datetime) -> str:
        """new, verified, dispatched, in_progress, resolved, rejected, waiting_info or archived at `at`."""
        if self.verified is None or at < self.verified:
            return "new"
        if self.outcome == "waiting_info":
            return "waiting_info" if at < self.verified + timedelta(days=10) else "archived"
        if self.outcome == "rejected":
            return "rejected"
        for moment, before in ((self.dispatched, "verified"), (self.responded, "dispatched"),
                               (self.resolved, "in_progress")):
            if moment is None or at < moment:
                return before
        return "resolved"

    def seen(self, moment: datetime | None, at: datetime) -> datetime | None:
        """`moment` if it already happened at `at`."""
        return moment if moment is not None and moment <= at else None

    def last_event(self, at: datetime) -> datetime:
        events = [self.received, self.verified, self.dispatched, self.responded, self.resolved]
        if self.outcome == "waiting_info" and self.verified:
            events.append(self.verified + timedelta(days=10))
        return max(e for e in events if e is not None and e <= at)


def resolve_days(category: str) -> float:
    """Median days from first response to resolution, before the agency factor."""
    if category in PHYSICAL:
        return 9.0
    if category in ADMIN:
        return 3.0
    return 0.6 if category in URGENT else 5.0


def later(moment: datetime, hours: float) -> datetime:
    """`moment` plus `hours`, in whole seconds (at least one)."""
    return moment + timedelta(seconds=max(1, round(float(hours) * 3600)))


class World:
    """Region data plus the stable per-day random streams."""

    def __init__(self, region: RegionData, window: clock.Window):
        self.region, self.window = region, window
        pops = np.array([d.population for d in region.districts])
        self.district_p = pops / pops.sum()
        rng = np.random.default_rng([window.seed, 98])
        self.office_speed = {d.code: float(rng.lognormal(0, 0.6)) for d in region.districts}
        self._weights: dict[str, tuple] = {}

    def source_weights(self, spec: ChannelSpec) -> tuple[list[SourceCategory], np.ndarray]:
        if spec.name not in self._weights:
            self._weights[spec.name] = self._source_weights(spec)
        return self._weights[spec.name]

    def _source_weights(self, spec: ChannelSpec) -> tuple[list[SourceCategory], np.ndarray]:
        """Each category keeps its prior weight, split over its texts by 1/rank (first texts are canonical)."""
        rows = self.region.source_categories.get(spec.name, [])
        if not rows:
            raise ValueError(f"category_map.csv has no rows for channel {spec.name!r}")
        rank: dict[str, int] = {}
        weights = []
        for row in rows:
            rank[row.category] = rank.get(row.category, 0) + 1
            weights.append(1 / rank[row.category])
        shares = np.array(weights)
        for cat in rank:
            mask = np.array([r.category == cat for r in rows])
            shares[mask] *= spec.priors.get(cat, 0.5) / shares[mask].sum()
        return rows, shares

    def profile(self, agency: str | None) -> tuple[float, float, float]:
        if agency and agency.startswith("KEC_"):
            speed = self.office_speed.get(agency[4:].lower(), 1.0)
            return 10 * speed, 1.0 * speed, min(0.25, 0.03 * speed)
        return PROFILES.get(agency or "", DEFAULT_PROFILE)

    def day_cases(self, spec: ChannelSpec, day: date) -> list[Case]:
        rng, n, rows, p = self._day_start(spec, day)
        times = clock.sample_times(rng, n, day, spec.hours)
        cats = rng.choice(len(rows), size=n, p=p)
        dists = rng.choice(len(self.region.districts), size=n, p=self.district_p)
        return [self._case(rng, spec, day, i + 1, t, rows[c], int(d))
                for i, (t, c, d) in enumerate(zip(times, cats, dists))]

    def day_count(self, spec: ChannelSpec, day: date) -> int:
        return self._day_start(spec, day)[1]

    def _day_start(self, spec: ChannelSpec, day: date):
        rng = clock.day_rng(self.window.seed, spec.stream, day)
        rows, shares = self.source_weights(spec)
        level = clock.rain_level(self.window.seed, day)
        boost = np.array([RAIN_BOOST.get(r.category, (1.0, 1.0))[2 - level] if level else 1.0 for r in rows])
        weights = shares * boost
        volume = clock.day_volume(day, spec.per_month, self.window.scale, spec.weekday)
        volume *= weights.sum() / shares.sum() * rng.gamma(25, 1 / 25)
        return rng, int(rng.poisson(volume)), rows, weights / weights.sum()

    def _case(self, rng, spec: ChannelSpec, day: date, seq: int, received: datetime, source: SourceCategory,
              dno: int) -> Case:
        district = self.region.districts[dno]
        kel = district.subdistricts[int(rng.random() * len(district.subdistricts))] if district.subdistricts else None
        lat, lon = district.lat + rng.normal(0, 0.008), district.lon + rng.normal(0, 0.008)
        agency = source.agency
        office = self.region.district_office(district)
        if office and source.category in OFFICE_ROUTED and chance(rng, 0.12):
            agency = office
        case = Case(spec.name, day, seq, received, district, dno + 1, kel, round(float(lat), 6), round(float(lon), 6),
                    street(rng, district.code, kel), source, agency, "normal")
        self._lifecycle(rng, spec, case)
        self._texts(rng, spec, case)
        if spec.extras:
            case.extra = spec.extras(rng, case)
        return case

    def _lifecycle(self, rng, spec: ChannelSpec, case: Case) -> None:
        resp_h, res_factor, stuck = self.profile(case.agency)
        case.verified = later(case.received, rng.lognormal(np.log(spec.verify_hours), 0.8))
        roll = rng.random()
        for outcome, share in (("rejected", spec.reject), ("waiting_info", spec.waiting_info),
                               ("stuck", stuck)):
            if roll < share:
                case.outcome = outcome
                break
            roll -= share
        if case.outcome in ("rejected", "waiting_info"):
            return
        case.dispatched = later(case.verified, rng.exponential(0.7))
        external = self.region.agencies.get(case.agency or "")
        if case.outcome == "stuck" and external is not None and external.kind == "external":
            return  # forwarded and never answered
        case.responded = later(case.dispatched, rng.lognormal(np.log(resp_h * spec.response_factor), 1.0))
        if case.outcome == "stuck":
            return
        days = rng.lognormal(np.log(resolve_days(case.category) * res_factor), 0.6)
        case.resolved = later(case.responded, 24 * days)

    def _texts(self, rng, spec: ChannelSpec, case: Case) -> None:
        case.reporter = person(rng, case.district_no)
        case.topic = pick(rng, topics(case.category, case.source.text))
        case.title = title(rng, case.topic[0], case.place)
        case.body = complaint_body(rng, case.category, case.topic[1], case.place, spec.detail)
        if chance(rng, spec.pii):
            case.body, case.has_pii = with_personal_data(rng, case.body, case.reporter, case.place), True

    def cases(self, spec: ChannelSpec) -> list[Case]:
        """All cases of a channel in the window, received up to the cut-off."""
        out = []
        for day in self.window.days():
            out.extend(c for c in self.day_cases(spec, day) if c.received <= self.window.cutoff)
        return out
