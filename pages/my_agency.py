"""My agency: an agency head's own numbers against the others, trend, overdue cases, where complaints come from,
exports and the monthly scorecard. Agency heads see one agency (their own); administrators choose one."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from metrics import queries
from metrics.privacy import markdown_literal, neutralise_markup, safe_markdown, safe_text
from reports import data
from ui import auth, context
from ui import filters as ui_filters
from ui.charts import date_axis, number_axis
from ui.export import export_buttons
from ui.i18n import fmt_date, fmt_float, fmt_hours, fmt_int, fmt_pct, label, language, register, t

user = auth.require("agency_head", "admin")

register({
    "ma_choose": ("Pilih OPD", "Choose an agency"),
    "ma_no_agency": ("Akun ini belum terhubung ke OPD. Hubungi administrator.",
                     "This account is not linked to an agency. Ask an administrator."),
    "ma_rank": ("Peringkat", "Rank"),
    "ma_rank_value": ("{rank} dari {total}", "{rank} of {total}"),
    "ma_not_ranked": ("–", "–"),
    "ma_vs_city": ("vs kota {value}", "vs city {value}"),
    "ma_points": ("poin", "pts"),
    "ma_standing": ("Posisi di antara OPD", "Standing among agencies"),
    "ma_ranking_note": ("Urutan memakai skor Wilson (tingkat penyelesaian yang dikoreksi untuk jumlah aduan), jadi "
                        "OPD dengan sedikit aduan tidak naik hanya karena kebetulan. Batang = tingkat penyelesaian.",
                        "Ordered by the Wilson score (the resolution rate corrected for the number of complaints), so "
                        "an agency with few complaints does not rise by luck. Bars = resolution rate."),
    "ma_score": ("Tingkat penyelesaian", "Resolution rate"),
    "ma_weekly": ("Aduan masuk dan selesai per minggu (12 minggu terakhir)",
                  "Complaints received and resolved per week (last 12 weeks)"),
    "ma_week": ("Minggu", "Week"),
    "ma_series": ("Seri", "Series"),
    "ma_received": ("Masuk", "Received"),
    "ma_resolved": ("Selesai", "Resolved"),
    "ma_by_channel": ("Aduan masuk per kanal", "Arrivals by channel"),
    "ma_by_category": ("Aduan masuk per kategori", "Arrivals by category"),
    "ma_by_district": ("Asal aduan per kecamatan", "Where complaints come from"),
    "ma_unknown_district": ("{count} aduan tanpa keterangan kecamatan.", "{count} complaints without a district."),
    "ma_overdue": ("Aduan lewat tenggat", "Overdue complaints"),
    "ma_overdue_hint": ("Pilih satu baris untuk melihat rinciannya. Setiap pembukaan rincian dicatat.",
                        "Select a row to see its detail. Every detail view is logged."),
    "ma_age_days": ("Umur (hari)", "Age (days)"),
    "ma_overdue_days": ("Terlambat (hari)", "Overdue (days)"),
    "ma_open_number": ("Buka aduan dengan nomor", "Open a complaint by number"),
    "ma_not_found": ("Aduan {number} tidak ditemukan di OPD ini.", "Complaint {number} is not in this agency."),
    "ma_detail": ("Rincian aduan", "Complaint detail"),
    "ma_title": ("Judul", "Title"),
    "ma_body": ("Isi aduan", "Complaint text"),
    "ma_subdistrict": ("Kelurahan", "Sub-district"),
    "ma_first_response": ("Respons pertama", "First response"),
    "ma_resolved_at": ("Diselesaikan", "Resolved at"),
    "ma_reporter": ("Identitas pelapor", "Reporter"),
    "ma_reporter_none": ("Tidak ada data identitas pelapor.", "No reporter identity on record."),
    "ma_confidential": ("Laporan RAHASIA: identitas pelapor tidak pernah ditampilkan dan data pribadi dalam teks "
                        "disamarkan.", "CONFIDENTIAL report: the reporter's identity is never shown and personal "
                        "data in the text is masked."),
    "ma_anonymous": ("Laporan anonim: pelapor tidak mencantumkan identitas.", "Anonymous report: no identity given."),
    "ma_masked_note": ("Data pribadi disamarkan: identitas pelapor hanya untuk Kepala OPD yang menangani aduan ini.",
                       "Personal data is masked: reporter identity is for the head of the handling agency only."),
    "ma_name": ("Nama", "Name"),
    "ma_nik": ("NIK", "NIK"),
    "ma_phone": ("Telepon", "Phone"),
    "ma_email": ("E-mail", "E-mail"),
    "ma_address": ("Alamat", "Address"),
    "ma_ranking_table": ("Tabel peringkat OPD", "Agency league table"),
    "ma_median_h": ("Median respons (jam)", "Median response (hours)"),
    "ma_rate_pct": ("Penyelesaian (%)", "Resolved (%)"),
    "ma_sla_pct": ("Tepat waktu (%)", "On time (%)"),
    "ma_scorecard": ("Kartu kinerja bulanan (PDF)", "Monthly scorecard (PDF)"),
    "ma_month": ("Bulan", "Month"),
    "ma_scorecard_button": ("Unduh kartu kinerja", "Download scorecard"),
    "ma_scorecard_help": ("PDF dalam Bahasa Indonesia/Inggris sesuai bahasa tampilan; tanpa data pribadi.",
                          "PDF in the interface language; no personal data."),
})

region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()
engine = context.engine()
names = context.query(queries.agency_names)


def busiest(codes: list[str]) -> str:
    """The agency with the most complaints in the period: where an administrator most likely wants to look."""
    ranking = context.query(queries.agency_ranking, replace(filters, agencies=()), now, tz)
    if ranking.empty:
        return codes[0]
    return str(ranking.sort_values("received", ascending=False).iloc[0]["agency_code"])


def choose_agency() -> str | None:
    if user.role == "agency_head":
        return user.agency_code
    codes = sorted(names, key=lambda c: names[c])
    if st.session_state.get("ma_agency") not in codes:
        st.session_state["ma_agency"] = filters.agencies[0] if len(filters.agencies) == 1 else busiest(codes)
    return st.selectbox(t("ma_choose"), codes, key="ma_agency", format_func=lambda c: names.get(c, c))


agency = choose_agency()
if not agency:
    st.error(t("ma_no_agency"))
    st.stop()
scoped = data.for_agency(filters, agency)

st.title(f"{t('nav_my_agency')} · {names.get(agency, agency)}")
st.caption(f"{region.display_name} · {fmt_date(filters.start)} – {fmt_date(filters.end)}")


# --- standing against the city ----------------------------------------------------------------------------

def versus_city(value, city, formatter=fmt_pct) -> str | None:
    """'+3,1 poin vs kota 92%' as a metric delta (the leading sign colours the arrow)."""
    if value is None or city is None or pd.isna(value) or pd.isna(city):
        return None
    change = (value - city) * 100
    return f"{'+' if change >= 0 else '-'}{fmt_float(abs(change))} {t('ma_points')} " \
           f"{t('ma_vs_city', value=formatter(city))}"


own = context.query(queries.headline, scoped, now, tz)
standing = context.query(data.standing, filters, agency, now, tz)
city = standing.city
cols = st.columns(5)
rank_text = t("ma_rank_value", rank=standing.rank, total=standing.of) if standing.rank else t("ma_not_ranked")
cols[0].metric(t("ma_rank"), rank_text)
cols[1].metric(t("resolution_rate"), fmt_pct(own.resolution_rate), versus_city(own.resolution_rate,
                                                                               city.resolution_rate))
cols[2].metric(t("resolution_sla"), fmt_pct(own.resolution_sla), versus_city(own.resolution_sla, city.resolution_sla))
response_delta = None
if own.response_median_h is not None and city.response_median_h is not None:
    gap = own.response_median_h - city.response_median_h
    response_delta = f"{'+' if gap >= 0 else '-'}{fmt_hours(abs(gap))} " \
                     f"{t('ma_vs_city', value=fmt_hours(city.response_median_h))}"
cols[3].metric(t("median_response"), fmt_hours(own.response_median_h), response_delta, delta_color="inverse")
cols[4].metric(t("overdue_now"), fmt_int(own.overdue_now))


def ranking_section() -> None:
    ranking = context.query(queries.agency_ranking, replace(filters, agencies=()), now, tz)
    if ranking.empty:
        return
    st.subheader(t("ma_standing"))
    chart_data = pd.DataFrame({"agency": [f"{r}. {a}" for r, a in zip(ranking["rank"], ranking["agency"])],
                               "rate": ranking["resolution_rate"].astype(float) * 100,
                               "mine": ranking["agency_code"] == agency})
    chart = alt.Chart(chart_data).mark_bar(height=12).encode(
        y=alt.Y("agency:N", sort=list(chart_data["agency"]), title=None,
                axis=alt.Axis(labelLimit=220, labelOverlap=False)),
        x=alt.X("rate:Q", title=t("ma_rate_pct"), scale=alt.Scale(domain=[0, 100])),
        color=alt.condition(alt.datum.mine, alt.value("#d9822b"), alt.value("#1f3a5f")),
        tooltip=[alt.Tooltip("agency:N", title=t("agency")), alt.Tooltip("rate:Q", title=t("ma_rate_pct"),
                                                                         format=".1f")],
    ).properties(height=max(160, 20 * len(chart_data)))
    st.altair_chart(chart, width="stretch")
    st.caption(t("ma_ranking_note"))
    with st.expander(t("ma_ranking_table")):
        table = pd.DataFrame({
            "#": ranking["rank"].astype(int), t("agency"): ranking["agency"],
            t("received"): ranking["received"].astype(int), t("resolved"): ranking["resolved"].astype(int),
            t("ma_rate_pct"): [None if pd.isna(v) else round(v * 100, 1) for v in ranking["resolution_rate"]],
            t("ma_sla_pct"): [None if pd.isna(v) else round(v * 100, 1) for v in ranking["sla_compliance"]],
            t("ma_median_h"): [None if pd.isna(v) else round(v, 1) for v in ranking["median_response_h"]],
            t("overdue_now"): ranking["overdue_now"].astype(int),
        })
        st.dataframe(table, hide_index=True, width="stretch")
        export_buttons(table, "peringkat_opd", key="ma_ranking")


ranking_section()


# --- trend ------------------------------------------------------------------------------------------------

def trend_section() -> None:
    st.subheader(t("ma_weekly"))
    weeks = replace(scoped, start=min(scoped.start, scoped.end - timedelta(days=83)))
    weekly = context.query(data.weekly_flow, weeks, tz)
    long = weekly.melt(id_vars=["week"], value_vars=["received", "resolved"], var_name="series", value_name="count")
    series = {"received": t("ma_received"), "resolved": t("ma_resolved")}
    long["series"] = long["series"].map(series)
    chart = alt.Chart(long).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("week:T", axis=date_axis(t("ma_week"))),
        y=alt.Y("count:Q", axis=number_axis(t("count"))),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=list(series.values()),
                                                                 range=["#1f3a5f", "#2e7d4f"])),
        tooltip=[alt.Tooltip("week:T", title=t("ma_week")), alt.Tooltip("series:N", title=t("ma_series")),
                 alt.Tooltip("count:Q", title=t("count"))],
    ).properties(height=280)
    st.altair_chart(chart, width="stretch")


trend_section()


# --- where complaints come from ---------------------------------------------------------------------------

def bars(frame: pd.DataFrame, labels: dict, color: str) -> None:
    if frame.empty:
        st.info(t("no_data"))
        return
    shown = frame.head(12).assign(label=[labels.get(c, c) if isinstance(c, str) else t("unknown") for c in
                                         frame.head(12)["code"]])
    chart = alt.Chart(shown).mark_bar(color=color, height=14).encode(
        y=alt.Y("label:N", sort=list(shown["label"]), title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("count:Q", axis=number_axis(t("count"))),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("count:Q", title=t("count"))],
    ).properties(height=max(120, 22 * len(shown)))
    st.altair_chart(chart, width="stretch")


left, right = st.columns(2)
with left:
    st.subheader(t("ma_by_channel"))
    channels = context.query(data.arrivals, scoped, tz, "channel")
    bars(channels, {c: label("channel", c) for c in channels["code"] if isinstance(c, str)}, "#1f3a5f")
with right:
    st.subheader(t("ma_by_category"))
    bars(context.query(data.arrivals, scoped, tz, "category"), context.query(queries.category_labels, language()),
         "#2a7ab9")
st.subheader(t("ma_by_district"))
districts = context.query(data.arrivals, scoped, tz, "district")
bars(districts[districts["code"].notna()], context.query(queries.district_names), "#7f8fa6")
unknown = int(districts.loc[districts["code"].isna(), "count"].sum())
if unknown:
    st.caption(t("ma_unknown_district", count=fmt_int(unknown)))


# --- overdue complaints and their detail ------------------------------------------------------------------

def overdue_table(overdue: pd.DataFrame) -> pd.DataFrame:
    """What is shown and exported: codes turned into names, times in local time, no free text."""
    categories = context.query(queries.category_labels, language())
    district_names = context.query(queries.district_names)
    return pd.DataFrame({
        t("id"): overdue["source_id"],
        t("channel"): [label("channel", c) for c in overdue["channel"]],
        t("category"): [categories.get(c, c or "–") for c in overdue["category"]],
        t("district"): [district_names.get(d, "–") for d in overdue["district_code"]],
        t("status"): [label("status", s) for s in overdue["status"]],
        t("received_at"): [r.astimezone(tz).replace(tzinfo=None) for r in overdue["received_at"]],
        t("due_at"): [d.astimezone(tz).replace(tzinfo=None) for d in overdue["due_at"]],
        t("ma_age_days"): overdue["age_days"].round(1),
        t("ma_overdue_days"): overdue["overdue_days"].round(1),
    })


def shown_text(text: str | None, rights: bool) -> str:
    """Unmasked (markup neutralised) for the handling agency's head; masked for everyone else."""
    if not text:
        return "–"
    return neutralise_markup(text) if rights else safe_text(text)


