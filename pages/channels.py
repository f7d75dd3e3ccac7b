"""Channel health: is every feed delivering, what did the last runs do, and what is in quarantine."""
from __future__ import annotations

import streamlit as st

from metrics import channels as health_metrics
from metrics.privacy import mask_pii, safe_markdown
from ui import auth, context, kiosk
from ui import filters as ui_filters
from ui.i18n import fmt_date, fmt_dates, fmt_hours, fmt_int, label, register, t

ACTION_ROLES = ("operator", "admin")

register({
    "ch_state_ok": ("Sehat", "Healthy"),
    "ch_state_stale": ("DATA LAMA", "STALE"),
    "ch_state_failing": ("Gagal", "Failing"),
    "ch_state_disabled": ("Nonaktif", "Disabled"),
    "ch_intro": ("Apakah setiap kanal masih mengirim data? Merah = data lama: impor terakhir yang berhasil "
                 "lebih tua dari batas kanal.",
                 "Is every channel still delivering? Red = stale: the last successful import is older than the "
                 "channel's limit."),
    "ch_last_success": ("Berhasil terakhir", "Last success"),
    "ch_never": ("Belum pernah berhasil", "Never succeeded"),
    "ch_ago": ("{value} lalu", "{value} ago"),
    "ch_limit": ("merah setelah {value}", "red after {value}"),
    "ch_every": ("tiap {value}", "every {value}"),
    "ch_mode_api": ("API", "API"),
    "ch_mode_folder": ("folder impor", "drop folder"),
    "ch_mode_none": ("tidak ada sumber", "no source"),
    "ch_last_run": ("Impor terakhir", "Last run"),
    "ch_today": ("Hari ini", "Today"),
    "ch_runs_24h": ("Impor 24 jam", "Runs in 24 h"),
    "ch_failed_short": ("gagal", "failed"),
    "ch_counts": ("baca {read} · baru {inserted} · ubah {updated} · tetap {unchanged} · karantina {quarantined}",
                  "read {read} · new {inserted} · updated {updated} · unchanged {unchanged} · quarantined "
                  "{quarantined}"),
    "ch_last_error": ("Galat terakhir", "Last error"),
    "ch_disabled_list": ("Kanal nonaktif", "Disabled channels"),
    "ch_details": ("Rincian per kanal", "Details per channel"),
    "ch_state": ("Keadaan", "State"),
    "ch_age": ("Umur data", "Data age"),
    "ch_quarantine": ("Karantina", "Quarantine"),
    "ch_quarantine_intro": ("Baris yang tidak bisa dibaca, dengan alasannya. Data pribadi (NIK, telepon, nama, "
                            "alamat) disamarkan.",
                            "Records that could not be read, with the reason. Personal data (NIK, phone, name, "
                            "address) is masked."),
    "ch_quarantine_none": ("Karantina kosong. 👍", "Nothing in quarantine. 👍"),
    "ch_quarantine_shown": ("{shown} dari {total} baris, terbaru dulu", "{shown} of {total} records, newest first"),
    "ch_reason": ("Alasan", "Reason"),
    "ch_raw": ("Data mentah", "Raw content"),
    "ch_source_id": ("ID sumber", "Source ID"),
    "ch_when": ("Waktu", "When"),
    "ch_raw_latest": ("Data mentah terbaru (teks)", "Latest raw records (text)"),
    "ch_quarantine_staff_only": ("Rincian dan data mentah karantina hanya untuk petugas yang masuk (operator, admin).",
                                 "Quarantine details and raw records are for signed-in staff (operators, admins)."),
    "ch_admin": ("Administrasi", "Administration"),
    "ch_admin_intro": ("Jalankan impor kanal sekarang, atau proses ulang karantina setelah pemetaan diperbaiki.",
                       "Poll a channel now, or re-process its quarantine after fixing the mapping."),
    "ch_run_now": ("Jalankan sekarang", "Poll now"),
    "ch_reprocess": ("Proses ulang karantina", "Re-process quarantine"),
    "ch_busy": ("{channel} sedang diproses oleh worker lain; coba lagi sebentar lagi.",
                "{channel} is being polled by another worker; try again shortly."),
    "ch_poll_ok": ("{channel}: impor selesai — {runs} impor, {read} baris dibaca, {inserted} baru, {updated} diubah, "
                   "{quarantined} dikarantina.",
                   "{channel}: poll finished — {runs} run(s), {read} read, {inserted} new, {updated} updated, "
                   "{quarantined} quarantined."),
    "ch_poll_failed": ("{channel}: impor gagal — {error}", "{channel}: poll failed — {error}"),
    "ch_reprocess_done": ("{channel}: {reprocessed} dari {considered} baris diproses ulang ({inserted} baru, "
                          "{updated} diubah, {superseded} sudah ada data lebih baru); {still} tetap di karantina.",
                          "{channel}: {reprocessed} of {considered} records re-processed ({inserted} new, "
                          "{updated} updated, {superseded} superseded by newer data); {still} still quarantined."),
    "ch_reprocess_none": ("{channel}: karantina kosong.", "{channel}: nothing in quarantine."),
    "ch_updated": ("Diperbarui", "Updated"),
})

