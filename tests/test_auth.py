"""Accounts and roles: Argon2 hashes, refused passwords, expiring sessions, role -> pages, personal-data rights,
and the audit trail of detail views and exports (SQLite and PostgreSQL; pages through Streamlit's AppTest)."""
from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from models import auth as accounts
from models.auth import Account, AccountError
from tests.conftest import PROJECT_ROOT
from ui import auth as ui_auth

PASSWORDS = {"kadis.dsdabm": "sandi-dsdabm-2026", "admin.kominfo": "sandi-admin-2026",
             "operator.112": "sandi-operator-2026", "kadis.dlh": "sandi-dlh-2026-x"}
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


# --- helpers shared with the other role tests --------------------------------------------------------------

def copy_seeded(seeded_url: str, target: Path) -> str:
    """A private copy of the seeded SQLite database (the backup API copies a consistent snapshot, WAL included)."""
    source = sqlite3.connect(seeded_url.removeprefix("sqlite:///"))
    destination = sqlite3.connect(target)
    with destination:
        source.backup(destination)
    source.close()
    destination.close()
    return f"sqlite:///{target}"


def make_users(engine) -> dict[str, Account]:
    """One account per role (and a second agency head), with the passwords in PASSWORDS."""
    return {
        "agency_head": accounts.create_user(engine, "kadis.dsdabm", PASSWORDS["kadis.dsdabm"], "agency_head", "DSDABM"),
        "admin": accounts.create_user(engine, "admin.kominfo", PASSWORDS["admin.kominfo"], "admin",
                                      email="admin@surabaya.go.id"),
        "operator": accounts.create_user(engine, "operator.112", PASSWORDS["operator.112"], "operator"),
        "other_head": accounts.create_user(engine, "kadis.dlh", PASSWORDS["kadis.dlh"], "agency_head", "DLH"),
    }


def audit_rows(engine, action: str) -> list[dict]:
    return [r for r in accounts.read_audit(engine) if r["action"] == action]


# --- passwords and accounts (SQLite and PostgreSQL) ---------------------------------------------------------