def reporter_block(complaint: dict, rights: bool) -> None:
    st.markdown(f"**{t('ma_reporter')}**")
    if complaint["is_confidential"]:
        st.warning(t("ma_confidential"), icon=":material/lock:")
    elif not rights:
        st.caption(t("ma_masked_note"))
    elif complaint["is_anonymous"]:
        st.caption(t("ma_anonymous"))
    else:
        contact = data.reporter_contact(engine, complaint["id"])
        if not contact:
            st.caption(t("ma_reporter_none"))
            return
        for field in ("name", "nik", "phone", "email", "address"):
            if contact.get(field):
                st.text(f"{t('ma_' + field)}: {neutralise_markup(str(contact[field]))}")


def log_view(complaint: dict, rights: bool) -> None:
    """One audit row per opening of a complaint's detail (reruns of the same view are not new views)."""
    if st.session_state.get("_ma_viewed") == complaint["id"]:
        return
    st.session_state["_ma_viewed"] = complaint["id"]
    auth.log(user, "viewed_detail", complaint_id=complaint["id"],
             obj=f"{complaint['channel']}:{complaint['source_id']}", detail=f"personal_data={rights}")


def detail(complaint_id: int) -> None:
    complaint = data.complaint_detail(engine, complaint_id)
    if complaint is None or complaint["agency_code"] != agency:
        return
    rights = auth.can_see_personal_data(user, complaint["agency_code"], complaint["is_confidential"])
    log_view(complaint, rights)
    categories = context.query(queries.category_labels, language())
    district_names = context.query(queries.district_names)
    with st.container(border=True, key="ma_detail_box"):
        st.subheader(f"{t('ma_detail')} · {label('channel', complaint['channel'])} "
                     f"{markdown_literal(complaint['source_id'])}")
        facts = [
            (t("status"), label("status", complaint["status"])),
            (t("received_at"), fmt_date(complaint["received_at"], tz, with_time=True)),
            (t("due_at"), fmt_date(complaint["resolve_due_at"] or complaint["response_due_at"], tz, with_time=True)),
            (t("category"), categories.get(complaint["category"], complaint["category"] or "–")),
            (t("district"), district_names.get(complaint["district_code"], "–")),
            (t("ma_subdistrict"), shown_text(complaint["subdistrict"], rights)),  # the source's own words
            (t("ma_first_response"), fmt_date(complaint["first_response_at"], tz, with_time=True)),
            (t("ma_resolved_at"), fmt_date(complaint["resolved_at"], tz, with_time=True)),
        ]
        for column, (name, value) in zip(st.columns(4) * 2, facts):
            column.markdown(f"**{name}**  \n{markdown_literal(neutralise_markup(str(value)))}")
        st.markdown(f"**{t('ma_title')}**")
        st.text(shown_text(complaint["title"], rights))
        st.markdown(f"**{t('ma_body')}**")
        st.text(shown_text(complaint["body"], rights))
        reporter_block(complaint, rights)


