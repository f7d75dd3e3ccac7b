"""Complaint explorer: search and page through complaints, open one (also as ?complaint=<id>) with its history.

Complaint texts come masked and neutralised from metrics.explorer and are drawn with st.text only (never
as Markdown or HTML). Reporter data is never loaded; confidential complaints show no text at all.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from metrics import explorer, queries
from metrics.explorer import PAGE_SIZES, PersonalDataSearch
from models import OPEN_STATUSES, Kind, Status
from ui import context
from ui import filters as ui_filters
from ui.i18n import fmt_date, fmt_dates, fmt_hours, fmt_int, label, language, register, t

register({
    "ex_caption": ("{region} · diterima {start} – {end} · waktu dalam {zone}",
                   "{region} · received {start} – {end} · times in {zone}"),
    "ex_search": ("Cari", "Search"),
    "ex_search_placeholder": ("Kata di judul/isi, atau nomor laporan…", "Words in title/text, or a report number…"),
    "ex_status": ("Status", "Status"),
    "ex_kind": ("Jenis", "Kind"),
    "ex_kind_default": ("Aduan (tanpa panggilan 112)", "Complaints (without 112 calls)"),
    "ex_pii_search": ("Pencarian dengan data pribadi (NIK, nomor telepon, e-mail, nama, alamat) tidak diizinkan. "
                      "Cari dengan kata kunci masalah atau nomor laporan.",
                      "Searching by personal data (NIK, phone, e-mail, name, address) is not allowed. "
                      "Search by words describing the problem or by report number."),
    "ex_found": ("{total} aduan · halaman {page} dari {pages}", "{total} complaints · page {page} of {pages}"),
    "ex_page": ("Halaman", "Page"),
    "ex_page_size": ("Per halaman", "Per page"),
    "ex_none": ("Tidak ada aduan yang cocok dengan pencarian dan filter ini.",
                "No complaint matches this search and these filters."),
    "ex_pick": ("Pilih satu baris di tabel untuk melihat detail aduan dan riwayat statusnya.",
                "Choose a row in the table to see the complaint and its status history."),
    "ex_source_id": ("No. laporan", "Report no."),
    "ex_title": ("Judul", "Title"),
    "ex_flags": ("Tanda", "Flags"),
    "ex_confidential": ("Rahasia", "Confidential"),
    "ex_confidential_row": ("RAHASIA — isi tidak ditampilkan", "CONFIDENTIAL — text not shown"),
    "ex_confidential_note": ("Laporan ini bertanda **Rahasia**: identitas pelapor dan isi laporan tidak ditampilkan. "
                             "Yang terlihat hanya kategori, wilayah, OPD dan status.",
                             "This report is marked **Confidential**: the reporter's identity and the text are "
                             "not shown. Only category, area, agency and status are visible."),
    "ex_anonymous": ("Anonim", "Anonymous"),
    "ex_detail": ("Detail aduan", "Complaint detail"),
    "ex_category_raw": ("Kategori di sumber", "Category at source"),
    "ex_not_found": ("Aduan #{id} tidak ditemukan.", "Complaint #{id} was not found."),
    "ex_kind_label": ("Jenis", "Kind"),
    "ex_classification": ("Klasifikasi", "Classification"),
    "ex_subdistrict": ("Kelurahan", "Sub-district"),
    "ex_first_response": ("Respons pertama", "First response"),
    "ex_resolved_at": ("Selesai", "Resolved"),
    "ex_response_due": ("Tenggat respons", "Response due"),
    "ex_resolve_due": ("Tenggat penyelesaian", "Resolution due"),
    "ex_source_detail": ("Sumber", "Source"),
    "ex_text": ("Isi laporan", "Report text"),
    "ex_masked_note": ("Data pribadi di dalam teks disamarkan otomatis ([NIK], [telepon], [email], [nama], [alamat]).",
                       "Personal data in the text is masked automatically ([NIK], [telepon], [email], [nama], "
                       "[alamat])."),
    "ex_no_text": ("(tanpa teks)", "(no text)"),
    "ex_timeline": ("Riwayat status", "Status history"),
    "ex_timeline_empty": ("Belum ada riwayat status.", "No status history yet."),
    "ex_observed_at": ("Waktu", "Time"),
    "ex_from": ("Dari", "From"),
    "ex_to": ("Menjadi", "To"),
    "ex_status_raw": ("Status di sumber", "Status at source"),
    "ex_basis": ("Dasar waktu", "Time basis"),
    "ex_basis_source": ("dari sumber", "from source"),
    "ex_basis_observed": ("teramati saat impor", "seen at import"),
    "ex_overdue_by": ("Lewat tenggat {duration}", "Overdue by {duration}"),
})

ZONES = {7: "WIB", 8: "WITA", 9: "WIT"}
region = context.region()
tz = region.timezone
filters = ui_filters.shared()
now = context.now()
zone = ZONES.get(int(now.astimezone(tz).utcoffset().total_seconds() // 3600), tz.key)


def when(value: datetime | None) -> str:
    return f"{fmt_date(value, tz, with_time=True)} {zone}" if value is not None else "–"


def text_or_dash(value) -> str:
    return value if isinstance(value, str) and value else "–"


def name_of(names: dict, code) -> str:
    return "–" if code is None or (not isinstance(code, str) and pd.isna(code)) else names.get(code, code)


categories = context.query(queries.category_labels, language())
districts = context.query(queries.district_names)
agencies = context.query(queries.agency_names)

st.title(t("nav_explorer"))
st.caption(t("ex_caption", region=region.display_name, start=fmt_date(filters.start), end=fmt_date(filters.end),
             zone=zone))

# --- the page's own filters ---------------------------------------------------------------------
search_col, status_col, kind_col = st.columns([3, 2, 2])
search = search_col.text_input(t("ex_search"), key="ex_q", placeholder=t("ex_search_placeholder"),
                               icon=":material/search:", max_chars=120)
statuses = status_col.multiselect(t("ex_status"), [s.value for s in Status], key="ex_status",
                                  format_func=lambda s: label("status", s), placeholder=t("all"))
kinds = kind_col.multiselect(t("ex_kind"), [k.value for k in Kind], key="ex_kind",
                             format_func=lambda k: label("kind", k), placeholder=t("ex_kind_default"))
try:
    explorer.search_terms(search)
except PersonalDataSearch:
    st.warning(t("ex_pii_search"), icon=":material/privacy_tip:")
    search = ""

page_size = st.session_state.get("ex_size", PAGE_SIZES[0])
signature = (filters, search, tuple(statuses), tuple(kinds), page_size)
if st.session_state.get("ex_signature") != signature:  # new search or filters: back to the first page
    st.session_state["ex_signature"] = signature
    st.session_state["ex_page"] = 1
result = context.query(explorer.explore, filters, tz, now, search, tuple(statuses), tuple(kinds),
                       int(st.session_state.get("ex_page", 1)), page_size)

info, size_col, page_col = st.columns([6, 1, 1], vertical_alignment="bottom")
found = t("ex_found", total=fmt_int(result.total), page=fmt_int(result.page), pages=fmt_int(result.pages))
info.markdown(f"**{found}**  \n{t('ex_pick')}")
size_col.selectbox(t("ex_page_size"), PAGE_SIZES, key="ex_size")
st.session_state["ex_page"] = result.page  # clamped to the pages there are, before the widget is drawn
page_col.number_input(t("ex_page"), min_value=1, max_value=result.pages, step=1, key="ex_page")

rows = result.rows
table_key = f"ex_table_{abs(hash(signature)) % 10**8}_{result.page}"
selected_rows: list[int] = []
if rows.empty:
    st.info(t("ex_none"))
else:
    shown = pd.DataFrame({
        t("received_at"): fmt_dates(rows["received_at"], tz, with_time=True),
        t("channel"): [label("channel", c) for c in rows["channel"]],
        t("ex_title"): [t("ex_confidential_row") if secret else text_or_dash(title)
                        for secret, title in zip(rows["is_confidential"], rows["title"])],
        t("status"): [label("status", s) for s in rows["status"]],
        t("ex_flags"): [" · ".join(flag for flag, on in ((t("overdue"), late), (t("ex_confidential"), secret)) if on)
                        for late, secret in zip(rows["overdue"], rows["is_confidential"])],
        t("category"): [name_of(categories, c) for c in rows["category"]],
        t("district"): [name_of(districts, d) for d in rows["district_code"]],
        t("agency"): [name_of(agencies, a) for a in rows["agency_code"]],
        t("ex_source_id"): rows["source_id"].astype(str),
    })
    event = st.dataframe(
        shown, key=table_key, on_select="rerun", selection_mode="single-row", hide_index=True,
        use_container_width=True, height=38 + 35 * min(len(shown), 25),
        column_config={t("ex_title"): st.column_config.TextColumn(width="large")},
    )
    selected_rows = event.selection.rows
# A newly chosen row opens that complaint and puts it in the URL, so the view can be shared.
token = (table_key, selected_rows[0]) if selected_rows else None
if token and token != st.session_state.get("ex_selection"):
    st.query_params["complaint"] = str(int(rows.iloc[selected_rows[0]]["id"]))
st.session_state["ex_selection"] = token


def closed() -> None:
    """The drawer was dismissed: forget the complaint (the table keeps its selection, see the token)."""
    if "complaint" in st.query_params:
        del st.query_params["complaint"]


def show_detail(detail: dict) -> None:
    badges = st.container(horizontal=True, gap="small")
    with badges:
        is_open = detail["status"] in {s.value for s in OPEN_STATUSES}
        st.badge(label("status", detail["status"]), color="blue" if is_open else "green")
        if detail["is_confidential"]:
            st.badge(t("ex_confidential"), icon=":material/lock:", color="red")
        if detail["is_anonymous"]:
            st.badge(t("ex_anonymous"), icon=":material/visibility_off:", color="gray")
        if detail["overdue"]:
            due = detail["resolve_due_at"] or detail["response_due_at"]
            st.badge(t("ex_overdue_by", duration=fmt_hours((now - due).total_seconds() / 3600)),
                     icon=":material/schedule:", color="orange")
    fields = [
        (t("channel"), label("channel", detail["channel"])),
        (t("ex_source_id"), detail["source_id"]),
        (t("ex_kind_label"), label("kind", detail["kind"])),
        (t("category"), name_of(categories, detail["category"])),
        (t("ex_category_raw"), detail["category_raw"] or "–"),
        (t("ex_classification"), detail["classification"] or "–"),
        (t("district"), name_of(districts, detail["district_code"])),
        (t("ex_subdistrict"), detail["subdistrict"] or "–"),
        (t("agency"), name_of(agencies, detail["agency_code"])),
        (t("status"), label("status", detail["status"])),
        (t("ex_status_raw"), detail["status_raw"] or "–"),
        (t("ex_source_detail"), detail["source_detail"] or "–"),
        (t("received_at"), when(detail["received_at"])),
        (t("ex_first_response"), when(detail["first_response_at"])),
        (t("ex_resolved_at"), when(detail["resolved_at"])),
        (t("ex_response_due"), when(detail["response_due_at"])),
        (t("ex_resolve_due"), when(detail["resolve_due_at"])),
    ]
    for start in range(0, len(fields), 3):
        for cell, (name, value) in zip(st.columns(3), fields[start:start + 3]):
            cell.caption(name)
            cell.text(value)  # the source's own wording: plain text, never Markdown
    st.divider()
    if detail["is_confidential"]:
        st.warning(t("ex_confidential_note"), icon=":material/lock:")
    else:
        st.caption(t("ex_title"))
        st.text(detail["title"] or t("ex_no_text"))
        st.caption(t("ex_text"))
        with st.container(border=True):
            st.text(detail["body"] or t("ex_no_text"))
        st.caption(t("ex_masked_note"))
    st.markdown(f"**{t('ex_timeline')}**")
    timeline = context.query(explorer.status_timeline, int(detail["id"]))
    if timeline.empty:
        st.caption(t("ex_timeline_empty"))
    else:
        st.dataframe(pd.DataFrame({
            t("ex_observed_at"): [when(v) for v in timeline["observed_at"]],
            t("ex_from"): [label("status", s) if text_or_dash(s) != "–" else "–" for s in timeline["previous_status"]],
            t("ex_to"): [label("status", s) for s in timeline["status"]],
            t("ex_status_raw"): [text_or_dash(s) for s in timeline["status_raw"]],
            t("ex_basis"): [t(f"ex_basis_{b}") if b in ("source", "observed") else b for b in timeline["time_basis"]],
        }), hide_index=True, use_container_width=True)


wanted = st.query_params.get("complaint")
if wanted:
    detail = context.query(explorer.complaint_detail, int(wanted) if wanted.isdigit() else -1, now)
    if detail is None:
        st.warning(t("ex_not_found", id=wanted if wanted.isdigit() else "?"))
    else:
        title = f"{t('ex_detail')} · {label('channel', detail['channel'])}"
        st.dialog(title, width=900, position="right", icon=":material/description:",
                  on_dismiss=closed)(show_detail)(detail)

st.caption(f"{t('last_update')}: {fmt_date(context.query(queries.last_update), tz, with_time=True)}")
