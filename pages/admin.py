"""Administration: accounts, the audit log, uploads of LAPOR exports and 112 logs, and the monthly scorecards."""
from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from pydantic import ValidationError

from connectors.base import RecordError, SourceError
from connectors.files import MB, UPLOAD_TYPES, UploadRefused, display_name, max_upload_bytes, store_upload
from connectors.files import discard_upload as remove_upload
from connectors.pipeline import describe_error, run_import
from connectors.registry import connector_for
from metrics import queries
from metrics.privacy import markdown_literal, neutralise_markup
from models import auth as accounts
from ui import auth, context
from ui import filters as ui_filters
from ui.export import export_buttons
from ui.i18n import fmt_date, fmt_int, label, language, register, t

user = auth.require("admin")

UPLOAD_CHANNELS = ("lapor", "call112")
ALLOWED_TYPES = UPLOAD_TYPES
PREVIEW_ROWS = 200
# what the pipeline quarantines instead of failing (connectors/pipeline.py)
PARSE_ERRORS = (RecordError, ValidationError, ValueError, TypeError, OverflowError)

register({
    "adm_tab_users": ("Pengguna", "Users"),
    "adm_tab_audit": ("Log audit", "Audit log"),
    "adm_tab_upload": ("Unggah data", "Upload data"),
    "adm_tab_scorecard": ("Kartu kinerja", "Scorecards"),
    "adm_username": ("Nama pengguna", "Username"),
    "adm_role": ("Peran", "Role"),
    "adm_email": ("E-mail (untuk SSO)", "E-mail (for SSO)"),
    "adm_active": ("Aktif", "Active"),
    "adm_created": ("Dibuat", "Created"),
    "adm_last_login": ("Terakhir masuk", "Last sign-in"),
    "adm_new_user": ("Buat akun", "Create an account"),
    "adm_password_repeat": ("Ulangi kata sandi", "Repeat password"),
    "adm_password_differs": ("Kedua kata sandi berbeda.", "The passwords differ."),
    "adm_create": ("Buat akun", "Create account"),
    "adm_created_ok": ("Akun {name} dibuat.", "Account {name} created."),
    "adm_failed": ("Tidak berhasil: {reason}", "Not done: {reason}"),
    "adm_agency_for_head": ("OPD (khusus Kepala OPD)", "Agency (agency heads only)"),
    "adm_none": ("–", "–"),
    "adm_manage": ("Aktifkan / nonaktifkan / atur ulang kata sandi", "Activate / deactivate / reset password"),
    "adm_account": ("Akun", "Account"),
    "adm_deactivate": ("Nonaktifkan", "Deactivate"),
    "adm_activate": ("Aktifkan", "Activate"),
    "adm_not_self": ("Anda tidak dapat menonaktifkan akun sendiri.", "You cannot deactivate your own account."),
    "adm_done": ("Selesai: {name}", "Done: {name}"),
    "adm_new_password": ("Kata sandi baru", "New password"),
    "adm_set_password": ("Atur kata sandi", "Set password"),
    "adm_audit_from": ("Dari tanggal", "From"),
    "adm_audit_to": ("Sampai tanggal", "To"),
    "adm_audit_users": ("Pengguna", "Users"),
    "adm_audit_actions": ("Tindakan", "Actions"),
    "adm_audit_complaint": ("ID aduan (internal)", "Complaint id (internal)"),
    "adm_at": ("Waktu", "Time"),
    "adm_action": ("Tindakan", "Action"),
    "adm_object": ("Objek", "Object"),
    "adm_detail": ("Keterangan", "Detail"),
    "adm_audit_count": ("{count} catatan (terbaru lebih dulu).", "{count} entries (newest first)."),
    "adm_upload_channel": ("Jenis berkas", "Kind of file"),
    "adm_upload_file": ("Berkas ekspor (.xlsx atau .csv, maks. {mb} MB)",
                        "Export file (.xlsx or .csv, at most {mb} MB)"),
    "adm_upload_too_big": ("Berkas {mb} MB melebihi batas {limit} MB.", "The file is {mb} MB, over the {limit} MB limit."),
    "adm_upload_bad_type": ("Jenis berkas tidak didukung: unggah ekspor .xlsx atau .csv.",
                            "Unsupported file type: upload an .xlsx or .csv export."),
    "adm_upload_mismatch": ("Isi berkas tidak sesuai ekstensinya (.{ext}). Simpan ulang sebagai .xlsx atau .csv.",
                            "The file's content does not match its extension (.{ext}). Save it again as .xlsx or .csv."),
    "adm_preview": ("Pratinjau: {n} baris pertama seperti dibaca konektor", "Preview: the first {n} rows as the connector reads them"),
    "adm_preview_ok": ("Terbaca baik", "Parsed OK"),
    "adm_preview_quarantine": ("Akan dikarantina", "Would be quarantined"),
    "adm_row": ("Baris", "Row"),
    "adm_result": ("Hasil", "Result"),
    "adm_reason": ("Alasan", "Reason"),
    "adm_ok": ("OK", "OK"),
    "adm_quarantine": ("Karantina", "Quarantine"),
    "adm_unreadable": ("Berkas tidak dapat dibaca: {reason}", "The file cannot be read: {reason}"),
    "adm_already": ("Berkas yang sama persis sudah diimpor pada {when}; impor ulang tidak menambah data baru.",
                    "This exact file was imported on {when}; importing it again adds nothing new."),
    "adm_confirm": ("Impor sekarang", "Import now"),
    "adm_cancel": ("Batal", "Cancel"),
    "adm_summary": ("Hasil impor", "Import summary"),
    "adm_read": ("Dibaca", "Read"),
    "adm_inserted": ("Baru", "Inserted"),
    "adm_updated": ("Diperbarui", "Updated"),
    "adm_unchanged": ("Tidak berubah", "Unchanged"),
    "adm_quarantined": ("Dikarantina", "Quarantined"),
    "adm_import_failed": ("Impor gagal, tidak ada data yang disimpan: {reason}",
                          "The import failed and stored nothing: {reason}"),
    "adm_reasons": ("Alasan karantina", "Quarantine reasons"),
    "adm_quarantined_rows": ("Baris yang dikarantina (tanpa isi aduan)", "Quarantined rows (no complaint text)"),
    "adm_month": ("Bulan", "Month"),
    "action_login": ("Masuk", "Signed in"),
    "action_login_failed": ("Gagal masuk", "Sign-in refused"),
    "action_logout": ("Keluar", "Signed out"),
    "action_viewed_detail": ("Membuka rincian aduan", "Viewed complaint detail"),
    "action_exported": ("Ekspor", "Exported"),
    "action_uploaded": ("Unggah data", "Uploaded data"),
    "action_user_created": ("Akun dibuat", "Account created"),
    "action_user_deactivated": ("Akun dinonaktifkan", "Account deactivated"),
    "action_user_activated": ("Akun diaktifkan", "Account activated"),
    "action_password_changed": ("Kata sandi diubah", "Password changed"),
    "adm_scorecard_scope": ("Cakupan", "Scope"),
    "adm_scope_city": ("Kota (ringkasan)", "City (summary)"),
    "adm_scope_all": ("Kota dan setiap OPD", "City and every agency"),
    "adm_scorecard_button": ("Unduh kartu kinerja (PDF)", "Download scorecard (PDF)"),
})

