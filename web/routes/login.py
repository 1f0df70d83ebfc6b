"""Signing in and out (`/login`, `POST /logout`): open to everyone, CSRF-checked, sign-ins rate-limited per account
and per address; after signing in, back to the page that asked for it (a path of this site only)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.auth import authenticate, check_csrf, sign_in, sign_out
from web.deps import SiteDep, render

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    site: SiteDep,
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    account, address = name.strip(), request.client.host if request.client else ""
    refusal = site.throttle.refusal(account, address)
    if refusal:
        return render(request, "login.html", 429, next=_safe_next(next), error=refusal, name=name)
    reviewer = authenticate(site.store, account, password)
    if reviewer is None:
        site.throttle.failed(account, address)
        return render(request, "login.html", 401, next=_safe_next(next), error="用户名或密码不正确", name=name)
    site.throttle.succeeded(account)
    sign_in(request, site.store, reviewer)
    return RedirectResponse(_safe_next(next), 303)


@router.post("/logout")
def logout(request: Request, site: SiteDep, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    sign_out(request, site.store)
    return RedirectResponse("/", 303)


def _safe_next(target: str) -> str:
    """Only a path of this site (no //host, no scheme) to go back to after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"
