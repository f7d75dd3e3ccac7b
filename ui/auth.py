"""Who is looking: sign-in, roles, which pages a role may open, and the audit trail of what they saw.

Without signing in everyone is the `wall` role (the public wall screens): aggregates and masked lists only.
Local accounts sign in with a password; the session token lives in st.session_state only (never in a URL or
a cookie), so a reload or a new tab starts signed out. Where a city has an identity provider, configure
`[auth]` in .streamlit/secrets.toml (Streamlit's OIDC: redirect_uri, cookie_secret, client_id,
client_secret, server_metadata_url) and Sigap uses st.login instead; the provider's e-mail is matched to an
account (`python -m ui.auth create-user NAME --role ROLE --email E --oidc`) which gives the role.

Command line: `python -m ui.auth create-user USERNAME --role ROLE [--agency CODE] [--email E]
[--password-stdin | --oidc]`, `set-password USERNAME`, `deactivate USERNAME`, `activate USERNAME`, `list`.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence

import streamlit as st

from models.auth import (
    ACCOUNT_ROLES,
    ROLES,
    Account,
    AccountError,
    account_by_email,
    audit,
    authenticate,
    end_session,
    normalise_username,
    session_account,
    start_session,
    too_many_failures,
)
from ui.i18n import register, t

TOKEN_KEY = "_auth_token"
EXPIRED_KEY = "_auth_expired"
LAND_KEY = "_auth_land"
OIDC_SEEN_KEY = "_auth_oidc_seen"

# url path -> roles that may open it; pages not listed are for everyone (aggregates and masked lists only)
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "my-agency": ("agency_head", "admin"),
    "admin": ("admin",),
}
KNOWN_PAGES = ("overview", "map", "response", "agencies", "explorer", "channels", "how", "my-agency", "admin")
# where a role lands after signing in (None: stay where they are)
LANDING = {"agency_head": "my-agency", "admin": "admin"}
# Roles that may see reporters' identities, and only for their own agency's complaints.
# A Rahasia (confidential) report's identity is never shown to anyone.
PERSONAL_DATA_ROLES = ("agency_head",)

register({
    "nav_my_agency": ("OPD saya", "My agency"),
    "nav_admin": ("Administrasi", "Administration"),
    "role_wall": ("Layar publik", "Public wall"),
    "role_operator": ("Operator", "Operator"),
    "role_agency_head": ("Kepala OPD", "Agency head"),
    "role_admin": ("Administrator", "Administrator"),
    "auth_sign_in": ("Masuk petugas", "Staff sign-in"),
    "auth_sign_in_button": ("Masuk", "Sign in"),
    "auth_sign_in_sso": ("Masuk dengan akun kantor", "Sign in with your office account"),
    "auth_sign_in_required": ("Silakan masuk", "Please sign in"),
    "auth_sign_in_hint": ("Halaman ini hanya untuk petugas yang berwenang.",
                          "This page is for authorised staff only."),
    "auth_username": ("Nama pengguna", "Username"),
    "auth_password": ("Kata sandi", "Password"),
    "auth_failed": ("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
    "auth_too_many": ("Terlalu banyak percobaan gagal. Coba lagi dalam 15 menit.",
                      "Too many failed attempts. Try again in 15 minutes."),
    "auth_expired": ("Sesi Anda berakhir. Silakan masuk lagi.", "Your session has ended. Please sign in again."),
    "auth_not_allowed": ("Anda tidak berwenang membuka halaman ini.", "You are not allowed to open this page."),
    "auth_signed_in_as": ("Masuk sebagai **{name}** ({role})", "Signed in as **{name}** ({role})"),
    "auth_sign_out": ("Keluar", "Sign out"),
    "auth_no_account": ("Akun {email} belum punya peran di Sigap. Hubungi administrator.",
                        "The account {email} has no role in Sigap yet. Ask an administrator."),
})


# --- roles and pages (no Streamlit) ------------------------------------------------------------------------

def role_of(user: Account | None) -> str:
    return user.role if user is not None else "wall"


def allowed(url: str, role: str) -> bool:
    return role in PAGE_ROLES.get(url, ROLES)


def _url_of(page) -> str:
    return page if isinstance(page, str) else page[-1]


def visible_pages(role: str, pages: Sequence | None = None) -> list:
    """The pages `role` may open: url paths, or app.py's (file, title, icon, url) tuples filtered."""
    return [p for p in (KNOWN_PAGES if pages is None else pages) if allowed(_url_of(p), role)]