STATE_ICON = {"ok": ":material/check_circle:", "stale": ":material/error:", "failing": ":material/warning:",
              "disabled": ":material/pause_circle:"}
STATE_COLOR = {"ok": "green", "stale": "red", "failing": "orange", "disabled": "gray"}
STATE_DOT = {"ok": "🟢", "stale": "🔴", "failing": "🟠", "disabled": "⚪"}  # for table cells (plain text)
STATE_BOX = {"ok": st.success, "stale": st.error, "failing": st.warning}
CARDS_PER_ROW = 3

ui_filters.shared()  # app.py's shell (language, sidebar); the filters themselves do not apply here
region = context.region()
tz = region.timezone
now = context.now()


def fmt_minutes(minutes) -> str:
    """A configured duration as people write it: 5 mnt, 1 j, 2 hr (fractions only where needed)."""
    if minutes is None:
        return "–"
    if minutes < 60:
        return f"{fmt_int(minutes)} {t('minutes_short')}"
    if minutes % 1440 == 0:
        return f"{fmt_int(minutes / 1440)} {t('days_short')}"
    if minutes % 60 == 0 and minutes < 2880:
        return f"{fmt_int(minutes / 60)} {t('hours_short')}"
    return fmt_hours(minutes / 60)


def age_text(minutes) -> str:
    return t("ch_never") if minutes is None else t("ch_ago", value=fmt_hours(minutes / 60))


def counts_text(row, prefix: str) -> str:
    return t("ch_counts", **{c: fmt_int(row[f"{prefix}_{c}"]) for c in health_metrics.COUNTS})


def mode_text(mode: str) -> str:
    return " + ".join(t(f"ch_mode_{m}") for m in mode.split("+"))


def draw_card(row) -> None:
    state = row["state"]
    with st.container(border=True):
        st.markdown(f"#### {label('channel', row['channel'])}")
        when = (f" ({fmt_date(row['last_success_at'], tz, with_time=True)})"
                if row["last_success_at"] is not None else "")
        STATE_BOX[state](f"**{t('ch_state_' + state)}** · {t('ch_last_success')}: "
                         f"{age_text(row['age_minutes'])}{when}", icon=STATE_ICON[state])
        st.caption(f"{mode_text(row['mode'])} · {t('ch_every', value=fmt_minutes(row['interval_minutes']))} · "
                   f"{t('ch_limit', value=fmt_minutes(row['stale_after_minutes']))}")
        if row["last_run_state"] is not None:
            st.markdown(f"**{t('ch_last_run')}** ({fmt_date(row['last_run_at'], tz, with_time=True)}): "
                        f"{counts_text(row, 'last')}")
        st.markdown(f"**{t('ch_today')}**: {counts_text(row, 'today')}")
        failed = f" ({fmt_int(row['failed_24h'])} {t('ch_failed_short')})" if row["failed_24h"] else ""
        st.markdown(f"**{t('ch_runs_24h')}**: {fmt_int(row['runs_24h'])}{failed} · "
                    f"**{t('ch_quarantine')}**: {fmt_int(row['open_quarantine'])}")
        if row["problem"]:
            st.caption(f"⚠️ {safe_markdown(row['problem'])}")
        if row["last_error"] and row["error_is_current"]:  # an error may quote the source: masked, literal
            st.caption(f"**{t('ch_last_error')}** ({fmt_date(row['last_error_at'], tz, with_time=True)}): "
                       f"{safe_markdown(row['last_error'][:300])}")


st.title(t("nav_channels"))
st.caption(f"{region.display_name} · {t('ch_intro')}")

notice = st.session_state.pop("ch_notice", None)
if notice:
    getattr(st, notice[0])(notice[1])

health = context.query(health_metrics.channel_health, region.name, now)
counts = health_metrics.state_counts(health)
columns = st.columns(4)
for column, state in zip(columns, health_metrics.STATES):
    column.metric(f":{STATE_COLOR[state]}[{STATE_ICON[state]} {t('ch_state_' + state)}]", fmt_int(counts[state]))

active = health[health["state"] != "disabled"]
for start in range(0, len(active), CARDS_PER_ROW):
    row_columns = st.columns(CARDS_PER_ROW)
    for column, (_, row) in zip(row_columns, active.iloc[start:start + CARDS_PER_ROW].iterrows()):
        with column:
            draw_card(row)
disabled = health[health["state"] == "disabled"]
if not disabled.empty:
    st.caption(f"{STATE_ICON['disabled']} {t('ch_disabled_list')}: "
               + ", ".join(label("channel", c) for c in disabled["channel"]))

