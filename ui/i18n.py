"""Interface text in Bahasa Indonesia (default) and English, and locale-aware number and date formatting."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

LANGUAGES = ("id", "en")
_MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# key: (Bahasa Indonesia, English)
STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("Sigap — Pusat Komando Pengaduan", "Sigap — Complaint Command Centre"),
    "language": ("Bahasa", "Language"),
    "nav_overview": ("Ringkasan", "Overview"),
    "nav_map": ("Peta", "Map"),
    "nav_response": ("Waktu respons", "Response times"),
    "nav_agencies": ("Peringkat OPD", "Agency ranking"),
    "nav_explorer": ("Telusuri aduan", "Complaint explorer"),
    "nav_channels": ("Kesehatan kanal", "Channel health"),
    "nav_how": ("Cara kerja", "How it works"),
    "filters": ("Filter", "Filters"),
    "period": ("Periode", "Period"),
    "period_7": ("7 hari terakhir", "Last 7 days"),
    "period_30": ("30 hari terakhir", "Last 30 days"),
    "period_90": ("90 hari terakhir", "Last 90 days"),
    "period_365": ("12 bulan terakhir", "Last 12 months"),
    "period_custom": ("Pilih tanggal", "Custom dates"),
    "dates": ("Tanggal", "Dates"),
    "channel": ("Kanal", "Channel"),
    "district": ("Kecamatan", "District"),
    "agency": ("OPD", "Agency"),
    "category": ("Kategori", "Category"),
    "all": ("Semua", "All"),
    "reset_filters": ("Hapus filter", "Clear filters"),
    "seeding": ("Menyiapkan data contoh Surabaya (sekali saja, ±1 menit)…",
                "Preparing Surabaya sample data (once, about a minute)…"),
    "received": ("Aduan masuk", "Complaints received"),
    "received_today": ("Masuk hari ini", "Received today"),
    "open_now": ("Terbuka saat ini", "Open now"),
    "overdue_now": ("Lewat tenggat", "Overdue now"),
    "resolved": ("Selesai", "Resolved"),
    "resolution_rate": ("Tingkat penyelesaian", "Resolution rate"),
    "median_response": ("Median waktu respons", "Median response time"),
    "p90_response": ("P90 waktu respons", "P90 response time"),
    "median_resolution": ("Median waktu selesai", "Median resolution time"),
    "response_sla": ("Respons tepat waktu", "Answered on time"),
    "resolution_sla": ("Selesai tepat waktu", "Resolved on time"),
    "vs_previous": ("vs periode sebelumnya", "vs previous period"),
    "per_channel": ("Per kanal", "By channel"),
    "trend": ("Aduan masuk per hari", "Complaints received per day"),
    "day": ("Tanggal", "Date"),
    "count": ("Jumlah", "Count"),
    "most_overdue": ("Paling lama lewat tenggat", "Most overdue"),
    "none_overdue": ("Tidak ada aduan yang lewat tenggat. 👍", "Nothing is overdue. 👍"),
    "status": ("Status", "Status"),
    "received_at": ("Diterima", "Received"),
    "due_at": ("Tenggat", "Due"),
    "overdue_by": ("Terlambat", "Overdue by"),
    "age": ("Umur", "Age"),
    "id": ("ID", "ID"),
    "emergency_calls": ("Panggilan 112", "112 calls"),
    "emergency": ("Darurat", "Emergency"),
    "non_emergency_share": ("Bukan darurat (prank/ghost/silent/info)", "Non-emergency (prank/ghost/silent/info)"),
    "last_update": ("Data terakhir masuk", "Last data update"),
    "no_data": ("Belum ada data untuk filter ini.", "No data for these filters yet."),
    "unknown": ("Tidak diketahui", "Unknown"),
    "hours_short": ("j", "h"),
    "days_short": ("hr", "d"),
    "minutes_short": ("mnt", "min"),
    "region": ("Wilayah", "Region"),
    "open": ("Terbuka", "Open"),
    "overdue": ("Lewat tenggat", "Overdue"),
    "kind_complaint": ("Pengaduan", "Complaint"),
    "kind_information_request": ("Permintaan informasi", "Information request"),
    "kind_aspiration": ("Aspirasi", "Aspiration"),
    "kind_emergency_call": ("Panggilan darurat", "Emergency call"),
    "kind_non_emergency_call": ("Panggilan bukan darurat", "Non-emergency call"),
    "status_new": ("Baru", "New"),
    "status_verified": ("Terverifikasi", "Verified"),
    "status_dispatched": ("Didisposisikan", "Dispatched"),
    "status_in_progress": ("Ditindaklanjuti", "In progress"),
    "status_waiting_info": ("Menunggu kelengkapan", "Waiting for information"),
    "status_resolved": ("Selesai", "Resolved"),
    "status_closed": ("Ditutup", "Closed"),
    "status_archived": ("Diarsipkan", "Archived"),
    "status_rejected": ("Ditolak", "Rejected"),
    "channel_lapor": ("SP4N-LAPOR!", "SP4N-LAPOR!"),
    "channel_call112": ("Call Center 112", "Call Center 112"),
    "channel_wargaku": ("Wargaku", "Wargaku"),
    "channel_mediacenter": ("Media Center", "Media Center"),
    "channel_jss": ("Jogja Smart Service", "Jogja Smart Service"),
    "channel_social": ("Media sosial", "Social media"),
    "channel_open311": ("Open311", "Open311"),
}


def language() -> str:
    """The run's language. Read from session state once per run and then kept on the run's context: each read
    took ~50 us and a page formatting a 500-row list made thousands. Streamlit gives every run a new `cursors`
    dict, so the kept value is only believed during the run that stored it."""
    ctx = get_script_run_ctx(suppress_warning=True)
    kept = getattr(ctx, "_sigap_language", None)
    if kept is not None and kept[0] is ctx.cursors:
        return kept[1]
    lang = st.session_state.get("lang") or st.query_params.get("lang", "id")
    lang = lang if lang in LANGUAGES else "id"
    if ctx is not None and st.session_state.get("lang") in LANGUAGES:  # settled (app.py sets it first)
        ctx._sigap_language = (ctx.cursors, lang)
    return lang


def t(key: str, **values) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if language() == "en" else pair[0]
    return text.format(**values) if values else text


def label(prefix: str, code: str | None) -> str:
    """A translated vocabulary label ('status', 'in_progress') falling back to the code itself."""
    if code is None:
        return t("unknown")
    key = f"{prefix}_{code}"
    return t(key) if key in STRINGS else code


def fmt_int(value) -> str:
    if value is None:
        return "–"
    text = f"{int(round(value)):,}"
    return text.replace(",", ".") if language() == "id" else text


def fmt_float(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if language() == "id":  # 1,234.5 -> 1.234,5
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_pct(value, digits: int = 0) -> str:
    return "–" if value is None else f"{fmt_float(value * 100, digits)}%"


def fmt_hours(hours) -> str:
    """Durations as people say them: 45 mnt, 5,2 j, 3,4 hr."""
    if hours is None:
        return "–"
    if hours < 1:
        return f"{fmt_int(hours * 60)} {t('minutes_short')}"
    if hours < 48:
        return f"{fmt_float(hours)} {t('hours_short')}"
    return f"{fmt_float(hours / 24)} {t('days_short')}"


def fmt_date(value: date | datetime | None, tz: ZoneInfo | None = None, with_time: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    months = _MONTHS_EN if language() == "en" else _MONTHS_ID
    text = f"{value.day} {months[value.month - 1]} {value.year}"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text


def fmt_dates(values, tz: ZoneInfo, with_time: bool = False) -> list[str]:
    """fmt_date of a column of UTC moments at once (a 500-row list: 0.15 s one by one)."""
    moments = pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(tz)
    months = pd.Series(_MONTHS_EN if language() == "en" else _MONTHS_ID)
    text = (moments.dt.day.astype("Int64").astype(str) + " "
            + months.reindex(moments.dt.month.fillna(1).astype(int) - 1).to_numpy() + " "
            + moments.dt.year.astype("Int64").astype(str))
    if with_time:
        text = text + " " + moments.dt.strftime("%H:%M")
    return [s if m is not pd.NaT else "–" for s, m in zip(text, moments)]


def register(strings: dict[str, tuple[str, str]]) -> None:
    """Pages add their own (Indonesian, English) strings; a key defined twice must mean the same."""
    for key, pair in strings.items():
        if STRINGS.get(key, pair) != pair:
            raise ValueError(f"i18n key {key!r} registered twice with different text")
        STRINGS[key] = pair
