"""Response times: how fast complaints are answered and resolved against the SLA, and how old the open ones are."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from metrics import queries, response
from ui import charts, context
from ui import filters as ui_filters
from ui.charts import date_axis, number_axis
from ui.i18n import fmt_date, fmt_float, fmt_hours, fmt_int, fmt_pct, label, register, t

register({
    "rt_measure": ("Ukuran", "Measure"),
    "rt_response": ("Respons pertama", "First response"),
    "rt_resolution": ("Penyelesaian", "Resolution"),
    "rt_breakdown": ("Rincian per", "Break down by"),
    "rt_target_channel": ("Garis target SLA dari kanal", "SLA target line of channel"),
    "rt_median": ("Median", "Median"),
    "rt_p90": ("P90", "P90"),
    "rt_on_time": ("Tepat waktu (SLA)", "On time (SLA)"),
    "rt_known": ("Waktu tercatat", "Known times"),
    "rt_known_of": ("{known} dari {total} aduan", "{known} of {total} complaints"),
    "rt_open_median_age": ("Median umur terbuka", "Median open age"),
    "rt_dist_response": ("Sebaran waktu respons pertama", "Distribution of first-response times"),
    "rt_dist_resolution": ("Sebaran waktu penyelesaian", "Distribution of resolution times"),
    "rt_by_channel": ("Median dan P90 per kanal", "Median and P90 by channel"),
    "rt_by_agency": ("Median dan P90 per OPD", "Median and P90 by agency"),
    "rt_by_category": ("Median dan P90 per kategori", "Median and P90 by category"),
    "rt_weekly": ("Median dan P90 per minggu", "Median and P90 per week"),
    "rt_open_age": ("Umur aduan yang masih terbuka", "Age of complaints still open"),
    "rt_open_age_caption": (
        "Rata-rata dari aduan yang sudah selesai menyembunyikan kasus terburuk. Di sini semua aduan yang belum "
        "selesai saat ini (terlepas dari periode), menurut umur sejak diterima.",
        "Averages over closed complaints hide the worst cases. These are all complaints open right now "
        "(whatever the period), by age since they were received."),
    "rt_hours_since": ("Waktu sejak diterima", "Time since received"),
    "rt_complaints": ("Aduan", "Complaints"),
    "rt_week": ("Minggu masuk", "Week received"),
    "rt_target": ("Target SLA", "SLA target"),
    "rt_target_caption": ("Garis merah putus-putus: target SLA kanal {channel} (aturan “{rule}”): {duration}.",
                          "Red dashed line: the SLA target of {channel} (rule “{rule}”): {duration}."),
    "rt_wd_caption": (
        "Hari kerja digambar kira-kira: 1 hari kerja ≈ 33,6 jam (7/5 hari kalender; akhir pekan ikut dihitung, "
        "libur nasional tidak). Angka tepat waktu memakai tenggat persis tiap aduan.",
        "Working days are drawn approximately: 1 working day ≈ 33.6 h (7/5 calendar days; weekends included, "
        "public holidays not). The on-time figure uses each complaint's exact deadline."),
    "rt_channel_ticks": ("target SLA kanal masing-masing", "each channel's own SLA target"),
    "rt_count_note": ("angka: jumlah aduan dengan waktu tercatat", "number: complaints with a known time"),
    "rt_no_target": ("Kanal ini tidak punya target SLA untuk ukuran ini.",
                     "This channel has no SLA target for this measure."),
    "rt_censor_caption": (
        "Menurut minggu aduan diterima (Senin–Minggu, waktu setempat). Minggu-minggu terakhir tampak lebih cepat "
        "karena aduan yang lambat belum selesai.",
        "By week received (Monday–Sunday, local time). The latest weeks look faster because slow complaints "
        "have not finished yet."),
    "rt_top_groups": ("{shown} terbesar dari {total}, menurut jumlah aduan dengan waktu tercatat.",
                      "The {shown} largest of {total}, by complaints with a known time."),
    "rt_all": ("Semua aduan", "All complaints"),
    "rt_within": ("Masih dalam tenggat", "Within deadline"),
    "rt_none_open": ("Tidak ada aduan yang masih terbuka.", "No complaint is open."),
    "rt_wd": ("hari kerja", "working days"),
    "rt_p90_age": ("P90 umur", "P90 age"),
    "rt_oldest": ("Aduan tertua", "Oldest complaint"),
    "rt_unknown_note": (
        "{n} aduan sudah direspons/diselesaikan pada waktu yang tidak diketahui (pertama terlihat sudah berstatus "
        "itu, mis. ekspor LAPOR tanpa stempel waktu) dan tidak masuk perhitungan waktu.",
        "{n} complaints were answered/resolved at an unknown moment (first seen already in that status, e.g. a "
        "LAPOR export without timestamps) and are left out of the time figures."),
    "rt_stat": ("Statistik", "Statistic"),
    "rt_share": ("Bagian", "Share"),
    "rt_range": ("Rentang", "Range"),
    "rt_sla_share": ("Tepat waktu", "On time"),
})

MEASURE_KEYS = {"response": "rt_response", "resolution": "rt_resolution"}
HOUR_TICKS = [0, 1, 2, 4, 8, 12, 24, 48, 96, 168, 336, 720, 1440]
SPARSE_TICKS = [0, 2, 8, 24, 96, 336, 1440]  # for short panels
TARGET_COLOR, P50_COLOR, P90_COLOR = "#d62728", "#1f5aa6", "#f28e2b"
MAX_GROUPS = 15

region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()
lang = st.session_state.get("lang", "id")


# ---- chart helpers ------------------------------------------------------------------------------

def hours_axis(title: str | None = None, values=HOUR_TICKS, **kwargs) -> alt.Axis:
    """Hour ticks read as people say them: '12 j' below two days, '7 hr' above."""
    hours, days = t("hours_short"), t("days_short")
    expr = (f"datum.value == 0 ? '0' : datum.value < 48 ? datum.value + ' {hours}' "
            f": round(datum.value / 24) + ' {days}'")
    return alt.Axis(title=title, values=values, labelExpr=expr, grid=True, **kwargs)


def hours_scale(domain=(0, 2880)) -> alt.Scale:
    """Log-like: symlog keeps zero on the axis and spreads minutes to months evenly."""
    return alt.Scale(type="symlog", constant=1, domain=list(domain), nice=False)


def target_layers(hours: float | None) -> list:
    """The SLA target as a dashed red rule with its label, or nothing."""
    if hours is None:
        return []
    frame = pd.DataFrame({"hours": [hours], "text": [t("rt_target")]})
    rule = alt.Chart(frame).mark_rule(color=TARGET_COLOR, strokeDash=[6, 4], size=2).encode(x="hours:Q")
    note = alt.Chart(frame).mark_text(color=TARGET_COLOR, align="left", dx=5, dy=-6, fontWeight="bold").encode(
        x="hours:Q", y=alt.value(8), text="text:N")
    return [rule, note]


def describe_target(target: response.Target) -> str:
    if target.working_days is None:
        return fmt_hours(target.hours)
    return f"{fmt_float(target.working_days, 0)} {t('rt_wd')} ≈ {fmt_hours(target.hours)}"


def target_hours(channel: str, measure: str) -> float | None:
    target = response.sla_target(region, channel, measure)
    return None if target is None else target.hours


def group_namer(dimension: str):
    """Readable names for channel, agency or category codes."""
    if dimension == "channel":
        return lambda code: label("channel", code)
    names = (context.query(queries.agency_names) if dimension == "agency"
             else context.query(queries.category_labels, lang))
    return lambda code: t("unknown") if code is None or pd.isna(code) else names.get(code, code)


def delta_hours(value, before):
    if value is None or before is None:
        return None
    return f"{'+' if value >= before else '-'}{fmt_hours(abs(value - before))} {t('vs_previous')}"


# ---- sections -----------------------------------------------------------------------------------

def controls() -> tuple[str, str, str]:
    """Measure, breakdown and the channel whose SLA target is drawn (default: the filtered or busiest one)."""
    busiest = list(context.query(queries.received_by_channel, filters, tz).index)
    choices = list(dict.fromkeys([*busiest, *sorted(region.enabled_channels())])) or ["wargaku"]
    default = filters.channels[0] if len(filters.channels) == 1 else choices[0]
    left, middle, right = st.columns([2, 3, 2])
    measure = left.segmented_control(t("rt_measure"), list(MEASURE_KEYS), key="rt_measure", default="response",
                                     required=True, format_func=lambda m: t(MEASURE_KEYS[m]))
    dimension = middle.segmented_control(t("rt_breakdown"), list(response.DIMENSIONS), key="rt_dimension",
                                         default="channel", required=True, format_func=t)
    channel = right.selectbox(t("rt_target_channel"), choices, index=choices.index(default) if default in choices
                              else 0, format_func=lambda c: label("channel", c), key="rt_target_channel")
    return measure, dimension, channel


def headline_tiles(measure: str, ages: response.OpenAge) -> None:
    current = context.query(queries.headline, filters, now, tz)
    previous = context.query(queries.period_figures, filters.previous(), tz)
    cover = context.query(response.coverage, filters, tz)
    prefix = "response" if measure == "response" else "resolution"
    median, p90 = getattr(current, f"{prefix}_median_h"), getattr(current, f"{prefix}_p90_h")
    known = cover.response_known if measure == "response" else cover.resolution_known
    unknown = cover.responded_time_unknown if measure == "response" else cover.resolved_time_unknown
    name = t(MEASURE_KEYS[measure])
    tiles = st.columns(6)
    tiles[0].metric(f"{t('rt_median')} · {name}", fmt_hours(median),
                    delta_hours(median, getattr(previous, f"{prefix}_median_h")), delta_color="inverse")
    tiles[1].metric(f"{t('rt_p90')} · {name}", fmt_hours(p90),
                    delta_hours(p90, getattr(previous, f"{prefix}_p90_h")), delta_color="inverse")
    tiles[2].metric(t("rt_on_time"), fmt_pct(getattr(current, f"{prefix}_sla")))
    tiles[3].metric(t("rt_known"), fmt_pct(known / cover.received if cover.received else None),
                    t("rt_known_of", known=fmt_int(known), total=fmt_int(cover.received)), delta_color="off",
                    delta_arrow="off")
    tiles[4].metric(t("open_now"), fmt_int(ages.open_now))
    tiles[5].metric(t("rt_open_median_age"), fmt_hours(ages.median_h))
    if unknown:
        st.caption(t("rt_unknown_note", n=fmt_int(unknown)))


def distribution_chart(measure: str, channel: str, target: response.Target | None) -> None:
    st.subheader(t(f"rt_dist_{measure}"))
    dist = context.query(response.distribution, filters, measure, tz)
    if not dist["count"].sum():
        st.info(t("no_data"))
    else:
        charts.show(distribution_figure, dist, target.hours if target else None)
    if target is None:
        st.caption(t("rt_no_target"))
        return
    note = t("rt_target_caption", channel=label("channel", channel), rule=target.rule,
             duration=describe_target(target))
    st.caption(note + (" " + t("rt_wd_caption") if target.working_days is not None else ""))


def distribution_figure(dist: pd.DataFrame, target_h: float | None) -> alt.LayerChart:
    dist = dist.copy()
    dist["range"] = [f"≥ {fmt_hours(lo)}" if open_ else f"{fmt_hours(lo) if lo else '0'} – {fmt_hours(hi)}"
                     for lo, hi, open_ in zip(dist["lower_h"], dist["upper_h"], dist["open_ended"])]
    dist["zero"] = 0
    bars = alt.Chart().mark_rect(color=P50_COLOR, opacity=0.85, stroke="white", strokeWidth=1).encode(
        x=alt.X("lower_h:Q", scale=hours_scale(), axis=hours_axis(t("rt_hours_since"))),
        x2="upper_h:Q",
        # headroom above the tallest bar for the target's label
        y=alt.Y("count:Q", axis=number_axis(t("rt_complaints")),
                scale=alt.Scale(domain=[0, int(dist["count"].max() * 1.15) + 1])),
        y2="zero:Q",
        tooltip=[alt.Tooltip("range:N", title=t("rt_range")), alt.Tooltip("count:Q", title=t("count")),
                 alt.Tooltip("share:Q", title=t("rt_share"), format=".1%")],
    )
    # data on the layer, not on each part: Altair deep-copies every part and its data when layering them
    return alt.layer(bars, *target_layers(target_h), data=dist).properties(height=340)


def breakdown_chart(measure: str, dimension: str, target: response.Target | None) -> None:
    """Median to p90 per group as a dumbbell, slowest median on top; channels carry their own target tick."""
    st.subheader(t(f"rt_by_{dimension}"))
    groups = context.query(response.percentiles_by, filters, measure, dimension, now, tz)
    if groups.empty:
        st.info(t("no_data"))
        return
    charts.show(breakdown_figure, groups.head(MAX_GROUPS), measure, dimension,
                target.hours if target else None)
    legend = (f"<span style='color:{P50_COLOR}'>●</span> {t('rt_median')} &nbsp; "
              f"<span style='color:{P90_COLOR}'>◆</span> {t('rt_p90')} &nbsp;·&nbsp; {t('rt_count_note')}")
    if dimension == "channel":
        legend += f" &nbsp;·&nbsp; <span style='color:{TARGET_COLOR}'>❙</span> {t('rt_channel_ticks')}"
    st.caption(legend, unsafe_allow_html=True)
    if len(groups) > MAX_GROUPS:
        st.caption(t("rt_top_groups", shown=MAX_GROUPS, total=len(groups)))


def breakdown_figure(shown: pd.DataFrame, measure: str, dimension: str, target_h: float | None) -> alt.LayerChart:
    name_of = group_namer(dimension)
    shown = shown.copy()
    shown["name"] = [name_of(g) for g in shown["group"]]
    shown["median"] = [fmt_hours(v) for v in shown["p50_h"]]
    shown["p90"] = [fmt_hours(v) for v in shown["p90_h"]]
    shown["on_time"] = [fmt_pct(v) for v in shown["sla_share"]]
    y = alt.Y("name:N", sort=list(shown.sort_values("p50_h", ascending=False)["name"]), title=None,
              axis=alt.Axis(labelLimit=180))
    tooltip = [alt.Tooltip("name:N", title=t(dimension)), alt.Tooltip("n:Q", title=t("rt_complaints")),
               alt.Tooltip("median:N", title=t("rt_median")), alt.Tooltip("p90:N", title=t("rt_p90")),
               alt.Tooltip("on_time:N", title=t("rt_sla_share"))]
    base = alt.Chart().encode(y=y, tooltip=tooltip)
    p50_x = alt.X("p50_h:Q", scale=hours_scale(), axis=hours_axis(t("rt_hours_since")))
    p90_x = alt.X("p90_h:Q", scale=hours_scale())
    layers = [
        base.mark_rule(color="#9aa5b1", size=3).encode(x=p50_x, x2="p90_h:Q"),
        base.mark_point(filled=True, size=90, color=P50_COLOR, opacity=1).encode(x=p50_x),
        base.mark_point(filled=True, size=90, color=P90_COLOR, opacity=1, shape="diamond").encode(x=p90_x),
        base.mark_text(align="left", dx=8, color="#6b7785", fontSize=11).encode(x=p90_x, text=alt.Text("n:Q")),
    ]
    if dimension == "channel":
        shown["target_h"] = [target_hours(g, measure) for g in shown["group"]]
        layers.insert(0, alt.Chart(shown.dropna(subset=["target_h"])).mark_tick(
            color=TARGET_COLOR, thickness=3, size=22).encode(x=alt.X("target_h:Q", scale=hours_scale()), y=y))
    else:
        layers[:0] = target_layers(target_h)
    return alt.layer(*layers, data=shown).properties(height=alt.Step(30))


def weekly_domain(frame: pd.DataFrame) -> list[float]:
    """From the tick just below the fastest median to above the slowest p90 or target: no empty band at 0."""
    values = pd.concat([frame["p50_h"], frame["p90_h"], frame["target_h"]]).dropna()
    floor = max([tick for tick in SPARSE_TICKS if tick <= values.min() * 0.8], default=0)
    return [floor, float(values.max()) * 1.15]


def weekly_chart(measure: str, dimension: str, target: response.Target | None) -> None:
    """Small multiples: all complaints, then the largest groups; median and p90 per week with the target."""
    st.subheader(t("rt_weekly"))
    weekly = context.query(response.weekly_percentiles, filters, measure, dimension, tz)
    if weekly.empty:
        st.info(t("no_data"))
        return
    charts.show(weekly_figure, weekly, measure, dimension, target.hours if target else None, width="content")
    st.caption(t("rt_censor_caption"))


def weekly_figure(weekly: pd.DataFrame, measure: str, dimension: str, target_h: float | None) -> alt.FacetChart:
    name_of = group_namer(dimension)
    panel = {g: t("rt_all") if g == response.ALL else name_of(g) for g in weekly.attrs["groups"]}
    weekly = weekly.copy()
    weekly["panel"] = weekly["group"].map(panel)
    weekly["target_h"] = [target_h if g == response.ALL or dimension != "channel" else target_hours(g, measure)
                          for g in weekly["group"]]
    weekly["median"] = [fmt_hours(v) for v in weekly["p50_h"]]
    weekly["p90"] = [fmt_hours(v) for v in weekly["p90_h"]]
    y_scale = alt.Scale(type="symlog", constant=1, domain=weekly_domain(weekly), nice=False)
    # the same y axis on every layer: layered axes are merged, and a default one would drop the tick values
    y_axis = hours_axis(None, values=SPARSE_TICKS)
    mondays = [alt.DateTime(year=w.year, month=w.month, date=w.day) for w in sorted(weekly["week"].drop_duplicates())]
    base = alt.Chart().encode(x=alt.X("week:T", axis=date_axis(t("rt_week"), values=mondays)))
    band = base.mark_area(color=P90_COLOR, opacity=0.12).encode(
        y=alt.Y("p50_h:Q", scale=y_scale, axis=y_axis), y2="p90_h:Q")
    names = {"p50_h": t("rt_median"), "p90_h": t("rt_p90")}
    lines = base.transform_fold(list(names), as_=["stat", "hours"]).transform_calculate(
        label=f"datum.stat == 'p50_h' ? '{names['p50_h']}' : '{names['p90_h']}'"
    ).mark_line(point=alt.OverlayMarkDef(size=40, filled=True), strokeWidth=2.5).encode(
        y=alt.Y("hours:Q", scale=y_scale, axis=y_axis),
        color=alt.Color("label:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=list(names.values()), range=[P50_COLOR, P90_COLOR])),
        tooltip=[alt.Tooltip("panel:N", title=t(dimension)),
                 alt.Tooltip("week:T", title=t("rt_week"), format="%Y-%m-%d"),
                 alt.Tooltip("n:Q", title=t("rt_complaints")), alt.Tooltip("median:N", title=t("rt_median")),
                 alt.Tooltip("p90:N", title=t("rt_p90"))])
    rule = alt.Chart().mark_rule(color=TARGET_COLOR, strokeDash=[6, 4], size=1.5).encode(
        y=alt.Y("mean(target_h):Q", scale=y_scale, axis=y_axis))
    header = alt.Header(labelFontSize=13, labelFontWeight="bold", labelAnchor="start")
    chart = alt.layer(band, rule, lines, data=weekly).properties(width=320, height=190).facet(
        facet=alt.Facet("panel:N", sort=list(panel.values()), title=None, header=header), columns=3,
    ).resolve_scale(y="shared")
    return chart


def open_age_section(ages: response.OpenAge) -> None:
    """Still-open complaints by age, overdue ones in red: what closed-only averages never show."""
    st.subheader(t("rt_open_age"))
    st.caption(t("rt_open_age_caption"))
    chart_col, figures_col = st.columns([4, 1])
    with chart_col:
        if not ages.open_now:
            st.success(t("rt_none_open"))
        else:
            charts.show(age_chart, ages.buckets)
    share_overdue = ages.overdue_now / ages.open_now if ages.open_now else None
    figures_col.metric(t("overdue_now"), fmt_int(ages.overdue_now), fmt_pct(share_overdue), delta_color="off",
                       delta_arrow="off")
    figures_col.metric(t("rt_p90_age"), fmt_hours(ages.p90_h))
    figures_col.metric(t("rt_oldest"), fmt_hours(ages.oldest_h))


def age_chart(buckets: pd.DataFrame) -> alt.Chart:
    days = t("days_short")
    buckets = buckets.assign(range=[
        f"≥ {fmt_int(lo / 24)} {days}" if open_ else f"{fmt_int(lo / 24)}–{fmt_int(hi / 24)} {days}"
        for lo, hi, open_ in zip(buckets["lower_h"], buckets["upper_h"], buckets["open_ended"])])
    long = buckets.melt(id_vars=["bucket", "range"], value_vars=["within", "overdue"], var_name="state",
                        value_name="n")
    states = {"within": t("rt_within"), "overdue": t("overdue")}
    long["state_label"] = long["state"].map(states)
    return alt.Chart(long).mark_bar(stroke="white", strokeWidth=1).encode(
        x=alt.X("range:N", sort=list(buckets["range"]), title=t("age"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(n):Q", axis=number_axis(t("rt_complaints")), stack=True),
        color=alt.Color("state_label:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=list(states.values()), range=["#8fb3d9", TARGET_COLOR])),
        order=alt.Order("state:N", sort="descending"),
        tooltip=[alt.Tooltip("range:N", title=t("age")), alt.Tooltip("state_label:N", title=t("status")),
                 alt.Tooltip("sum(n):Q", title=t("rt_complaints"))],
    ).properties(height=300)


# ---- page ---------------------------------------------------------------------------------------

st.title(t("nav_response"))
st.caption(f"{region.display_name} · {fmt_date(filters.start)} – {fmt_date(filters.end)}")
measure, dimension, target_channel = controls()
target = response.sla_target(region, target_channel, measure)
open_ages = context.query(response.open_age, filters, now)
headline_tiles(measure, open_ages)
left, right = st.columns(2)
with left:
    distribution_chart(measure, target_channel, target)
with right:
    breakdown_chart(measure, dimension, target)
weekly_chart(measure, dimension, target)
open_age_section(open_ages)