region = context.region()
tz = region.timezone
engine = context.engine()

st.title(t("nav_admin"))
users_tab, audit_tab, upload_tab, scorecard_tab = st.tabs(
    [t("adm_tab_users"), t("adm_tab_audit"), t("adm_tab_upload"), t("adm_tab_scorecard")])


def local(moment):
    return None if moment is None or pd.isna(moment) else moment.astimezone(tz).replace(tzinfo=None)


# --- users ------------------------------------------------------------------------------------------------

def users_table() -> pd.DataFrame:
    names = context.query(queries.agency_names)
    rows = accounts.list_users(engine)
    return pd.DataFrame({
        t("adm_username"): [r["username"] for r in rows],
        t("adm_role"): [t(f"role_{r['role']}") for r in rows],
        t("agency"): [names.get(r["agency_code"], r["agency_code"] or "–") for r in rows],
        t("adm_email"): [r["email"] or "–" for r in rows],
        t("adm_active"): [bool(r["active"]) for r in rows],
        t("adm_created"): [local(r["created_at"]) for r in rows],
        t("adm_last_login"): [local(r["last_login_at"]) for r in rows],
    })


def create_user_form() -> None:
    names = context.query(queries.agency_names)
    with st.form("adm_create_user", clear_on_submit=True):
        st.markdown(f"**{t('adm_new_user')}**")
        a, b = st.columns(2)
        username = a.text_input(t("adm_username"), key="adm_new_username")
        role = b.selectbox(t("adm_role"), accounts.ACCOUNT_ROLES, key="adm_new_role",
                           format_func=lambda r: t(f"role_{r}"))
        agency = a.selectbox(t("adm_agency_for_head"), [""] + sorted(names, key=names.get), key="adm_new_agency",
                             format_func=lambda c: names.get(c, t("adm_none")))
        email = b.text_input(t("adm_email"), key="adm_new_email")
        password = a.text_input(t("auth_password"), type="password", key="adm_new_password",
                                autocomplete="new-password")
        repeat = b.text_input(t("adm_password_repeat"), type="password", key="adm_new_repeat",
                              autocomplete="new-password")
        submitted = st.form_submit_button(t("adm_create"), type="primary")
    if submitted:
        create_user(username, role, agency if role == "agency_head" else None, email, password, repeat)


