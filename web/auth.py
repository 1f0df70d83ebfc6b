"""Reviewers on the web pages: Argon2 password hashes, the signed-in reviewer of a request, server-side sessions,
the sign-in rate limit, CSRF tokens, and whether an address may be served.

A session is a random token in a cookie signed with the secret key (Starlette's SessionMiddleware, itsdangerous),
recorded server-side by its hash (`web_sessions`): signing out deletes it, a password change (`nianbao user
passwd`) deletes every session of the reviewer, and one idle for `web_session_seconds` is ended, so a copied
cookie is worth nothing after that. Beyond loopback the cookie is `Secure` (served behind HTTPS), and the secret
key must be at least 32 random bytes. Failed sign-ins are limited per account and per address
(`SignInThrottle`). Every form that changes something carries the session's CSRF token (a synchronizer token
compared in constant time); the session cookie is SameSite=Lax besides.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request

from nianbao.settings import Settings
from storage import Reviewer, Store

HASHER = PasswordHasher()
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 8
MIN_SECRET_BYTES = 32
MIN_SECRET_SYMBOLS = 10  # distinct characters: "kkkk…" or 32 spaces are no secret (hex has 16)
# Failed sign-ins allowed within SIGN_IN_WINDOW seconds: per account, and per client address (which tries many).
SIGN_IN_WINDOW = 15 * 60.0
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
MAX_TRACKED = 10_000  # accounts and addresses with failures kept before the ones without recent failures are dropped


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
    key = settings.secret_key.strip()
    if len(key.encode()) < MIN_SECRET_BYTES or len(set(key)) < MIN_SECRET_SYMBOLS:
        return (
            f"会话密钥太短或不够随机：在 {host} 上提供服务需要至少 {MIN_SECRET_BYTES} 字节的随机密钥，"
            "可用 python -c 'import secrets; print(secrets.token_urlsafe(32))' 生成"
        )
    if store.reviewer_count() == 0:
        return f"在 {host} 上提供服务前，请先用 nianbao user add 创建审核人账号"
    return None


def signed_in(request: Request, store: Store, idle: timedelta) -> SignedIn | None:
    """The reviewer of the request's session: a session still recorded server-side, seen within `idle`, opened
    with the reviewer's current password."""
    if hasattr(request.state, "reviewer"):  # looked up once per request
        return request.state.reviewer
    data = request.session.get("reviewer")
    found = None
    if isinstance(data, dict) and isinstance(data.get("token"), str):
        reviewer = store.web_session(_session_id(data["token"]), idle)
        if reviewer is not None and reviewer.id == data.get("id") and _stamp(reviewer) == data.get("stamp"):
            found = SignedIn(reviewer.id, reviewer.name)
    if found is None:  # signed out, expired, the account gone or its password changed
        request.session.pop("reviewer", None)
    request.state.reviewer = found
    return found


def sign_in(request: Request, store: Store, reviewer: Reviewer) -> None:
    token = secrets.token_urlsafe(32)
    store.open_web_session(_session_id(token), reviewer.id)
    request.session.clear()
    request.session["reviewer"] = {"id": reviewer.id, "name": reviewer.name, "stamp": _stamp(reviewer), "token": token}
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a new token for the new session
    request.state.reviewer = SignedIn(reviewer.id, reviewer.name)


def _session_id(token: str) -> str:
    """What the server keeps of a session token: its hash (a copy of the table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(reviewer: Reviewer) -> str:
    """Changes with the password. (The Argon2 hash it is taken from is salted: the stamp reveals nothing usable.)"""
    return hashlib.sha256(reviewer.password_hash.encode()).hexdigest()[:16]


def sign_out(request: Request, store: Store) -> None:
    data = request.session.get("reviewer")
    if isinstance(data, dict) and isinstance(data.get("token"), str):
        store.close_web_sessions(session_id=_session_id(data["token"]))
    request.session.clear()
    request.state.reviewer = None


class SignInThrottle:
    """Failed sign-ins per account and per client address within a sliding window; beyond the limit sign-in is
    refused, right password or not, until the oldest failure leaves the window. Kept in the memory of the one
    `serve` process (a restart forgets it)."""

    def __init__(
        self,
        window: float = SIGN_IN_WINDOW,
        per_account: int = FAILURES_PER_ACCOUNT,
        per_address: int = FAILURES_PER_ADDRESS,
    ) -> None:
        self.window = window
        self.limits = {"account": per_account, "address": per_address}
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def refusal(self, account: str, address: str) -> str | None:
        """Why a sign-in is refused now (in Chinese), or None."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key in (("account", account), ("address", address)):
                failures = self._recent(key, now)
                if len(failures) >= self.limits[key[0]]:
                    waits.append(failures[0] + self.window - now)
        if not waits:
            return None
        minutes = max(1, round(max(waits) / 60 + 0.49))
        return f"登录失败次数过多，为防止密码被猜测，已暂停登录，请 {minutes} 分钟后再试"

    def failed(self, account: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > MAX_TRACKED:  # names and addresses without a recent failure are forgotten
                for key in [key for key in self._failures if not self._recent(key, now)]:
                    del self._failures[key]
            for key in (("account", account), ("address", address)):
                self._recent(key, now).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, token: str) -> None:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not secrets.compare_digest(expected, token):
        raise HTTPException(403, "表单已过期或来源不明，请刷新页面后重试")
