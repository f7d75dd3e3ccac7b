"""Accounts, sign-in sessions and the audit log: tables and the account functions (no Streamlit here).

Passwords are hashed with Argon2id (argon2-cffi). A session token is random, handed to the browser session
once and stored here only as its SHA-256, so a copy of the database cannot be used to sign in.
The tables register on SQLModel.metadata when this module is imported (the migration 0002 imports it).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Index, Text, UniqueConstraint, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from models.base import utcnow
from models.tables import utc_field

ROLES = ("wall", "operator", "agency_head", "admin")
# The public/wall role needs no account; accounts are for these.
ACCOUNT_ROLES = ("operator", "agency_head", "admin")
ACTIONS = ("login", "login_failed", "logout", "viewed_detail", "exported", "uploaded",
           "user_created", "user_deactivated", "user_activated", "password_changed")
MIN_PASSWORD_LENGTH = 10
DEFAULT_SESSION_HOURS = 8.0
FAILED_LOGIN_LIMIT = 5  # per username within FAILED_LOGIN_WINDOW
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,79}$")
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters


class AppUser(SQLModel, table=True):
    """A person who signs in. ("user" is a reserved word in PostgreSQL, hence app_user.)"""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("username", name="uq_app_user_username"),
                      Index("ix_app_user_email", "email"))

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    password_hash: str | None = Field(default=None, max_length=200)  # None: signs in through OIDC only
    role: str = Field(max_length=20)
    agency_code: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    last_login_at: datetime | None = utc_field()


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_user_session_token_hash"),
                      Index("ix_user_session_user", "user_id"))

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = utc_field(nullable=False, default_factory=utcnow)
    expires_at: datetime = utc_field(nullable=False)


class AuditLog(SQLModel, table=True):
    """Who saw or took what: every detail view, export, upload and sign-in attempt."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_username_at", "username", "at"),
                      Index("ix_audit_log_complaint", "complaint_id"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(nullable=False, default_factory=utcnow)
    username: str = Field(max_length=80)
    action: str = Field(max_length=40)
    complaint_id: int | None = None
    object: str | None = Field(default=None, max_length=300)
    detail: str | None = Field(default=None, sa_column=Column(Text))


U = AppUser.__table__.c
S = UserSession.__table__.c
L = AuditLog.__table__.c


class AccountError(ValueError):
    """An account cannot be created or changed; the message is shown to the administrator."""


@dataclass(frozen=True)
class Account:
    """A signed-in person, detached from the database."""

    id: int
    username: str
    role: str
    agency_code: str | None = None
    email: str | None = None
    active: bool = True


def _account(row) -> Account:
    return Account(id=row.id, username=row.username, role=row.role, agency_code=row.agency_code,
                   email=row.email, active=row.active)


# --- passwords --------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Checked for unknown users, so they cost as much time as known ones."""
    return hash_password(secrets.token_hex(16))


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


# --- users --------------------------------------------------------------------------------------------

def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def _validate(username: str, role: str, agency_code: str | None) -> None:
    if not _USERNAME.match(username):
        raise AccountError("a username has 3-80 characters: letters, digits, '.', '_', '-', '@'")
    if role not in ACCOUNT_ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ACCOUNT_ROLES)}")
    if role == "agency_head" and not agency_code:
        raise AccountError("an agency head needs an agency code")
    if role != "agency_head" and agency_code:
        raise AccountError("only agency heads belong to one agency")


def create_user(engine: Engine, username: str, password: str | None, role: str, agency_code: str | None = None,
                email: str | None = None) -> Account:
    """A new active account; `password` None makes an account that can only sign in through OIDC."""
    username = normalise_username(username)
    agency_code = (agency_code or "").strip().upper() or None
    _validate(username, role, agency_code)
    if password is not None:
        check_password_policy(password)
    with engine.begin() as conn:
        if conn.execute(select(U.id).where(U.username == username)).first():
            raise AccountError(f"the username {username!r} is taken")
        if agency_code and not _agency_exists(conn, agency_code):
            raise AccountError(f"unknown agency {agency_code!r}")
        user_id = conn.execute(insert(AppUser.__table__).returning(U.id), {
            "username": username, "password_hash": hash_password(password) if password is not None else None,
            "role": role, "agency_code": agency_code, "email": (email or "").strip().lower() or None,
            "active": True, "created_at": utcnow(),
        }).scalar_one()
    return Account(user_id, username, role, agency_code, (email or "").strip().lower() or None)


def _agency_exists(conn, code: str) -> bool:
    from models.tables import Agency

    agencies = Agency.__table__.c
    known = conn.execute(select(func.count()).select_from(Agency.__table__)).scalar_one()
    # an empty reference table (region not synced yet) cannot tell; the region sync fills it on start
    return not known or conn.execute(select(agencies.code).where(agencies.code == code)).first() is not None


def get_user(engine: Engine, username: str) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(AppUser.__table__).where(U.username == normalise_username(username))).first()
    return _account(row) if row else None


