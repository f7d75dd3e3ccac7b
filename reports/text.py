"""Words and number formats for printed reports, in Bahasa Indonesia (default) and English.

Reports are made outside Streamlit (command line, scheduled jobs), so they carry their own small
vocabulary instead of ui.i18n, which reads the language from a browser session.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
SHORT_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

WORDS: dict[str, tuple[str, str]] = {
    "government": ("PEMERINTAH {region}", "GOVERNMENT OF {region}"),
    "title": ("Kartu Kinerja Penanganan Pengaduan", "Complaint Handling Scorecard"),
    "period": ("Periode", "Period"),
    "all_agencies": ("Seluruh Perangkat Daerah", "All agencies"),
    "generated": ("Dicetak {when} oleh Sigap", "Printed {when} by Sigap"),
    "page": ("Halaman {page} dari {pages}", "Page {page} of {pages}"),
    "no_personal_data": ("Dokumen ini tidak memuat data pribadi pelapor.",
                         "This document contains no personal data of reporters."),
    "summary": ("Ringkasan", "Summary"),
    "indicator": ("Indikator", "Indicator"),
    "change": ("Perubahan", "Change"),
    "city": ("Kota", "City"),
    "received": ("Aduan masuk", "Complaints received"),
    "resolved": ("Aduan selesai", "Complaints resolved"),
    "resolution_rate": ("Tingkat penyelesaian", "Resolution rate"),
    "resolution_sla": ("Selesai tepat waktu (SLA)", "Resolved on time (SLA)"),
    "response_sla": ("Direspons tepat waktu (SLA)", "Answered on time (SLA)"),
    "median_response": ("Median waktu respons", "Median response time"),
    "p90_response": ("P90 waktu respons", "P90 response time"),
    "median_resolution": ("Median waktu penyelesaian", "Median resolution time"),
    "overdue_now": ("Lewat tenggat saat dicetak", "Overdue when printed"),
    "rank": ("Peringkat", "Rank"),
    "rank_of": ("Peringkat {rank} dari {of} OPD", "Rank {rank} of {of} agencies"),
    "not_ranked": ("Belum masuk peringkat (tidak ada aduan pada periode ini)",
                   "Not ranked (no complaints in this period)"),
    "ranking": ("Peringkat Perangkat Daerah", "Agency ranking"),
    "ranking_note": ("Diurutkan menurut batas bawah interval kepercayaan 95% (Wilson) tingkat penyelesaian, "
                     "sehingga OPD dengan sedikit aduan tidak langsung menempati urutan teratas.",
                     "Ordered by the lower bound of the 95% (Wilson) interval of the resolution rate, so an "
                     "agency with few complaints does not top the table by chance."),
    "agency": ("Perangkat Daerah", "Agency"),
    "trend": ("Aduan masuk dan selesai per hari", "Complaints received and resolved per day"),
    "history": ("Enam bulan terakhir", "Last six months"),
    "categories": ("Kategori terbanyak", "Top categories"),
    "districts": ("Kecamatan asal aduan terbanyak", "Districts with most complaints"),
    "unknown_district": ("{count} aduan tanpa keterangan kecamatan.", "{count} complaints without a district."),
    "channels": ("Kanal pengaduan", "Channels"),
    "overdue": ("Aduan lewat tenggat", "Overdue complaints"),
    "overdue_note": ("Posisi per {when}; {shown} dari {total} aduan ditampilkan, paling lama terlambat lebih dulu. "
                     "Tanpa judul, isi, maupun identitas pelapor.",
                     "As of {when}; {shown} of {total} complaints shown, longest overdue first. "
                     "No titles, texts or reporter identities."),
    "none_overdue": ("Tidak ada aduan yang lewat tenggat.", "No complaint is overdue."),
    "id": ("No. aduan", "Complaint no."),
    "channel": ("Kanal", "Channel"),
    "category": ("Kategori", "Category"),
    "district": ("Kecamatan", "District"),
    "status": ("Status", "Status"),
    "received_at": ("Diterima", "Received"),
    "due_at": ("Tenggat", "Due"),
    "late_by": ("Terlambat", "Late by"),
    "count": ("Jumlah", "Count"),
    "day": ("Tanggal", "Date"),
    "month": ("Bulan", "Month"),
    "series_received": ("Masuk", "Received"),
    "series_resolved": ("Selesai", "Resolved"),
    "vs_month": ("vs {month}", "vs {month}"),
    "method": ("Catatan metodologi", "Method notes"),
    "method_text": (
        "Aduan mencakup pengaduan, permintaan informasi dan aspirasi; panggilan Call Center 112 dilaporkan "
        "terpisah. Tingkat penyelesaian = aduan berstatus selesai/ditutup dibagi aduan yang dapat ditindaklanjuti "
        "(tanpa yang diarsipkan atau ditolak). Tepat waktu = selesai atau direspons sebelum tenggat SLA yang "
        "berlaku untuk kanal dan kategorinya (hari kerja, tanpa hari libur nasional); aduan yang masih terbuka "
        "dan sudah melewati tenggat dihitung terlambat. Waktu respons diukur dari aduan diterima hingga "
        "tindak lanjut pertama. Semua waktu dalam {zone}.",
        "Complaints include complaints, information requests and aspirations; Call Center 112 calls are "
        "reported apart. Resolution rate = complaints resolved or closed over actionable complaints (archived "
        "and rejected ones excluded). On time = resolved or answered before the SLA deadline that applies to "
        "the channel and category (working days, public holidays excluded); open complaints past their deadline "
        "count as late. Response time runs from receipt to the first follow-up. All times in {zone}."),
    "better": ("membaik", "better"),
    "worse": ("memburuk", "worse"),
    "hours": ("jam", "h"),
    "days": ("hari", "days"),
    "minutes": ("menit", "min"),
    "city_section": ("Tingkat kota", "City level"),
    "agency_section": ("Tingkat OPD", "Agency level"),
    "unknown": ("Tidak diketahui", "Unknown"),
    "confidential": ("rahasia", "confidential"),
}


def word(key: str, lang: str, **values) -> str:
    pair = WORDS[key]
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def fmt_int(value, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{int(round(value)):,}"
    return text.replace(",", ".") if lang == "id" else text


def fmt_float(value, lang: str, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_pct(value, lang: str, digits: int = 1) -> str:
    return "–" if value is None else f"{fmt_float(value * 100, lang, digits)}%"


def fmt_hours(hours, lang: str) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{fmt_int(hours * 60, lang)} {word('minutes', lang)}"
    if hours < 48:
        return f"{fmt_float(hours, lang)} {word('hours', lang)}"
    return f"{fmt_float(hours / 24, lang)} {word('days', lang)}"


def fmt_days(days, lang: str) -> str:
    return "–" if days is None else f"{fmt_float(days, lang)} {word('days', lang)}"


def fmt_date(value: date | datetime | None, lang: str, tz: ZoneInfo | None = None, with_time: bool = False,
             short: bool = True) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    months = (SHORT_MONTHS if short else MONTHS)[lang if lang in MONTHS else "id"]
    text = f"{value.day} {months[value.month - 1]} {value.year}"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text


def month_label(month: str, lang: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{MONTHS[lang if lang in MONTHS else 'id'][number - 1]} {year}"


def zone_label(tz: ZoneInfo) -> str:
    offset = datetime.now(tz).utcoffset().total_seconds() / 3600
    names = {7: "WIB", 8: "WITA", 9: "WIT"}
    return f"{names[int(offset)]} (UTC+{int(offset)})" if int(offset) in names else tz.key
