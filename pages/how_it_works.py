"""How it works: channels -> connectors -> database -> dashboards, what each channel brings, and how another
region adopts Sigap. Written for visiting delegations (studi tiru) and the Diskominfo team that would run it."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics import Filters, alerts, queries
from ui import context, kiosk
from ui import filters as ui_filters
from ui.i18n import STRINGS, fmt_date, fmt_int, label, register, t

ROOT = Path(__file__).resolve().parent.parent
register({
    "how_title": ("Cara kerja Sigap", "How Sigap works"),
    "how_intro": ("Setiap kanal pengaduan {region} masuk ke satu basis data lewat konektornya sendiri, lalu tampil di "
                  "dasbor yang sama. Angka di halaman ini dihitung langsung dari basis data saat ini.",
                  "Every complaint channel of {region} flows into one database through its own connector and "
                  "shows up on the same dashboards. The figures on this page come live from the database."),
    "how_flow": ("Alur data", "Data flow"),
    "how_col_channels": ("Kanal", "Channels"),
    "how_col_connectors": ("Konektor", "Connectors"),
    "how_col_dashboards": ("Dasbor", "Dashboards"),
    "how_files": ("Berkas ekspor\\n(.xlsx · .csv)\\ndiambil dari folder",
                  "Exported files\\n(.xlsx · .csv)\\npicked up from a folder"),
    "how_api": ("API JSON\\ndicek berkala", "JSON APIs\\npolled on a schedule"),
    "how_pipeline": ("Pipeline impor\\nvalidasi · tanpa duplikat\\nriwayat status · karantina",
                     "Import pipeline\\nvalidation · no duplicates\\nstatus history · quarantine"),
    "how_database": ("Basis data\\nSQLite / PostgreSQL", "Database\\nSQLite / PostgreSQL"),
    "how_wall": ("Layar dinding", "Wall screen"),
    "how_records": ("{n} catatan", "{n} records"),
    "how_channels": ("Yang dibawa setiap kanal", "What each channel brings"),
    "how_total": ("Total catatan", "Records in total"),
    "how_last_30": ("30 hari terakhir", "Last 30 days"),
    "how_open": ("Terbuka saat ini", "Open now"),
    "how_last_import": ("Impor terakhir", "Last import"),
    "how_never": ("belum pernah", "never"),
    "how_disabled": ("nonaktif", "disabled"),
    "desc_lapor": ("Ekspor \"Laporan Ringkas\" SP4N-LAPOR! (.xlsx) yang diunduh admin, biasanya sekali sehari. "
                   "Waktu tanggapan dihitung dari perubahan status antar-ekspor.",
                   "SP4N-LAPOR! \"Laporan Ringkas\" export (.xlsx), downloaded by the admin, usually daily. Response "
                   "times come from status changes between exports."),
    "desc_call112": ("Log insiden Command Center 112. Panggilan darurat dihitung; panggilan prank, ghost dan silent "
                     "dicatat terpisah agar tidak mengotori statistik aduan.",
                     "Command Center 112 incident log. Emergencies are counted; prank, ghost and silent calls are "
                     "kept apart so they never pollute complaint statistics."),
    "desc_wargaku": ("Aplikasi Wargaku: API JSON yang dicek tiap beberapa menit. OPD wajib merespons dalam 24 jam.",
                     "The Wargaku app: a JSON API polled every few minutes. Agencies must respond within 24 hours."),
    "desc_mediacenter": ("Tiket Media Center: datang langsung, surat, formulir web dan live chat.",
                         "Media Center tickets: walk-ins, letters, the web form and live chat."),
    "desc_social": ("Akun media sosial resmi: sebutan dan pesan yang ditandai tim sebagai aduan.",
                    "Official social-media accounts: mentions and messages the team tags as complaints."),
    "desc_jss": ("Jogja Smart Service: aplikasi, SMS, telepon dan e-mail dengan tim reaksi cepat per OPD.",
                 "Jogja Smart Service: app, SMS, phone and e-mail, with a quick-response team per agency."),
    "desc_open311": ("Standar internasional Open311 GeoReport v2 (requests.json) untuk sistem gaya 311.",
                     "The international Open311 GeoReport v2 standard (requests.json) for 311-style systems."),
    "desc_other": ("Kanal tambahan yang didefinisikan oleh berkas pemetaan kolom, tanpa menulis kode.",
                   "An extra channel defined by a column-mapping file, without writing code."),
    "how_adopt": ("Menerapkan Sigap di daerah Anda", "Adopting Sigap in your region"),
    "how_adopt_intro": ("Semua yang khas daerah ada di satu folder berisi berkas teks biasa. Tim Diskominfo cukup "
                        "menyalin folder contoh dan mengisi berkas-berkas berikut; kode program tidak perlu diubah.",
                        "Everything specific to a region lives in one folder of plain text files. The Diskominfo team "
                        "copies the example folder and fills in the files below; the program code stays the same."),
    "how_step_copy": ("Salin folder `regions/{example}` menjadi `regions/<nama-daerah>` dan jalankan Sigap dengan "
                      "`SIGAP_REGION=<nama-daerah>`.",
                      "Copy the folder `regions/{example}` to `regions/<your-region>` and start Sigap with "
                      "`SIGAP_REGION=<your-region>`."),
    "how_file": ("Berkas", "File"),
    "how_what": ("Isinya", "What goes in it"),
    "how_example": ("Contoh", "Example"),
    "file_region": ("Nama daerah, zona waktu (WIB/WITA/WIT), titik tengah peta, berkas batas wilayah, dan target "
                    "waktu layanan (SLA) per kanal.",
                    "Region name, time zone (WIB/WITA/WIT), map centre, boundary file, and the service-time targets "
                    "(SLA) per channel."),
    "file_districts": ("Daftar kecamatan: kode, nama, ejaan lain yang sering dipakai sumber, titik tengah, jumlah "
                       "penduduk.",
                       "The districts (kecamatan): code, name, other spellings sources use, centre point, "
                       "population."),
    "file_subdistricts": ("Daftar kelurahan/desa dan kecamatannya.", "The sub-districts (kelurahan/desa) and their "
                          "district."),
    "file_agencies": ("Daftar OPD: nama, singkatan, ejaan yang dipakai sumber, dan jenisnya (OPD kota, kantor "
                      "kecamatan, atau instansi luar seperti PLN).",
                      "The agencies (OPD): name, short name, the spellings sources use, and their kind (city agency, "
                      "district office, or an outside body such as PLN)."),
    "file_categories": ("Kategori aduan bersama, dengan label Indonesia dan Inggris serta OPD yang biasa menangani.",
                        "The shared complaint categories, with Indonesian and English labels and the agency that "
                        "usually handles each."),
    "file_category_map": ("Untuk tiap kanal: teks kategori aslinya dipetakan ke kategori bersama (dan OPD bila perlu).",
                          "For each channel: its own category text mapped to a shared category (and an agency where "
                          "needed)."),
    "file_channels": ("Kanal yang dipakai, alamat API atau folder ekspornya, seberapa sering dicek, dan kapan kanal "
                      "dianggap macet.",
                      "The channels you run, their API address or export folder, how often they are checked, and "
                      "when a channel counts as stale."),
    "how_adopt_after": ("Setelah itu, mulai ulang Sigap: halaman Kesehatan kanal menunjukkan apakah setiap kanal "
                        "sudah terbaca, dan data yang belum cocok (kecamatan atau OPD yang tak dikenal) terlihat di "
                        "sana untuk dilengkapi.",
                        "Then restart Sigap: the Channel health page shows whether each channel is being read, and "
                        "records that don't match yet (unknown districts or agencies) show up there to be completed."),
    "how_this_region": ("Konfigurasi {region} saat ini", "{region} as configured today"),
    "how_n_districts": ("Kecamatan", "Districts"),
    "how_n_subdistricts": ("Kelurahan/desa", "Sub-districts"),
    "how_n_agencies": ("OPD", "Agencies"),
    "how_n_categories": ("Kategori", "Categories"),
    "how_n_mappings": ("Baris pemetaan", "Mapping rows"),
    "how_n_channels": ("Kanal aktif", "Channels enabled"),
})

FILES = [("region.toml", "file_region", 'timezone = "Asia/Jakarta"'),
         ("districts.csv", "file_districts", "genteng,Genteng,Kec. Genteng,…"),
         ("subdistricts.csv", "file_subdistricts", "Embong Kaliasin,genteng"),
         ("agencies.csv", "file_agencies", "DISHUB,Dinas Perhubungan,Dishub,…"),
         ("categories.csv", "file_categories", "roads,Jalan Rusak,Damaged roads,DSDABM"),
         ("category_map.csv", "file_category_map", "call112,JALAN RUSAK,roads,"),
         ("channels.toml", "file_channels", "[wargaku] interval_minutes = 2")]
DASHBOARDS = [("pages/overview.py", "nav_overview"), ("pages/map.py", "nav_map"),
              ("pages/response_times.py", "nav_response"), ("pages/agencies.py", "nav_agencies"),
              ("pages/explorer.py", "nav_explorer"), ("pages/channels.py", "nav_channels")]
FILE_CHANNELS = {"lapor"}  # channels that arrive as exported files even without a drop folder


def _dot_text(text: str) -> str:
    """A label inside a DOT string: quotes and backslashes escaped, '\\n' kept as line breaks."""
    return text.replace("\\n", "\0").replace("\\", "\\\\").replace('"', '\\"').replace("\0", "\\n")


def _arrives_by(name: str, settings: dict) -> set[str]:
    ways = set()
    if settings.get("drop_folder") or name in FILE_CHANNELS:
        ways.add("files")
    if settings.get("url"):
        ways.add("api")
    return ways or {"files"}


NODE_STYLE = {  # fill, border, text
    "channel": ("#d7ecff", "#2b6cb0", "#0b2545"), "connector": ("#fff1d6", "#b7791f", "#3d2a00"),
    "pipeline": ("#e2f7ea", "#2f855a", "#0d3321"), "database": ("#e9e3ff", "#6b46c1", "#2a1a5e"),
    "page": ("#ffe3e6", "#c53030", "#4a0d14"),
}


def _node(ident: str, text: str, kind: str, extra: str = "") -> str:
    fill, border, ink = NODE_STYLE[kind]
    return f'{ident} [label="{_dot_text(text)}", fillcolor="{fill}", color="{border}", fontcolor="{ink}"{extra}];'


def _cluster(ident: str, title: str, nodes: list[str]) -> list[str]:
    return [f'subgraph cluster_{ident} {{ label="{_dot_text(title)}"; fontname="Helvetica"; fontcolor="#6f86a6"; '
            'color="#6f86a6"; style="rounded,dashed";', *nodes, "}"]


def flow_dot(channels: dict, records: dict[str, int]) -> str:
    """The picture: enabled channels (with live record counts) -> connectors -> pipeline -> database -> pages.

    Graphviz stacks a rank bottom-up, so nodes and edges are written in reverse to read top-down.
    """
    names = list(reversed(list(channels)))
    pages = [(f"page_{i}", t(key)) for i, (path, key) in enumerate(DASHBOARDS) if (ROOT / path).exists()]
    pages = list(reversed([*pages, ("page_wall", t("how_wall"))]))
    lines = ["digraph sigap {", 'rankdir=LR; bgcolor="transparent"; nodesep=0.25; ranksep=0.7;',
             'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=13, penwidth=1.4, '
             'margin="0.18,0.08"];', 'edge [color="#6f86a6", penwidth=1.3, arrowsize=0.7];']
    lines += _cluster("channels", t("how_col_channels"), [
        _node(f"ch_{name}", f"{label('channel', name)}\\n{t('how_records', n=fmt_int(records.get(name, 0)))}",
              "channel") for name in names])
    lines += _cluster("connectors", t("how_col_connectors"),
                      [_node("files", t("how_files"), "connector"), _node("api", t("how_api"), "connector")])
    lines += [_node("pipeline", t("how_pipeline"), "pipeline"),
              _node("db", t("how_database"), "database", ", shape=cylinder")]
    lines += _cluster("pages", t("how_col_dashboards"), [_node(ident, text, "page") for ident, text in pages])
    lines += [f"ch_{name} -> {way};" for name in names for way in sorted(_arrives_by(name, channels[name]))]
    lines += ["files -> pipeline;", "api -> pipeline;", "pipeline -> db;"]
    lines += [f"db -> {ident};" for ident, _ in pages]
    return "\n".join([*lines, "}"])


def channel_table(now: datetime, tz) -> tuple[dict, dict, dict]:
    """Per channel: all records ever, records in the last 30 days, open now (every kind, 112 calls included)."""
    today = now.astimezone(tz).date()
    every = Filters(date(2000, 1, 1), today, kinds=())
    recent = replace(every, start=today - timedelta(days=29))
    total = context.query(queries.by_channel, every, now, tz)
    last_30 = context.query(queries.received_by_channel, recent, tz)
    return (total["received"].to_dict(), last_30.to_dict(), total["open"].to_dict())


def channel_tiles(enabled: dict, total: dict, last_30: dict, open_now: dict, now: datetime, tz) -> None:
    freshness = context.query(alerts.channel_freshness, region.channels, now).set_index("channel")
    columns = st.columns(min(max(len(enabled), 1), 4))
    for i, name in enumerate(enabled):
        with columns[i % len(columns)].container(border=True):
            st.markdown(f"**{label('channel', name)}**")
            st.caption(t(f"desc_{name}") if f"desc_{name}" in STRINGS else t("desc_other"))
            a, b = st.columns(2)
            a.metric(t("how_total"), fmt_int(total.get(name, 0)))
            b.metric(t("how_last_30"), fmt_int(last_30.get(name, 0)))
            seen = freshness["last_success"].get(name) if name in freshness.index else None
            when = t("how_never") if seen is None or pd.isna(seen) else fmt_date(seen, tz, with_time=True)
            st.caption(f"{t('how_open')}: {fmt_int(open_now.get(name, 0))} · {t('how_last_import')}: {when}")


def adoption() -> None:
    st.subheader(t("how_adopt"))
    st.markdown(t("how_adopt_intro"))
    st.markdown(f"1. {t('how_step_copy', example=region.name)}")
    table = [f"| {t('how_file')} | {t('how_what')} | {t('how_example')} |", "|---|---|---|"]
    table += [f"| `{name}` | {t(key)} | `{example}` |" for name, key, example in FILES]
    st.markdown("\n".join(table))
    st.markdown(t("how_adopt_after"))


def region_counts(enabled: dict) -> None:
    st.subheader(t("how_this_region", region=region.display_name))
    counts = [("how_n_districts", len(region.districts)), ("how_n_subdistricts", len(region.subdistricts)),
              ("how_n_agencies", len(region.agencies)), ("how_n_categories", len(region.categories)),
              ("how_n_mappings", len(region.category_map)), ("how_n_channels", len(enabled))]
    for col, (key, value) in zip(st.columns(len(counts)), counts):
        col.metric(t(key), fmt_int(value))
    st.caption(f"regions/{region.name}/ · " + " · ".join(name for name, _, _ in FILES))


region = context.region()
tz = region.timezone
ui_filters.shared()
now = context.now()
wall = kiosk.active()  # the wall screen shows the picture and the live figures, not the reading
enabled = {name: cfg for name, cfg in region.channels.items() if cfg.get("enabled", True)}
total, last_30, open_now = channel_table(now, tz)

st.title(t("how_title"))
if not wall:
    st.markdown(t("how_intro", region=region.display_name))
    st.subheader(t("how_flow"))
# On the wall: the picture (the kiosk style gives it a height relative to the screen), with the live counts in
# it, and the region's figures; the reading is for laptops.
st.graphviz_chart(flow_dot(enabled, total), width="stretch")
if not wall:
    st.subheader(t("how_channels"))
    channel_tiles(enabled, total, last_30, open_now, now, tz)
    adoption()
region_counts(enabled)