def account_by_email(engine: Engine, email: str | None) -> Account | None:
    """The active account an OIDC identity maps to (by e-mail, or a username equal to the e-mail)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(AppUser.__table__).where(U.active.is_(True), (U.email == email) | (U.username == email))
                           .order_by(U.id)).first()
    return _account(row) if row else None


def list_users(engine: Engine) -> list[dict]:
    columns = (U.id, U.username, U.role, U.agency_code, U.email, U.active, U.created_at, U.last_login_at)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(*columns).order_by(U.username))]


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Deactivate (which also ends every session of the account) or reactivate an account."""
    username = normalise_username(username)
    with engine.begin() as conn:
        user_id = conn.execute(select(U.id).where(U.username == username)).scalar_one_or_none()
        if user_id is None:
            raise AccountError(f"no account {username!r}")
        conn.execute(update(AppUser.__table__).where(U.id == user_id).values(active=active))
        if not active:
            conn.execute(delete(UserSession.__table__).where(S.user_id == user_id))


def set_password(engine: Engine, username: str, password: str) -> None:
    check_password_policy(password)
    username = normalise_username(username)
    with engine.begin() as conn:
        user_id = conn.execute(select(U.id).where(U.username == username)).scalar_one_or_none()
        if user_id is None:
            raise AccountError(f"no account {username!r}")
        conn.execute(update(AppUser.__table__).where(U.id == user_id).values(password_hash=hash_password(password)))
        conn.execute(delete(UserSession.__table__).where(S.user_id == user_id))


# --- signing in -----------------------------------------------------------------------------------------

def too_many_failures(engine: Engine, username: str, now: datetime | None = None) -> bool:
    now = now or utcnow()
    with engine.connect() as conn:
        failures = conn.execute(select(func.count()).where(
            L.action == "login_failed", L.username == normalise_username(username)[:80],
            L.at >= now - FAILED_LOGIN_WINDOW)).scalar_one()
    return failures >= FAILED_LOGIN_LIMIT


def authenticate(engine: Engine, username: str, password: str) -> Account | None:
    """The account if the password is right and the account active; None otherwise, whichever the reason."""
    username = normalise_username(username)
    with engine.connect() as conn:
        row = conn.execute(select(AppUser.__table__).where(U.username == username)).first()
    if row is None or not row.password_hash:
        verify_password(_dummy_hash(), password)  # same work either way: no timing hint that a name exists
        return None
    if not verify_password(row.password_hash, password) or not row.active:
        return None
    values = {"last_login_at": utcnow()}
    if _HASHER.check_needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with engine.begin() as conn:
        conn.execute(update(AppUser.__table__).where(U.id == row.id).values(**values))
    return _account(row)


def session_hours() -> float:
    try:
        hours = float(os.environ.get("SIGAP_SESSION_HOURS", DEFAULT_SESSION_HOURS))
    except ValueError:
        return DEFAULT_SESSION_HOURS
    return hours if hours > 0 else DEFAULT_SESSION_HOURS


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(engine: Engine, account: Account, hours: float | None = None, now: datetime | None = None) -> str:
    """A new session token for `account`, valid for `hours` (default SIGAP_SESSION_HOURS, else 8)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(UserSession.__table__).where(S.expires_at < now))  # tidy up expired ones
        conn.execute(insert(UserSession.__table__), {
            "token_hash": _token_hash(token), "user_id": account.id, "created_at": now,
            "expires_at": now + timedelta(hours=hours or session_hours()),
        })
    return token


def session_account(engine: Engine, token: str | None, now: datetime | None = None) -> Account | None:
    """The account a token belongs to, if the session has not expired and the account is active."""
    if not token:
        return None
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(AppUser.__table__).join(UserSession.__table__, S.user_id == U.id)
            .where(S.token_hash == _token_hash(token), S.expires_at > now, U.active.is_(True))
        ).first()
    return _account(row) if row else None


def end_session(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(delete(UserSession.__table__).where(S.token_hash == _token_hash(token)))


# --- audit log ------------------------------------------------------------------------------------------

def audit(engine: Engine, username: str, action: str, *, complaint_id: int | None = None, obj: str | None = None,
          detail: str | None = None) -> None:
    """Append one row to the audit log, in its own transaction (it must survive whatever follows)."""
    with engine.begin() as conn:
        conn.execute(insert(AuditLog.__table__), {
            "at": utcnow(), "username": (username or "-")[:80], "action": action[:40],
            "complaint_id": complaint_id, "object": obj[:300] if obj else None, "detail": detail,
        })


def read_audit(engine: Engine, start: datetime | None = None, end: datetime | None = None,
               usernames: tuple[str, ...] = (), actions: tuple[str, ...] = (), complaint_id: int | None = None,
               limit: int = 5000) -> list[dict]:
    """Audit rows, newest first, narrowed by time [start, end), user, action and complaint."""
    where = []
    if start is not None:
        where.append(L.at >= start)
    if end is not None:
        where.append(L.at < end)
    if usernames:
        where.append(L.username.in_(usernames))
    if actions:
        where.append(L.action.in_(actions))
    if complaint_id is not None:
        where.append(L.complaint_id == complaint_id)
    with engine.connect() as conn:
        rows = conn.execute(select(L.at, L.username, L.action, L.complaint_id, L.object, L.detail)
                            .where(*where).order_by(L.at.desc(), L.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