def test_passwords_are_stored_as_argon2id_hashes_only(engine):
    account = accounts.create_user(engine, "  Kadis.DSDABM ", "sandi-yang-cukup-panjang", "agency_head", "dsdabm")
    assert (account.username, account.agency_code) == ("kadis.dsdabm", "DSDABM")
    with engine.connect() as conn:
        stored = conn.execute(select(accounts.AppUser.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "sandi-yang-cukup-panjang" not in stored
    assert accounts.verify_password(stored, "sandi-yang-cukup-panjang")
    assert not accounts.verify_password(stored, "sandi-yang-cukup-panjanG")
    assert not accounts.verify_password("not a hash", "x") and not accounts.verify_password(None, "x")


def test_wrong_password_unknown_user_and_inactive_account_are_all_refused(engine):
    accounts.create_user(engine, "operator.112", "sandi-operator-2026", "operator")
    assert accounts.authenticate(engine, "operator.112", "sandi-operator-2026").role == "operator"
    assert accounts.authenticate(engine, "OPERATOR.112 ", "sandi-operator-2026") is not None
    assert accounts.authenticate(engine, "operator.112", "salah") is None
    assert accounts.authenticate(engine, "nobody", "sandi-operator-2026") is None
    accounts.set_active(engine, "operator.112", False)
    assert accounts.authenticate(engine, "operator.112", "sandi-operator-2026") is None
    accounts.set_active(engine, "operator.112", True)
    assert accounts.get_user(engine, "operator.112").active


def test_account_rules(engine):
    with pytest.raises(AccountError, match="agency code"):
        accounts.create_user(engine, "kadis", "sandi-panjang-sekali", "agency_head")
    with pytest.raises(AccountError, match="only agency heads"):
        accounts.create_user(engine, "operator", "sandi-panjang-sekali", "operator", "DLH")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.create_user(engine, "walikota", "sandi-panjang-sekali", "mayor")
    with pytest.raises(AccountError, match="at least"):
        accounts.create_user(engine, "pendek", "123", "admin")
    with pytest.raises(AccountError, match="username"):
        accounts.create_user(engine, "a b", "sandi-panjang-sekali", "admin")
    accounts.create_user(engine, "admin", "sandi-panjang-sekali", "admin")
    with pytest.raises(AccountError, match="taken"):
        accounts.create_user(engine, "ADMIN", "sandi-panjang-sekali", "admin")


def test_sessions_expire_end_on_sign_out_and_keep_no_raw_token(engine):
    account = accounts.create_user(engine, "admin", "sandi-panjang-sekali", "admin")
    token = accounts.start_session(engine, account, hours=8, now=T0)
    assert accounts.session_account(engine, token, now=T0 + timedelta(hours=7, minutes=59)) == account
    assert accounts.session_account(engine, token, now=T0 + timedelta(hours=8, seconds=1)) is None
    assert accounts.session_account(engine, token + "x", now=T0) is None
    assert accounts.session_account(engine, None) is None
    with engine.connect() as conn:
        stored = conn.execute(text("select token_hash from user_session")).scalars().all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)
    accounts.end_session(engine, token)
    assert accounts.session_account(engine, token, now=T0) is None


def test_session_length_is_configurable_and_deactivation_ends_sessions(engine, monkeypatch):
    monkeypatch.setenv("SIGAP_SESSION_HOURS", "1")
    assert accounts.session_hours() == 1
    account = accounts.create_user(engine, "kadis.dlh", "sandi-panjang-sekali", "agency_head", "DLH")
    token = accounts.start_session(engine, account, now=T0)
    assert accounts.session_account(engine, token, now=T0 + timedelta(minutes=59)) is not None
    assert accounts.session_account(engine, token, now=T0 + timedelta(minutes=61)) is None
    fresh = accounts.start_session(engine, account)
    accounts.set_active(engine, "kadis.dlh", False)
    assert accounts.session_account(engine, fresh) is None
    monkeypatch.setenv("SIGAP_SESSION_HOURS", "nonsense")
    assert accounts.session_hours() == accounts.DEFAULT_SESSION_HOURS


def test_repeated_failures_are_throttled_and_logged(engine):
    for _ in range(accounts.FAILED_LOGIN_LIMIT - 1):
        accounts.audit(engine, "admin", "login_failed")
    assert not accounts.too_many_failures(engine, "admin")
    accounts.audit(engine, "admin", "login_failed")
    assert accounts.too_many_failures(engine, "ADMIN")
    later = datetime.now(timezone.utc) + accounts.FAILED_LOGIN_WINDOW + timedelta(minutes=1)
    assert not accounts.too_many_failures(engine, "admin", now=later)


def test_audit_log_is_filtered_by_time_user_action_and_complaint(engine):
    accounts.audit(engine, "kadis.dsdabm", "viewed_detail", complaint_id=42, obj="lapor:7567363")
    accounts.audit(engine, "kadis.dsdabm", "exported", obj="sigap_overdue.xlsx", detail="12 rows")
    accounts.audit(engine, "admin", "uploaded", obj="lapor:upload.xlsx")
    assert len(accounts.read_audit(engine)) == 3
    assert [r["action"] for r in accounts.read_audit(engine, usernames=("kadis.dsdabm",))] == ["exported",
                                                                                                "viewed_detail"]
    assert accounts.read_audit(engine, complaint_id=42)[0]["object"] == "lapor:7567363"
    assert accounts.read_audit(engine, actions=("uploaded",))[0]["username"] == "admin"
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert accounts.read_audit(engine, start=future) == []


def test_oidc_identities_map_to_accounts_by_email(engine):
    accounts.create_user(engine, "kadis.dlh", None, "agency_head", "DLH", email="Kadis.DLH@Surabaya.go.id")
    assert accounts.account_by_email(engine, "kadis.dlh@surabaya.go.id").agency_code == "DLH"
    assert accounts.authenticate(engine, "kadis.dlh", "") is None  # no password: SSO only
    assert accounts.account_by_email(engine, "someone@else.id") is None
    accounts.set_active(engine, "kadis.dlh", False)
    assert accounts.account_by_email(engine, "kadis.dlh@surabaya.go.id") is None


# --- roles and rights (no database) -------------------------------------------------------------------------

APP_PAGES = [("pages/overview.py", "nav_overview", "i", "overview"), ("pages/map.py", "nav_map", "i", "map"),
             ("pages/my_agency.py", "nav_my_agency", "i", "my-agency"), ("pages/admin.py", "nav_admin", "i", "admin")]


@pytest.mark.parametrize("role, urls, landing", [
    ("wall", ["overview", "map"], "overview"),
    ("operator", ["overview", "map"], "overview"),
    ("agency_head", ["overview", "map", "my-agency"], "my-agency"),
    ("admin", ["overview", "map", "my-agency", "admin"], "admin"),
])
def test_each_role_sees_exactly_its_pages(role, urls, landing):
    assert [p[3] for p in ui_auth.visible_pages(role, APP_PAGES)] == urls
    assert ui_auth.landing_url(role, APP_PAGES) == landing
    assert ("admin" in ui_auth.visible_pages(role)) == (role == "admin")
    assert ("my-agency" in ui_auth.visible_pages(role)) == (role in ("agency_head", "admin"))


def test_personal_data_only_for_the_handling_agency_head_and_never_if_confidential():
    head = Account(1, "kadis.dsdabm", "agency_head", "DSDABM")
    admin = Account(2, "admin", "admin")
    operator = Account(3, "operator", "operator")
    assert ui_auth.can_see_personal_data(head, "DSDABM", confidential=False)
    assert not ui_auth.can_see_personal_data(head, "DSDABM", confidential=True)  # Rahasia is absolute
    assert not ui_auth.can_see_personal_data(head, "DLH", confidential=False)
    assert not ui_auth.can_see_personal_data(head, None, confidential=False)
    for viewer in (admin, operator, None):
        assert not ui_auth.can_see_personal_data(viewer, "DSDABM", confidential=False)


def test_command_line_creates_lists_and_deactivates_accounts(tmp_path, monkeypatch, capsys):
    import io

    from models.db import get_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO("sandi-kepala-dinas\n"))
    assert ui_auth.main(["create-user", "kadis.dsdabm", "--role", "agency_head", "--agency", "DSDABM",
                         "--password-stdin"]) == 0
    assert accounts.authenticate(get_engine(url), "kadis.dsdabm", "sandi-kepala-dinas").agency_code == "DSDABM"
    assert ui_auth.main(["create-user", "kadis.x", "--role", "agency_head", "--agency", "NOPE", "--oidc"]) == 2
    assert "unknown agency" in capsys.readouterr().err
    assert ui_auth.main(["list"]) == 0
    assert re.search(r"kadis\.dsdabm\s+agency_head\s+DSDABM\s+active", capsys.readouterr().out)
    assert ui_auth.main(["deactivate", "kadis.dsdabm"]) == 0
    assert accounts.authenticate(get_engine(url), "kadis.dsdabm", "sandi-kepala-dinas") is None
    assert [r["action"] for r in accounts.read_audit(get_engine(url))] == ["user_deactivated", "user_created"]


