"""Agency ranking: the league table (with its CSV export), its chart, and one agency's overdue list."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from metrics import queries, ranking
from ui import charts, context, kiosk
from ui import filters as ui_filters
from ui.export import export_buttons
from ui.i18n import fmt_date, fmt_dates, fmt_float, fmt_hours, fmt_int, fmt_pct, label, language, register, t

register({
    "ag_caption": ("{region} · {start} – {end} · dibanding {pstart} – {pend}",
                   "{region} · {start} – {end} · compared with {pstart} – {pend}"),
    "ag_ranked": ("OPD dinilai", "Agencies ranked"),
    "ag_best": ("Peringkat teratas", "Top of the table"),
    "ag_on_time_all": ("Selesai tepat waktu (semua OPD)", "Resolved on time (all agencies)"),
    "ag_overdue_all": ("Lewat tenggat saat ini", "Overdue right now"),
    "ag_table": ("Klasemen OPD", "League table"),
    "ag_col_rank": ("#", "#"),
    "ag_col_agency": ("OPD", "Agency"),
    "ag_col_received": ("Aduan", "Complaints"),
    "ag_col_rate": ("Penyelesaian (%)", "Resolved (%)"),
    "ag_col_n": ("n", "n"),
    "ag_col_score": ("Skor Wilson (%)", "Wilson score (%)"),
    "ag_col_sla": ("Tepat waktu (%)", "On time (%)"),
    "ag_col_median": ("Median respons", "Median response"),
    "ag_col_overdue": ("Lewat tenggat", "Overdue now"),
    "ag_col_trend": ("Tren tepat waktu", "On-time trend"),
    "ag_help_rate": ("Aduan selesai/ditutup dari aduan yang dinilai (n). Arsip dan ditolak tidak dihitung.",
                     "Resolved or closed out of the complaints assessed (n). Archived and rejected are not counted."),
    "ag_help_n": ("Jumlah aduan yang dinilai: dasar persentase penyelesaian.",
                  "Complaints assessed: the base of the resolution rate."),
    "ag_help_score": ("Batas bawah interval Wilson 95% dari tingkat penyelesaian: dasar peringkat. OPD dengan "
                      "sedikit aduan tidak bisa juara hanya karena kebetulan.",
                      "Lower end of the 95% Wilson interval of the resolution rate: what the ranking uses. An "
                      "agency with few complaints cannot top the table by luck."),
    "ag_help_sla": ("Selesai sebelum tenggat, dari aduan yang tenggatnya sudah lewat atau sudah selesai.",
                    "Resolved by the deadline, out of complaints resolved or past their deadline."),
    "ag_help_trend": ("Perubahan persentase tepat waktu dibanding periode sebelumnya, dalam poin persen. "
                      "'–' bila kurang dari 5 aduan untuk dibandingkan.",
                      "Change in on-time share against the previous period, in percentage points. "
                      "'–' when fewer than 5 complaints can be compared."),
    "ag_external": ("↗ = instansi di luar pemkot (aduan diteruskan, bukan diselesaikan sendiri)",
                    "↗ = outside the city government (complaints are forwarded, not resolved locally)"),
    "ag_how": ("Cara membaca: peringkat memakai skor Wilson, yaitu tingkat penyelesaian yang dikoreksi untuk "
               "jumlah aduan (2 dari 2 tidak mengalahkan 480 dari 500). Garis pada grafik menunjukkan interval "
               "95%; titik gelap adalah skornya.",
               "How to read it: the ranking uses the Wilson score, the resolution rate corrected for the number "
               "of complaints (2 of 2 does not beat 480 of 500). The lines in the chart show the 95% interval; "
               "the dark mark is the score."),
    "ag_chart": ("Tingkat penyelesaian dan interval kepercayaan 95%", "Resolution rate with 95% interval"),
    "ag_interval": ("Interval 95%", "95% interval"),
    "ag_drill": ("Rincian OPD", "Agency detail"),
    "ag_choose": ("Pilih OPD", "Choose an agency"),
    "ag_rank_of": ("Peringkat", "Rank"),
    "ag_rank_value": ("{rank} dari {total}", "{rank} of {total}"),
    "ag_overdue_list": ("Aduan lewat tenggat", "Overdue complaints"),
    "ag_overdue_shown": ("Menampilkan {shown} dari {total} aduan lewat tenggat, paling lama lebih dulu.",
                         "Showing {shown} of {total} overdue complaints, longest overdue first."),
    "ag_source_id": ("No. laporan", "Report no."),
    "ag_open": ("Buka", "Open"),
    "ag_detail": ("Detail", "Detail"),
    "ag_trend_new": ("baru", "new"),
    "ag_pp": ("pp", "pp"),
})

SOLID_N = 10  # complaints from which a bar is drawn solid
region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()
previous = filters.previous()

st.title(t("nav_agencies"))
st.caption(t("ag_caption", region=region.display_name, start=fmt_date(filters.start), end=fmt_date(filters.end),
             pstart=fmt_date(previous.start), pend=fmt_date(previous.end)))

table = context.query(ranking.league_table, filters, now, tz)
if table.empty:
    st.info(t("no_data"))
    st.stop()


def pct(value) -> int | None:
    """Whole percent, as shown and as exported."""
    return None if value is None or pd.isna(value) else int(round(value * 100))


def pct_column(values) -> pd.Series:
    return pd.Series([pct(v) for v in values], dtype="Int64")


def trend_text(points) -> str:
    if points is None or pd.isna(points):
        return "–"
    rounded = round(points)
    arrow = "▲" if rounded > 0 else "▼" if rounded < 0 else "→"
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    return f"{arrow} {sign}{fmt_int(abs(rounded))} {t('ag_pp')}"


def trend_delta(points) -> str | None:
    """The same change as a metric delta (Streamlit reads the leading '-' for a red arrow)."""
    if points is None or pd.isna(points):
        return None
    rounded = round(points)
    return f"{'-' if rounded < 0 else '+'}{fmt_int(abs(rounded))} {t('ag_pp')} {t('vs_previous')}"


def name_of(names: dict, code) -> str:
    return "–" if code is None or pd.isna(code) else names.get(code, code)


def agency_label(row) -> str:
    return f"{row['agency']} ↗" if row["agency_kind"] == "external" else row["agency"]


# --- headline -------------------------------------------------------------------------------------
met, missed = int(table["sla_met"].sum()), int(table["sla_missed"].sum())
a, b, c, d = st.columns(4)
a.metric(t("ag_ranked"), fmt_int(len(table)))
b.metric(t("ag_best"), agency_label(table.iloc[0]),
         f"{fmt_pct(table.iloc[0]['resolution_rate'])} · n={fmt_int(table.iloc[0]['actionable'])}", delta_color="off",
         delta_arrow="off")
c.metric(t("ag_on_time_all"), fmt_pct(met / (met + missed) if met + missed else None))
d.metric(t("ag_overdue_all"), fmt_int(table["overdue_now"].sum()))

# --- league table (what is shown is exactly what is exported) -------------------------------------
st.subheader(t("ag_table"))
shown = pd.DataFrame({
    t("ag_col_rank"): table["rank"].astype(int),
    t("ag_col_agency"): [agency_label(row) for _, row in table.iterrows()],
    t("ag_col_received"): table["received"].astype(int),
    t("ag_col_rate"): pct_column(table["resolution_rate"]),
    t("ag_col_n"): table["actionable"].astype(int),
    t("ag_col_score"): pct_column(table["score"]),
    t("ag_col_sla"): pct_column(table["sla_compliance"]),
    t("ag_col_median"): [fmt_hours(None if pd.isna(v) else v) for v in table["median_response_h"]],
    t("ag_col_overdue"): table["overdue_now"].astype(int),
    t("ag_col_trend"): [trend_text(v) for v in table["trend_pp"]],
})
st.dataframe(
    shown, hide_index=True, use_container_width=True, height=min(38 + 35 * len(shown), 620),
    column_config={
        t("ag_col_rank"): st.column_config.NumberColumn(width="small", format="%d", pinned=True),
        t("ag_col_agency"): st.column_config.TextColumn(width="medium", pinned=True),
        t("ag_col_received"): st.column_config.NumberColumn(format="%d"),
        t("ag_col_rate"): st.column_config.ProgressColumn(format="%d%%", min_value=0, max_value=100,
                                                          help=t("ag_help_rate")),
        t("ag_col_n"): st.column_config.NumberColumn(format="%d", help=t("ag_help_n"), width="small"),
        t("ag_col_score"): st.column_config.NumberColumn(format="%d", help=t("ag_help_score")),
        t("ag_col_sla"): st.column_config.ProgressColumn(format="%d%%", min_value=0, max_value=100,
                                                         help=t("ag_help_sla")),
        t("ag_col_overdue"): st.column_config.NumberColumn(format="%d"),
        t("ag_col_trend"): st.column_config.TextColumn(help=t("ag_help_trend")),
    },
)
left, right = st.columns([3, 1])
left.caption(f"{t('ag_how')}  \n{t('ag_external')}")
with right:  # the shared export: CSV and Excel of exactly this table, written to the audit log
    export_buttons(shown, f"peringkat_opd_{region.name}_{filters.start.isoformat()}_{filters.end.isoformat()}",
                   key="ag_table")

if kiosk.active():  # a wall shows the ranking; its chart and one agency's list are read on a laptop
    st.stop()

# --- chart: resolution rate with its Wilson interval ------------------------------------------------
st.subheader(t("ag_chart"))
chart_data = pd.DataFrame({
    "agency": [agency_label(row) for _, row in table.iterrows()],
    "rate": [pct(v) for v in table["resolution_rate"]],
    "low": (table["ci_low"] * 100).round(1), "high": (table["ci_high"] * 100).round(1),
    "score": (table["score"] * 100).round(1),
    "n": table["actionable"].astype(int), "external": table["agency_kind"] == "external",
    "rate_text": [fmt_pct(v) for v in table["resolution_rate"]],
    "interval_text": [f"{fmt_float(lo * 100, 0)}–{fmt_float(hi * 100, 0)}%"
                      for lo, hi in zip(table["ci_low"], table["ci_high"])],
})


def ranking_figure(chart_data: pd.DataFrame) -> alt.LayerChart:
    order = list(chart_data["agency"])
    y = alt.Y("agency:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    x_scale = alt.Scale(domain=[0, 100])
    tooltip = [alt.Tooltip("agency:N", title=t("ag_col_agency")),
               alt.Tooltip("rate_text:N", title=t("resolution_rate")),
               alt.Tooltip("n:Q", title=t("ag_col_n")), alt.Tooltip("interval_text:N", title=t("ag_interval"))]
    # bars fade where there are few complaints: their rate says little (the interval shows how little)
    bars = alt.Chart(chart_data).mark_bar(cornerRadiusEnd=2, height=14).encode(
        x=alt.X("rate:Q", scale=x_scale, title=t("ag_col_rate")), y=y,
        color=alt.condition("datum.external", alt.value("#9aa5b1"), alt.value("#2a7ab9")),
        opacity=alt.condition(f"datum.n >= {SOLID_N}", alt.value(0.7), alt.value(0.25)), tooltip=tooltip)
    interval = alt.Chart(chart_data).mark_rule(strokeWidth=2, color="#12395b").encode(
        x=alt.X("low:Q", scale=x_scale), x2="high:Q", y=y, tooltip=tooltip)
    score = alt.Chart(chart_data).mark_tick(thickness=3, size=16, color="#12395b").encode(
        x=alt.X("score:Q", scale=x_scale), y=y, tooltip=tooltip)
    counts = alt.Chart(chart_data).transform_calculate(label="'n=' + datum.n").mark_text(
        align="left", dx=6, fontSize=11, color="#52606d").encode(
        x=alt.X("high:Q", scale=x_scale), y=y, text="label:N")
    return (bars + interval + score + counts).properties(height=max(22 * len(chart_data) + 30, 160))


charts.show(ranking_figure, chart_data)

# --- drill-down: one agency's overdue complaints ----------------------------------------------------
st.subheader(t("ag_drill"))
codes = list(table["agency_code"])
chosen_filter = [a for a in filters.agencies if a in codes]
default = chosen_filter[0] if len(chosen_filter) == 1 else codes[int(table["overdue_now"].to_numpy().argmax())]
if st.session_state.get("ag_agency") not in codes:
    st.session_state["ag_agency"] = default
names = dict(zip(table["agency_code"], [agency_label(row) for _, row in table.iterrows()]))
ranks = dict(zip(table["agency_code"], table["rank"]))
code = st.selectbox(t("ag_choose"), codes, key="ag_agency", format_func=lambda c: f"#{ranks[c]} · {names[c]}")
row = table[table["agency_code"] == code].iloc[0]

m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(t("ag_rank_of"), t("ag_rank_value", rank=fmt_int(row["rank"]), total=fmt_int(len(table))))
m2.metric(t("resolution_rate"), fmt_pct(row["resolution_rate"]), f"n={fmt_int(row['actionable'])}", delta_color="off",
          delta_arrow="off")
m3.metric(t("resolution_sla"), fmt_pct(None if pd.isna(row["sla_compliance"]) else row["sla_compliance"]),
          trend_delta(row["trend_pp"]))
m4.metric(t("median_response"), fmt_hours(None if pd.isna(row["median_response_h"]) else row["median_response_h"]))
m5.metric(t("overdue_now"), fmt_int(row["overdue_now"]))

st.markdown(f"**{t('ag_overdue_list')}**")
overdue = context.query(ranking.agency_overdue, filters, now, code)
if overdue.empty:
    st.success(t("none_overdue"))
else:
    categories = context.query(queries.category_labels, language())
    districts = context.query(queries.district_names)
    listing = pd.DataFrame({
        t("channel"): [label("channel", c) for c in overdue["channel"]],
        t("ag_source_id"): overdue["source_id"].astype(str),
        t("category"): [name_of(categories, c) for c in overdue["category"]],
        t("district"): [name_of(districts, d) for d in overdue["district_code"]],
        t("status"): [label("status", s) for s in overdue["status"]],
        t("received_at"): fmt_dates(overdue["received_at"], tz, with_time=True),
        t("due_at"): fmt_dates(overdue["due_at"], tz, with_time=True),
        t("overdue_by"): [fmt_hours(h) for h in overdue["overdue_h"]],
    })
    links = [f"explorer?complaint={int(i)}" for i in overdue["id"]]
    total = int(row["overdue_now"])
    if total > len(listing):
        st.caption(t("ag_overdue_shown", shown=fmt_int(len(listing)), total=fmt_int(total)))
    st.dataframe(
        listing.assign(**{t("ag_detail"): links}), hide_index=True, use_container_width=True,
        height=min(38 + 35 * len(listing), 460),
        column_config={t("ag_detail"): st.column_config.LinkColumn(display_text=t("ag_open"), width="small")},
    )
    export_buttons(listing, f"lewat_tenggat_{code.lower()}", key="ag_overdue", identifiers=(t("ag_source_id"),))

st.caption(f"{t('last_update')}: {fmt_date(context.query(queries.last_update), tz, with_time=True)}")
