"""Overview: today and this period at a glance."""
from __future__ import annotations

import altair as alt
import streamlit as st

from metrics import queries
from ui import context
from ui import filters as ui_filters
from ui import charts
from ui.charts import date_axis, number_axis
from ui.i18n import fmt_date, fmt_hours, fmt_int, fmt_pct, label, t

region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()

st.title(t("nav_overview"))
st.caption(f"{region.display_name} · {fmt_date(filters.start)} – {fmt_date(filters.end)}")

current = context.query(queries.headline, filters, now, tz)
previous = context.query(queries.period_figures, filters.previous(), tz)


def delta(value, before, formatter=fmt_int):
    """Signed change against the previous period; Streamlit reads the leading '-' for the arrow."""
    if value is None or before is None:
        return None
    return f"{'+' if value >= before else '-'}{formatter(abs(value - before))} {t('vs_previous')}"


cols = st.columns(6)
cols[0].metric(t("received"), fmt_int(current.received), delta(current.received, previous.received),
               delta_color="off")
cols[1].metric(t("received_today"), fmt_int(current.received_today))
cols[2].metric(t("open_now"), fmt_int(current.open_now))
cols[3].metric(t("overdue_now"), fmt_int(current.overdue_now))
cols[4].metric(t("resolution_rate"), fmt_pct(current.resolution_rate),
               delta(current.resolution_rate, previous.resolution_rate, fmt_pct))
cols[5].metric(t("median_response"), fmt_hours(current.response_median_h),
               delta(current.response_median_h, previous.response_median_h, fmt_hours), delta_color="inverse")

st.subheader(t("per_channel"))
channels = context.query(queries.by_channel, filters, now, tz)
tiles = st.columns(max(len(channels), 1))
for tile, (channel, row) in zip(tiles, channels.iterrows()):
    with tile.container(border=True):
        st.metric(label("channel", channel), fmt_int(row["received"]))
        st.caption(f"{t('open')}: {fmt_int(row['open'])} · {t('overdue')}: {fmt_int(row['overdue'])}")


def trend_figure(trend) -> alt.Chart:
    trend = trend.assign(channel_label=trend["channel"].map(lambda c: label("channel", c)))
    chart = alt.Chart(trend).mark_area(opacity=0.85).encode(
        x=alt.X("day:T", axis=date_axis(t("day"))),
        y=alt.Y("sum(count):Q", axis=number_axis(t("count")), stack=True),
        color=alt.Color("channel_label:N", title=t("channel")),
        tooltip=[alt.Tooltip("day:T", title=t("day")), alt.Tooltip("channel_label:N", title=t("channel")),
                 alt.Tooltip("sum(count):Q", title=t("count"))],
    ).properties(height=320)
    return chart


left, right = st.columns([3, 2])
with left:
    st.subheader(t("trend"))
    trend = context.query(queries.daily_trend, filters, tz)
    if trend.empty:
        st.info(t("no_data"))
    else:
        charts.show(trend_figure, trend)
with right:
    st.subheader(t("most_overdue"))
    overdue = context.query(queries.most_overdue, filters, now, 10)
    if overdue.empty:
        st.success(t("none_overdue"))
    else:
        agencies = context.query(queries.agency_names)
        districts = context.query(queries.district_names)
        categories = context.query(queries.category_labels, st.session_state["lang"])
        st.dataframe(
            {
                t("channel"): [label("channel", c) for c in overdue["channel"]],
                t("category"): [categories.get(c, c or "–") for c in overdue["category"]],
                t("district"): [districts.get(d, "–") for d in overdue["district_code"]],
                t("agency"): [agencies.get(a, a or "–") for a in overdue["agency_code"]],
                t("overdue_by"): [fmt_hours(h) for h in overdue["overdue_h"]],
            },
            hide_index=True, width="stretch",
        )

calls = context.query(queries.emergency_calls, filters, tz)
if calls["total"]:
    st.subheader(t("emergency_calls"))
    a, b, c = st.columns(3)
    a.metric(t("emergency_calls"), fmt_int(calls["total"]))
    b.metric(t("emergency"), fmt_int(calls["emergency"]))
    c.metric(t("non_emergency_share"), fmt_pct(calls["non_emergency_share"]))

last = context.query(queries.last_update)
st.caption(f"{t('last_update')}: {fmt_date(last, tz, with_time=True)}")
