"""The monthly scorecard: the figures for the whole city and for each agency, gathered once, then printed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from metrics import queries
from metrics.filters import Filters
from metrics.queries import Headline
from models.base import utcnow
from regions import Region
from reports import data

OVERDUE_ROWS = 25
ALL = "ALL"  # --agency ALL: the city, then every ranked agency


@dataclass
class Section:
    """One part of the report: the whole city (agency_code None) or one agency."""

    title: str
    agency_code: str | None
    current: Headline
    previous: Headline
    daily: pd.DataFrame
    history: pd.DataFrame
    categories: pd.DataFrame
    districts: pd.DataFrame
    overdue: pd.DataFrame
    overdue_total: int
    standing: data.AgencyStanding | None = None


@dataclass
class Scorecard:
    region: Region
    month: str
    previous_month: str
    generated_at: datetime
    ranking: pd.DataFrame
    sections: list[Section] = field(default_factory=list)
    agency_names: dict[str, str] = field(default_factory=dict)
    agency_full_names: dict[str, str] = field(default_factory=dict)
    category_labels: dict[str, str] = field(default_factory=dict)
    district_names: dict[str, str] = field(default_factory=dict)
    lang: str = "id"

    @property
    def month_start(self):
        return data.month_filters(self.month).start

    @property
    def month_end(self):
        return data.month_filters(self.month).end

    def channel_label(self, code: str | None) -> str:
        from ui.i18n import STRINGS  # the channel names the dashboards use

        pair = STRINGS.get(f"channel_{code}")
        return (pair[1] if self.lang == "en" else pair[0]) if pair else (code or "–")


def _section(engine: Engine, scorecard: Scorecard, filters: Filters, agency: str | None) -> Section:
    region, now = scorecard.region, scorecard.generated_at
    tz = region.timezone
    scoped = data.for_agency(filters, agency)
    previous = data.for_agency(data.month_filters(scorecard.previous_month), agency)
    month_end = filters.bounds(tz)[1]
    title = scorecard.agency_full_names.get(agency, agency) if agency else region.display_name
    return Section(
        title=title, agency_code=agency,
        current=queries.headline(engine, scoped, now, tz),
        previous=queries.headline(engine, previous, now, tz),
        daily=data.daily_flow(engine, scoped, tz),
        history=data.monthly_history(engine, scoped, tz, now),
        categories=data.arrivals(engine, scoped, tz, "category"),
        districts=data.arrivals(engine, scoped, tz, "district"),
        overdue=data.overdue_list(engine, scoped, now, OVERDUE_ROWS, received_before=month_end),
        overdue_total=data.overdue_count(engine, scoped, now, received_before=month_end),
        standing=data.standing(engine, filters, agency, now, tz, scorecard.ranking) if agency else None,
    )


def _names(engine: Engine, scorecard: Scorecard) -> None:
    from sqlalchemy import select

    from models import Agency

    with engine.connect() as conn:
        scorecard.agency_full_names = dict(conn.execute(select(Agency.code, Agency.name)).all())
    scorecard.agency_names = queries.agency_names(engine)
    scorecard.category_labels = queries.category_labels(engine, scorecard.lang)
    scorecard.district_names = queries.district_names(engine)


def build_scorecard(engine: Engine, region: Region, month: str, agency: str | None = None,
                    now: datetime | None = None, lang: str = "id") -> Scorecard:
    """The scorecard of `month` ('2026-10'): the city, one agency (`agency`), or the city and every agency (ALL)."""
    filters = data.month_filters(month)
    now = now or utcnow()
    scorecard = Scorecard(region=region, month=month, previous_month=data.previous_month(month), generated_at=now,
                          ranking=queries.agency_ranking(engine, filters, now, region.timezone), lang=lang)
    _names(engine, scorecard)
    if agency and agency != ALL:
        if agency not in scorecard.agency_full_names:
            raise ValueError(f"unknown agency {agency!r}")
        scorecard.sections.append(_section(engine, scorecard, filters, agency))
        return scorecard
    scorecard.sections.append(_section(engine, scorecard, filters, None))
    if agency == ALL and not scorecard.ranking.empty:
        for code in scorecard.ranking["agency_code"]:
            scorecard.sections.append(_section(engine, scorecard, filters, code))
    return scorecard