def create_user(username, role, agency, email, password, repeat) -> None:
    if password != repeat:
        st.error(t("adm_password_differs"))
        return
    try:
        account = accounts.create_user(engine, username, password, role, agency, email or None)
    except accounts.AccountError as exc:
        st.error(t("adm_failed", reason=markdown_literal(exc)))
        return
    auth.log(user, "user_created", obj=account.username, detail=f"role={account.role} agency={account.agency_code}")
    st.success(t("adm_created_ok", name=account.username))


def manage_users() -> None:
    rows = accounts.list_users(engine)
    if not rows:
        return
    with st.expander(t("adm_manage")):
        chosen = st.selectbox(t("adm_account"), [r["username"] for r in rows], key="adm_manage_user")
        a, b = st.columns(2)
        if a.button(t("adm_deactivate"), key="adm_deactivate"):
            change_active(chosen, False)
        if b.button(t("adm_activate"), key="adm_activate"):
            change_active(chosen, True)
        with st.form("adm_password_form", clear_on_submit=True):
            password = st.text_input(t("adm_new_password"), type="password", key="adm_reset_password",
                                     autocomplete="new-password")
            if st.form_submit_button(t("adm_set_password")):
                try:
                    accounts.set_password(engine, chosen, password)
                    auth.log(user, "password_changed", obj=chosen)
                    st.success(t("adm_done", name=chosen))
                except accounts.AccountError as exc:
                    st.error(t("adm_failed", reason=markdown_literal(exc)))


def change_active(username: str, active: bool) -> None:
    if not active and username == user.username:
        st.error(t("adm_not_self"))
        return
    accounts.set_active(engine, username, active)
    auth.log(user, "user_activated" if active else "user_deactivated", obj=username)
    st.success(t("adm_done", name=username))