with st.expander(t("ch_details")):
    st.dataframe(
        {
            t("channel"): [label("channel", c) for c in health["channel"]],
            t("ch_state"): [f"{STATE_DOT[s]} {t('ch_state_' + s)}" for s in health["state"]],
            t("ch_age"): [age_text(m) if e else "–" for m, e in zip(health["age_minutes"], health["enabled"])],
            t("ch_last_success"): fmt_dates(health["last_success_at"], tz, with_time=True),
            t("ch_last_run"): [counts_text(r, "last") if r["last_run_state"] else "–" for _, r in health.iterrows()],
            t("ch_today"): [counts_text(r, "today") for _, r in health.iterrows()],
            t("ch_runs_24h"): [fmt_int(v) for v in health["runs_24h"]],
            t("ch_last_error"): [mask_pii(e) if e else "" for e in health["last_error"]],
        },
        hide_index=True, width="stretch",
    )

st.subheader(t("ch_quarantine"))
st.caption(t("ch_quarantine_intro"))
with_quarantine = [c for c, n in zip(health["channel"], health["open_quarantine"]) if n]
choice = st.selectbox(t("channel"), ["", *with_quarantine], key="ch_quarantine_channel",
                      format_func=lambda c: label("channel", c) if c else t("all"))
total = context.query(health_metrics.quarantine_total, choice or None)
staff = auth.role_of(auth.current_user()) in ACTION_ROLES
if kiosk.active() or not staff:  # a wall or the public sees how many, never the records: raw source text
    st.markdown(f"**{t('ch_quarantine')}**: {fmt_int(total)}")  # can name a reporter where no mask finds it
    if total and not kiosk.active():
        st.caption(t("ch_quarantine_staff_only"))
elif not total:
    st.success(t("ch_quarantine_none"))
else:
    records = context.query(health_metrics.open_quarantine, choice or None, 200)
    st.caption(t("ch_quarantine_shown", shown=fmt_int(len(records)), total=fmt_int(total)))
    st.dataframe(
        {
            t("ch_when"): fmt_dates(records["created_at"], tz, with_time=True),
            t("channel"): [label("channel", c) for c in records["channel"]],
            t("ch_source_id"): [mask_pii(s) if s else "–" for s in records["source_id"]],
            t("ch_reason"): [mask_pii(r) for r in records["reason"]],  # a reason may quote the bad value
            t("ch_raw"): [" ".join(mask_pii(r).split()) for r in records["raw"]],
        },
        hide_index=True, width="stretch",
    )
    with st.expander(t("ch_raw_latest")):
        for _, record in records.head(10).iterrows():
            st.caption(f"{fmt_date(record['created_at'], tz, with_time=True)} · {label('channel', record['channel'])}"
                       f" · {safe_markdown(record['source_id'] or '–')} · {safe_markdown(record['reason'])}")
            st.code(mask_pii(record["raw"]), language="json")  # field names too: a CSV header can be anything


def _after_action(kind: str, message: str) -> None:
    st.session_state["ch_notice"] = (kind, message)
    context._cached.clear()  # show the new runs at once, not after the cache interval
    st.rerun()


def _channel_actions() -> None:
    """Poll now / re-process quarantine: operators and administrators only (the public wall only looks)."""
    with st.expander(t("ch_admin")):
        st.caption(t("ch_admin_intro"))
        target = st.selectbox(t("channel"), list(health["channel"]), key="ch_admin_channel",
                              format_func=lambda c: label("channel", c))
        run_column, reprocess_column = st.columns(2)
        if run_column.button(t("ch_run_now"), icon="▶️", width="stretch"):
            from connectors.scheduler import poll_channel

            with st.spinner(t("ch_run_now")):
                result = poll_channel(target, region, context.engine())
            name = label("channel", target)
            if result.state == "busy":
                _after_action("warning", t("ch_busy", channel=name))
            elif result.state == "failed":
                _after_action("error", t("ch_poll_failed", channel=name, error=safe_markdown(result.error)))
            else:
                totals = {c: sum(getattr(r, c) for r in result.runs) for c in ("read", "inserted", "updated",
                                                                               "quarantined")}
                _after_action("success", t("ch_poll_ok", channel=name, runs=len(result.runs),
                                           **{k: fmt_int(v) for k, v in totals.items()}))
        if reprocess_column.button(t("ch_reprocess"), icon="🔁", width="stretch"):
            from connectors.scheduler import reprocess_quarantine

            with st.spinner(t("ch_reprocess")):
                done = reprocess_quarantine(target, context.engine(), region)
            name = label("channel", target)
            if not done.considered:
                _after_action("info", t("ch_reprocess_none", channel=name))
            else:
                _after_action("error" if done.error else "success", t(
                    "ch_reprocess_done", channel=name, reprocessed=fmt_int(done.reprocessed),
                    considered=fmt_int(done.considered), inserted=fmt_int(done.inserted), updated=fmt_int(done.updated),
                    superseded=fmt_int(done.superseded), still=fmt_int(done.still_quarantined))
                    + (f" — {safe_markdown(done.error)}" if done.error else ""))


if staff:
    _channel_actions()

st.caption(f"{t('ch_updated')}: {fmt_date(now, tz, with_time=True)}")