def landing_url(role: str, pages: Sequence | None = None) -> str | None:
    """The url a role starts on: its landing page if visible, else the first visible page."""
    urls = [_url_of(p) for p in visible_pages(role, pages)]
    wanted = LANDING.get(role)
    return wanted if wanted in urls else (urls[0] if urls else None)


def can_see_personal_data(user: Account | None, agency_code: str | None, confidential: bool) -> bool:
    """Reporter identity and unmasked text: only an agency head, only for their own agency, never if Rahasia."""
    if confidential or user is None or user.role not in PERSONAL_DATA_ROLES:
        return False
    return bool(agency_code) and agency_code == user.agency_code


# --- the signed-in user -------------------------------------------------------------------------------------

def _engine():
    from ui import context

    return context.engine()


def oidc_enabled() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (Streamlit's OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _oidc_provider() -> str | None:
    """A named provider ([auth.NAME]) when [auth] itself has no client_id; SIGAP_OIDC_PROVIDER overrides."""
    chosen = os.environ.get("SIGAP_OIDC_PROVIDER")
    if chosen:
        return chosen
    section = st.secrets["auth"]
    if "client_id" in section:
        return None
    return next((name for name, value in section.items() if isinstance(value, Mapping)), None)


def _oidc_user() -> Account | None:
    if not st.user.is_logged_in:
        return None
    account = account_by_email(_engine(), st.user.get("email"))
    if account is not None and st.session_state.get(OIDC_SEEN_KEY) != account.id:
        st.session_state[OIDC_SEEN_KEY] = account.id
        audit(_engine(), account.username, "login", detail="oidc")
    return account


def current_user() -> Account | None:
    """The signed-in account, or None (the public wall role)."""
    if oidc_enabled():
        return _oidc_user()
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    account = session_account(_engine(), token)
    if account is None:  # expired, signed out elsewhere, or the account was deactivated
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[EXPIRED_KEY] = True
    return account


def log(user: Account | None, action: str, *, complaint_id: int | None = None, obj: str | None = None,
        detail: str | None = None, engine=None) -> None:
    """Write one audit row for `user` (the wall role is logged as 'wall')."""
    audit(engine or _engine(), user.username if user else "wall", action, complaint_id=complaint_id, obj=obj,
          detail=detail)


# --- sign-in and sign-out -----------------------------------------------------------------------------------

def _sign_in(username: str, password: str) -> bool:
    engine = _engine()
    name = normalise_username(username)[:80] or "-"
    if too_many_failures(engine, name):
        st.error(t("auth_too_many"))
        return False
    account = authenticate(engine, name, password)
    if account is None:
        audit(engine, name, "login_failed")
        st.error(t("auth_failed"))
        return False
    st.session_state[TOKEN_KEY] = start_session(engine, account)
    st.session_state.pop(EXPIRED_KEY, None)
    st.session_state[LAND_KEY] = True
    audit(engine, account.username, "login")
    return True


def sign_in_form(key: str = "sidebar") -> bool:
    """Username and password; True once signed in. The password never stays in the session (the form clears)."""
    if st.session_state.get(EXPIRED_KEY):
        st.info(t("auth_expired"))
    with st.form(f"auth_form_{key}", clear_on_submit=True, border=False):
        username = st.text_input(t("auth_username"), key=f"auth_username_{key}", autocomplete="username")
        password = st.text_input(t("auth_password"), type="password", key=f"auth_password_{key}",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("auth_sign_in_button"), type="primary", width="stretch")
    return bool(submitted) and _sign_in(username, password)


def sign_out(user: Account | None) -> None:
    if oidc_enabled():
        if user is not None:
            log(user, "logout")
        st.session_state.pop(OIDC_SEEN_KEY, None)
        st.logout()
        return
    end_session(_engine(), st.session_state.pop(TOKEN_KEY, None))
    if user is not None:
        log(user, "logout")
    st.session_state[LAND_KEY] = True  # land() reruns with the public pages once the sidebar is drawn


def sidebar(user: Account | None) -> None:
    """Who is signed in and a sign-out button, or the sign-in form. Call inside `with st.sidebar:`."""
    if user is not None:
        st.caption(t("auth_signed_in_as", name=user.username, role=t(f"role_{user.role}")))
        if st.button(t("auth_sign_out"), key="auth_sign_out", icon=":material/logout:"):
            sign_out(user)
    elif oidc_enabled():
        if st.user.is_logged_in:
            st.caption(t("auth_no_account", email=st.user.get("email", "?")))
            if st.button(t("auth_sign_out"), key="auth_sign_out"):
                sign_out(None)
        elif st.button(t("auth_sign_in_sso"), key="auth_sso", icon=":material/login:"):
            provider = _oidc_provider()
            st.login(provider) if provider else st.login()
    else:
        with st.expander(t("auth_sign_in"), icon=":material/lock:", expanded=bool(st.session_state.get(EXPIRED_KEY))):
            sign_in_form("sidebar")


def land(landing=None) -> None:
    """After signing in or out, show the pages of the new role and open its start page `landing` (an st.Page).

    Call after the sidebar and the filters are drawn and before page.run(): a run stopped earlier would drop
    the state of the sidebar widgets not drawn yet. The run that signed in built its navigation for the old
    role, so it reruns first; the next run switches to the start page.
    """
    state = st.session_state.get(LAND_KEY)
    if not state:
        return
    if state is True:
        st.session_state[LAND_KEY] = "switch"
        st.rerun()
    st.session_state.pop(LAND_KEY, None)
    if landing is not None:
        st.switch_page(landing)


def require(*roles: str) -> Account | None:
    """Stop the page unless the user's role is one of `roles`: a sign-in form for the public, a refusal for others."""
    user = current_user()
    if role_of(user) in roles:
        return user
    if user is None:
        st.title(t("auth_sign_in_required"))
        st.markdown(t("auth_sign_in_hint"))
        if oidc_enabled():
            if st.button(t("auth_sign_in_sso"), key="auth_sso_page"):
                provider = _oidc_provider()
                st.login(provider) if provider else st.login()
        else:
            with st.container(border=True, width=420):
                if sign_in_form("page"):
                    st.session_state.pop(LAND_KEY, None)  # stay on this page
                    st.rerun()
    else:
        st.error(t("auth_not_allowed"), icon=":material/block:")
    st.stop()


# --- command line -------------------------------------------------------------------------------------------

def _cli_engine():
    from models.db import get_engine, prepare_database

    return prepare_database(get_engine())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise AccountError("the passwords differ")
    return first


def _cmd_create(args) -> int:
    from models.auth import create_user

    password = None if args.oidc else _read_password(args.password_stdin)
    engine = _cli_engine()
    account = create_user(engine, args.username, password, args.role, args.agency, args.email)
    audit(engine, "cli", "user_created", obj=account.username, detail=f"role={account.role}")
    print(f"created {account.username} ({account.role}{' ' + account.agency_code if account.agency_code else ''})")
    return 0


def _cmd_set_password(args) -> int:
    from models.auth import set_password

    engine = _cli_engine()
    set_password(engine, args.username, _read_password(args.password_stdin))
    audit(engine, "cli", "password_changed", obj=normalise_username(args.username))
    print(f"password changed for {normalise_username(args.username)}; their sessions are ended")
    return 0


def _cmd_active(args) -> int:
    from models.auth import set_active

    active = args.command == "activate"
    engine = _cli_engine()
    set_active(engine, args.username, active)
    audit(engine, "cli", "user_activated" if active else "user_deactivated", obj=args.username)
    print(f"{normalise_username(args.username)} {'activated' if active else 'deactivated'}")
    return 0


def _cmd_list(_args) -> int:
    from models.auth import list_users

    for user in list_users(_cli_engine()):
        print(f"{user['username']:<24} {user['role']:<12} {user['agency_code'] or '-':<16} "
              f"{'active' if user['active'] else 'inactive'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ui.auth", description="Sigap accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create an account")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    create.add_argument("--agency", default=None, help="agency code, for agency heads (e.g. DSDABM)")
    create.add_argument("--email", default=None, help="the e-mail an OIDC identity provider reports")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument("--password-stdin", action="store_true", help="read the password from one stdin line")
    secret.add_argument("--oidc", action="store_true", help="no password: signs in through the identity provider")
    create.set_defaults(func=_cmd_create)
    reset = commands.add_parser("set-password", help="set a new password (ends the account's sessions)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    reset.set_defaults(func=_cmd_set_password)
    for name in ("deactivate", "activate"):
        command = commands.add_parser(name, help=f"{name} an account")
        command.add_argument("username")
        command.set_defaults(func=_cmd_active)
    commands.add_parser("list", help="list accounts").set_defaults(func=_cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
