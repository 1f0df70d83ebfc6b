"""Reviewers on the web pages: Argon2 password hashes, the signed-in reviewer of a request, CSRF tokens, and
whether an address may be served.

A session is a cookie signed with the secret key (Starlette's SessionMiddleware, itsdangerous) that expires
`web_session_seconds` after the last request. It carries a stamp of the reviewer's password hash, so a password
changed with `nianbao user passwd` ends every session opened with the old one. Every form that changes something
carries the session's CSRF token (a synchronizer token compared in constant time); the session cookie is
SameSite=Lax besides.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request

from nianbao.settings import Settings
from storage import Reviewer, Store

HASHER = PasswordHasher()
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class SignedIn:
    id: int
    name: str


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def authenticate(store: Store, name: str, password: str) -> Reviewer | None:
    """The reviewer when the password is theirs. An unknown name costs as much time as a wrong password."""
    reviewer = store.reviewer(name)
    try:
        HASHER.verify(reviewer.password_hash if reviewer else _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return reviewer


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, settings: Settings, store: Store) -> str | None:
    """Why the pages may not be served on `host`, if they may not: an address other machines reach needs a
    configured secret key (sessions must outlive a restart and not be forgeable) and at least one reviewer."""
    if is_loopback(host):
        return None
    if not settings.secret_key:
        return f"在 {host} 上提供服务前，请设置会话密钥（环境变量 NIANBAO_SECRET_KEY 或 nianbao.toml 中的 secret_key）"
    if store.reviewer_count() == 0:
        return f"在 {host} 上提供服务前，请先用 nianbao user add 创建审核人账号"
    return None


def signed_in(request: Request, store: Store) -> SignedIn | None:
    """The reviewer of the request's session, if it was opened with the reviewer's current password."""
    if hasattr(request.state, "reviewer"):  # looked up once per request
        return request.state.reviewer
    data = request.session.get("reviewer")
    found = None
    if isinstance(data, dict):
        reviewer = store.reviewer(data.get("name", ""))
        if reviewer is not None and reviewer.id == data.get("id") and _stamp(reviewer) == data.get("stamp"):
            found = SignedIn(reviewer.id, reviewer.name)
        else:  # the account is gone or its password was changed
            request.session.pop("reviewer", None)
    request.state.reviewer = found
    return found


def sign_in(request: Request, reviewer: Reviewer) -> None:
    request.session.clear()
    request.session["reviewer"] = {"id": reviewer.id, "name": reviewer.name, "stamp": _stamp(reviewer)}
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a new token for the new session
    request.state.reviewer = SignedIn(reviewer.id, reviewer.name)


def _stamp(reviewer: Reviewer) -> str:
    """Changes with the password. (The Argon2 hash it is taken from is salted: the stamp reveals nothing usable.)"""
    return hashlib.sha256(reviewer.password_hash.encode()).hexdigest()[:16]


def sign_out(request: Request) -> None:
    request.session.clear()
    request.state.reviewer = None


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, token: str) -> None:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not secrets.compare_digest(expected, token):
        raise HTTPException(403, "表单已过期或来源不明，请刷新页面后重试")