def find_by_number(number: str) -> int | None:
    from sqlalchemy import select

    from metrics.filters import C

    with engine.connect() as conn:
        return conn.execute(select(C.id).where(C.agency_code == agency, C.source_id == number.strip())
                            .order_by(C.id).limit(1)).scalar_one_or_none()


def overdue_section() -> None:
    st.subheader(t("ma_overdue"))
    overdue = context.query(data.overdue_list, scoped, now, None)
    if overdue.empty:
        st.success(t("none_overdue"))
    else:
        table = overdue_table(overdue)
        st.caption(t("ma_overdue_hint"))
        picked = st.dataframe(
            table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
            key="ma_overdue_table", height=min(38 + 35 * len(table), 420),
            column_config={t("received_at"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                           t("due_at"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
        )
        export_buttons(table, "aduan_lewat_tenggat", key="ma_overdue", identifiers=(t("id"),))
        rows = picked.selection.rows if picked else []
        if rows:
            detail(int(overdue.iloc[rows[0]]["id"]))
            return
    number = st.text_input(t("ma_open_number"), key="ma_number", placeholder="7567363")
    if number:
        complaint_id = find_by_number(number)
        if complaint_id is None:
            st.warning(t("ma_not_found", number=safe_markdown(number[:40])))
        else:
            detail(complaint_id)
    else:
        st.session_state.pop("_ma_viewed", None)


overdue_section()


# --- monthly scorecard -----------------------------------------------------------------------------------

def scorecard_section() -> None:
    from reports.pdf import render_pdf
    from reports.scorecard import build_scorecard

    st.subheader(t("ma_scorecard"))
    today = ui_filters.today()
    months, cursor = [], today.replace(day=1)
    for _ in range(12):
        cursor = (cursor - timedelta(days=1)).replace(day=1)
        months.append(f"{cursor.year:04d}-{cursor.month:02d}")
    month = st.selectbox(t("ma_month"), months, key="ma_month")
    lang, who = language(), user

    def produce() -> bytes:
        pdf = render_pdf(build_scorecard(engine, region, month, agency, lang=lang))
        auth.log(who, "exported", obj=f"scorecard_{month}_{agency}.pdf", detail="monthly scorecard", engine=engine)
        return pdf

    st.download_button(t("ma_scorecard_button"), produce, file_name=f"kartu_kinerja_{month}_{agency.lower()}.pdf",
                       mime="application/pdf", icon=":material/picture_as_pdf:", help=t("ma_scorecard_help"),
                       key="ma_scorecard_download", on_click="ignore")


scorecard_section()