with users_tab:
    create_user_form()
    manage_users()
    table = users_table()
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={t("adm_created"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                                t("adm_last_login"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")})


# --- audit log --------------------------------------------------------------------------------------------

def action_labels() -> dict[str, str]:
    return {action: t(f"action_{action}") for action in accounts.ACTIONS}


def audit_section() -> None:
    today = ui_filters.today()
    a, b, c, d, e = st.columns([1, 1, 2, 2, 1])
    start = a.date_input(t("adm_audit_from"), today - timedelta(days=6), key="adm_audit_from", max_value=today)
    end = b.date_input(t("adm_audit_to"), today, key="adm_audit_to", max_value=today)
    usernames = c.multiselect(t("adm_audit_users"), [r["username"] for r in accounts.list_users(engine)] + ["wall"],
                              key="adm_audit_users", placeholder=t("all"))
    actions = d.multiselect(t("adm_audit_actions"), accounts.ACTIONS, key="adm_audit_actions", placeholder=t("all"),
                            format_func=action_labels().get)
    complaint = e.number_input(t("adm_audit_complaint"), min_value=0, step=1, value=0, key="adm_audit_complaint")
    begin = datetime.combine(min(start, end), time.min, tz)
    finish = datetime.combine(max(start, end) + timedelta(days=1), time.min, tz)
    rows = accounts.read_audit(engine, begin, finish, tuple(usernames), tuple(actions), int(complaint) or None)
    table = pd.DataFrame({
        t("adm_at"): [local(r["at"]) for r in rows],
        t("adm_username"): [r["username"] for r in rows],
        t("adm_action"): [action_labels().get(r["action"], r["action"]) for r in rows],
        "ID": [r["complaint_id"] for r in rows],
        t("adm_object"): [neutralise_markup(r["object"]) if r["object"] else "" for r in rows],
        t("adm_detail"): [neutralise_markup(r["detail"]) if r["detail"] else "" for r in rows],
    })
    st.caption(t("adm_audit_count", count=fmt_int(len(table))))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={t("adm_at"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm:ss")})
    export_buttons(table, "log_audit", key="adm_audit")


with audit_tab:
    audit_section()


# --- uploads ------------------------------------------------------------------------------------------------

def save_upload(uploaded) -> dict | None:
    """Check size, type and content (connectors.files.store_upload, the checks every import passes), then keep
    the bytes as upload.<ext> in a fresh private folder; the browser's file name is only a label."""
    content = uploaded.getvalue()
    try:
        path = store_upload(content, uploaded.name, ALLOWED_TYPES)
    except SourceError as exc:
        code, params = (exc.code, exc.params) if isinstance(exc, UploadRefused) else ("unreadable", {})
        message = {"too_big": lambda: t("adm_upload_too_big", mb=fmt_int(math.ceil(params["mb"])),
                                        limit=params["limit"]),
                   "bad_type": lambda: t("adm_upload_bad_type"),
                   "mismatch": lambda: t("adm_upload_mismatch", ext=params["ext"])}.get(code)
        st.error(message() if message else t("adm_unreadable", reason=markdown_literal(exc)))
        return None
    return {"file_id": uploaded.file_id, "path": str(path), "sha256": hashlib.sha256(content).hexdigest(),
            "label": display_name(uploaded.name), "size": len(content)}


def discard_upload() -> None:
    pending = st.session_state.pop("adm_pending", None)
    if pending:
        remove_upload(pending["path"])


def preview(channel: str, path: str) -> pd.DataFrame:
    """The first rows through the connector's own parse: what would be stored and what quarantined, and why."""
    connector = connector_for(channel, region, source=path)
    categories = context.query(queries.category_labels, language())
    districts = context.query(queries.district_names)
    rows = []
    for raw in connector.fetch(None):
        row = {t("adm_row"): raw.get("_row"), t("id"): connector.source_id_of(raw) or "–"}
        try:
            record = connector.parse(raw)
        except PARSE_ERRORS as exc:
            row.update({t("adm_result"): t("adm_quarantine"), t("adm_reason"): describe_error(exc)})
        else:
            row.update({t("adm_result"): t("adm_ok"), t("adm_reason"): "",
                        t("received_at"): local(record.received_at),
                        t("category"): categories.get(record.category, record.category or "–"),
                        t("district"): districts.get(record.district_code, "–"),
                        t("agency"): record.agency_code or "–", t("status"): label("status", record.status)})
        rows.append(row)
        if len(rows) >= PREVIEW_ROWS:
            break
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    text_columns = [c for c in frame.columns if c != t("received_at")]
    frame[text_columns] = frame[text_columns].astype(object).where(frame[text_columns].notna(), "")
    quarantined = frame[t("adm_result")] == t("adm_quarantine")
    return pd.concat([frame[quarantined], frame[~quarantined]], ignore_index=True)  # problems first


def previous_import(sha256: str):
    from sqlalchemy import select

    from models import ImportRun

    runs = ImportRun.__table__.c
    with engine.connect() as conn:
        return conn.execute(select(runs.finished_at).where(runs.source_sha256 == sha256, runs.state == "succeeded")
                            .order_by(runs.finished_at.desc()).limit(1)).scalar_one_or_none()


def show_preview(channel: str, pending: dict) -> bool:
    """True when the preview could be made (the file is readable)."""
    try:
        frame = preview(channel, pending["path"])
    except SourceError as exc:
        st.error(t("adm_unreadable", reason=markdown_literal(exc)))
        return False
    ok = int((frame[t("adm_result")] == t("adm_ok")).sum()) if not frame.empty else 0
    st.subheader(t("adm_preview", n=fmt_int(len(frame))))
    a, b = st.columns(2)
    a.metric(t("adm_preview_ok"), fmt_int(ok))
    b.metric(t("adm_preview_quarantine"), fmt_int(len(frame) - ok))
    st.dataframe(frame, hide_index=True, width="stretch", height=320,
                 column_config={t("received_at"): st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
                                t("adm_reason"): st.column_config.TextColumn(width="large")})
    earlier = previous_import(pending["sha256"])
    if earlier:
        st.info(t("adm_already", when=fmt_date(earlier, tz, with_time=True)))
    return True


def do_import(channel: str, pending: dict) -> None:
    source = f"upload:{pending['label']}"
    try:
        summary = run_import(connector_for(channel, region, source=pending["path"]), engine, source=source,
                             source_sha256=pending["sha256"])
    except Exception as exc:  # noqa: BLE001 - show it; the pipeline has already rolled back and recorded the run
        summary = None
        st.session_state["adm_summary"] = {"channel": channel, "state": "failed", "error": describe_error(exc)}
    if summary is not None:
        st.session_state["adm_summary"] = {**summary.as_dict(), "channel": channel}
    result = st.session_state["adm_summary"]
    auth.log(user, "uploaded", obj=f"{channel}:{pending['label']}", detail=json.dumps(
        {k: result.get(k) for k in ("state", "run_id", "read", "inserted", "updated", "unchanged", "quarantined",
                                    "error")}, ensure_ascii=False))
    discard_upload()
    st.session_state["adm_uploader"] = st.session_state.get("adm_uploader", 0) + 1  # a fresh, empty uploader
    st.cache_data.clear()  # every dashboard shows the new data at once


def quarantined_rows(run_id: int) -> pd.DataFrame:
    from sqlalchemy import select

    from models import QuarantinedRecord

    q = QuarantinedRecord.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(q.source_id, q.reason).where(q.run_id == run_id).order_by(q.id).limit(500)).all()
    return pd.DataFrame(rows, columns=[t("id"), t("adm_reason")])


def show_summary(result: dict) -> None:
    st.subheader(t("adm_summary"))
    if result.get("state") != "succeeded":
        st.error(t("adm_import_failed", reason=markdown_literal(result.get("error") or "?")))
        return
    cols = st.columns(5)
    for column, key, name in zip(cols, ("read", "inserted", "updated", "unchanged", "quarantined"),
                                 ("adm_read", "adm_inserted", "adm_updated", "adm_unchanged", "adm_quarantined")):
        column.metric(t(name), fmt_int(result.get(key, 0)))
    reasons = result.get("quarantine_reasons") or {}
    if reasons:
        st.markdown(f"**{t('adm_reasons')}**")
        st.dataframe(pd.DataFrame({t("adm_reason"): list(reasons), t("count"): list(reasons.values())}),
                     hide_index=True, width="stretch")
        st.markdown(f"**{t('adm_quarantined_rows')}**")
        st.dataframe(quarantined_rows(result["run_id"]), hide_index=True, width="stretch", height=240)


def upload_section() -> None:
    channel = st.radio(t("adm_upload_channel"), UPLOAD_CHANNELS, key="adm_channel", horizontal=True,
                       format_func=lambda c: label("channel", c))
    limit_mb = max_upload_bytes() // MB
    uploaded = st.file_uploader(t("adm_upload_file", mb=limit_mb), type=list(ALLOWED_TYPES),
                                max_upload_size=limit_mb, key=f"adm_file_{st.session_state.get('adm_uploader', 0)}")
    if "adm_summary" in st.session_state and uploaded is None:
        show_summary(st.session_state["adm_summary"])
    if uploaded is None:
        discard_upload()
        return
    st.session_state.pop("adm_summary", None)
    pending = st.session_state.get("adm_pending")
    if pending is None or pending["file_id"] != uploaded.file_id:
        discard_upload()
        pending = save_upload(uploaded)
        if pending is None:
            return
        st.session_state["adm_pending"] = pending
    if not show_preview(channel, pending):
        return
    a, b = st.columns([1, 5])
    if a.button(t("adm_confirm"), type="primary", key="adm_confirm"):
        with st.spinner():
            do_import(channel, pending)
        st.rerun()
    if b.button(t("adm_cancel"), key="adm_cancel"):
        discard_upload()
        st.session_state["adm_uploader"] = st.session_state.get("adm_uploader", 0) + 1
        st.rerun()


with upload_tab:
    upload_section()


# --- scorecards -------------------------------------------------------------------------------------------

def scorecard_section() -> None:
    from reports.pdf import render_pdf
    from reports.scorecard import ALL, build_scorecard

    today = ui_filters.today()
    months, cursor = [], today.replace(day=1)
    for _ in range(12):
        cursor = (cursor - timedelta(days=1)).replace(day=1)
        months.append(f"{cursor.year:04d}-{cursor.month:02d}")
    names = context.query(queries.agency_names)
    a, b = st.columns(2)
    month = a.selectbox(t("adm_month"), months, key="adm_month")
    scopes = ["", ALL] + sorted(names, key=names.get)
    scope_names = {"": t("adm_scope_city"), ALL: t("adm_scope_all"), **names}
    scope = b.selectbox(t("adm_scorecard_scope"), scopes, key="adm_scope", format_func=scope_names.get)
    lang, who = language(), user

    def produce() -> bytes:
        pdf = render_pdf(build_scorecard(engine, region, month, scope or None, lang=lang))
        auth.log(who, "exported", obj=f"scorecard_{month}_{scope or 'kota'}.pdf", detail="monthly scorecard",
                 engine=engine)
        return pdf

    st.download_button(t("adm_scorecard_button"), produce, file_name=f"kartu_kinerja_{month}_{(scope or 'kota').lower()}.pdf",
                       mime="application/pdf", icon=":material/picture_as_pdf:", key="adm_scorecard_download",
                       on_click="ignore")


with scorecard_tab:
    scorecard_section()