# --- pages through AppTest, on a copy of the seeded database -------------------------------------------------

@pytest.fixture(scope="module")
def roles_db(seeded_url, tmp_path_factory):
    from models.db import get_engine

    url = copy_seeded(seeded_url, tmp_path_factory.mktemp("roles") / "sigap.db")
    users = make_users(get_engine(url))
    return url, users


def _page(name: str, url: str, monkeypatch, account: Account | None, lang: str = "id"):
    from streamlit.testing.v1 import AppTest

    from metrics import Filters
    from models.db import get_engine

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SIGAP_SEED", "0")
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / name), default_timeout=120)
    app.session_state["lang"] = lang
    app.session_state["filters"] = Filters.last_days(90, datetime.now(timezone.utc).date())
    if account is not None:
        app.session_state[ui_auth.TOKEN_KEY] = accounts.start_session(get_engine(url), account)
    return app


def _texts(app) -> str:
    parts = [e.value for kind in ("markdown", "text", "caption", "title", "subheader", "error", "warning", "info")
             for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def test_restricted_pages_refuse_other_roles_even_when_run_directly(roles_db, monkeypatch):
    url, users = roles_db
    for name, account in (("admin.py", users["agency_head"]), ("admin.py", users["operator"]),
                          ("my_agency.py", users["operator"])):
        app = _page(name, url, monkeypatch, account)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert [e.value for e in app.error] == ["Anda tidak berwenang membuka halaman ini."]
        assert not app.dataframe and not app.metric
    anonymous = _page("admin.py", url, monkeypatch, None)
    anonymous.run()
    assert anonymous.title[0].value == "Silakan masuk"
    assert [w.label for w in anonymous.text_input] == ["Nama pengguna", "Kata sandi"]


def test_sign_in_form_refuses_a_wrong_password_with_a_generic_message(roles_db, monkeypatch):
    from models.db import get_engine

    url, _ = roles_db
    app = _page("my_agency.py", url, monkeypatch, None)
    app.run()
    app.text_input(key="auth_username_page").input("kadis.dsdabm")
    app.text_input(key="auth_password_page").input("bukan-sandinya")
    app.button[0].click().run()
    assert "Nama pengguna atau kata sandi salah." in [e.value for e in app.error]
    assert ui_auth.TOKEN_KEY not in app.session_state
    failed = audit_rows(get_engine(url), "login_failed")
    assert failed and failed[0]["username"] == "kadis.dsdabm"
    app.text_input(key="auth_username_page").input("kadis.dsdabm")
    app.text_input(key="auth_password_page").input(PASSWORDS["kadis.dsdabm"])
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state[ui_auth.TOKEN_KEY] and app.title[0].value.startswith("OPD saya")
    assert audit_rows(get_engine(url), "login")[0]["username"] == "kadis.dsdabm"


def _complaint(url: str, agency: str, confidential: bool, with_contact: bool) -> dict:
    from models.db import get_engine

    query = ("select c.id, c.source_id, r.phone, r.name, r.address from complaint c "
             f"{'join' if with_contact else 'left join'} reporter_contact r on r.complaint_id = c.id "
             "where c.agency_code = :agency and c.is_confidential = :confidential and c.is_anonymous = 0 "
             + ("and (r.phone is not null or r.address is not null) " if with_contact else "")
             + "order by c.id limit 1")
    with get_engine(url).connect() as conn:
        return dict(conn.execute(text(query), {"agency": agency, "confidential": confidential}).mappings().one())


def test_agency_head_sees_reporter_of_own_complaint_and_the_view_is_audited(roles_db, monkeypatch):
    from models.db import get_engine

    url, users = roles_db
    complaint = _complaint(url, "DSDABM", confidential=False, with_contact=True)
    app = _page("my_agency.py", url, monkeypatch, users["agency_head"])
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "OPD saya · DSDABM"
    before = len(audit_rows(get_engine(url), "viewed_detail"))
    app.text_input(key="ma_number").input(complaint["source_id"]).run()
    assert not app.exception, [e.value for e in app.exception]
    shown = _texts(app)
    contact = complaint["phone"] or complaint["address"]
    assert contact in shown
    views = audit_rows(get_engine(url), "viewed_detail")
    assert len(views) == before + 1
    assert views[0]["complaint_id"] == complaint["id"] and views[0]["username"] == "kadis.dsdabm"
    assert views[0]["detail"] == "personal_data=True"
    app.run()  # the same detail again on a rerun is the same view, not a new one
    assert len(audit_rows(get_engine(url), "viewed_detail")) == before + 1


def test_confidential_reports_and_other_viewers_get_masked_detail(roles_db, monkeypatch):
    from models.db import get_engine

    url, users = roles_db
    secret = _complaint(url, "DSDABM", confidential=True, with_contact=False)
    app = _page("my_agency.py", url, monkeypatch, users["agency_head"])
    app.run()
    app.text_input(key="ma_number").input(secret["source_id"]).run()
    assert any("RAHASIA" in w.value for w in app.warning)
    assert audit_rows(get_engine(url), "viewed_detail")[0]["detail"] == "personal_data=False"

    open_one = _complaint(url, "DSDABM", confidential=False, with_contact=True)
    admin = _page("my_agency.py", url, monkeypatch, users["admin"])
    admin.run()
    admin.selectbox(key="ma_agency").select("DSDABM").run()
    admin.text_input(key="ma_number").input(open_one["source_id"]).run()
    assert not admin.exception, [e.value for e in admin.exception]
    shown = _texts(admin)
    assert (open_one["phone"] or open_one["address"]) not in shown
    assert "identitas pelapor hanya untuk Kepala OPD" in shown
    assert not re.search(r"(?<!\d)\d{16}(?!\d)", shown)

    other = _page("my_agency.py", url, monkeypatch, users["other_head"])  # DLH's head, DSDABM's complaint
    other.run()
    other.text_input(key="ma_number").input(open_one["source_id"]).run()
    assert any("tidak ditemukan" in w.value for w in other.warning)


def test_every_export_is_audited(roles_db):
    from models.db import get_engine
    from reports import data
    from ui.export import _producer, personal_data_allowed

    url, users = roles_db
    engine = get_engine(url)
    frame = data.arrivals(engine, replace(data.month_filters("2026-10"), agencies=("DSDABM",)),
                          ui_auth_timezone(), "category")
    produce = _producer(frame, "xlsx", ui_auth_timezone(), False, "kategori", "sigap_kategori.xlsx",
                        users["agency_head"], "filters: test", engine)
    assert produce()[:2] == b"PK"
    row = audit_rows(engine, "exported")[0]
    assert (row["username"], row["object"]) == ("kadis.dsdabm", "sigap_kategori.xlsx")
    assert row["detail"].startswith(f"{len(frame)} rows")
    assert personal_data_allowed(users["agency_head"], True)
    assert not personal_data_allowed(users["agency_head"], False)
    assert not personal_data_allowed(users["admin"], True) and not personal_data_allowed(None, True)


def ui_auth_timezone():
    from regions import load_region

    return load_region("surabaya").timezone


@pytest.mark.parametrize("lang", ["id", "en"])
def test_admin_pages_run_in_both_languages(roles_db, monkeypatch, lang):
    url, users = roles_db
    for name in ("admin.py", "my_agency.py"):
        app = _page(name, url, monkeypatch, users["admin"], lang)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert app.title[0].value.startswith(("Administrasi", "Administration", "OPD saya", "My agency"))
