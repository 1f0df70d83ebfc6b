"""What every page shares: the `Site` that `create_app` builds once (store, settings, cache, evidence, sign-in
throttle), the FastAPI dependencies that give a route the site, a database connection and the right to read, the
signed-in reviewer, rendering a template, the error pages, pagination, and the filter parameters that the list
pages read and keep in their links."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException

from nianbao.display import GRID_STATES, NO_ORGANIZATION, SEVERITY_NAMES, local_time, shown_value, who
from nianbao.settings import Settings
from report.model import describe_cell
from rules import all_rules
from storage import Store, read_model
from storage.evidence import Evidence
from storage.read_model import STATUSES, Filters
from storage.registry import OverdueBody, overdue
from web.auth import SignedIn, SignInThrottle, csrf_token, signed_in
from web.export import FORMATS

PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # the largest id or number a database column holds: larger ones name nothing (404)
Id = Annotated[int, PathParameter(ge=0, le=MAX_ID)]
NO_REGION = "-"  # the region filter's value for bodies stored without a region
LEVEL_NAMES = {
    "township": "乡镇（街道）",
    "county": "县（区）",
    "city": "市",
    "province": "省",
    "department": "部门",
    "national": "国家",
    "unknown": "未知",
}
DECISION_NAMES = {"confirm": "确认问题", "dismiss": "驳回（误报）"}


class SignInRequired(Exception):
    """Reading needs a signed-in reviewer here (served on an address other than loopback)."""


@dataclass(frozen=True)
class Site:
    """What the pages of one application share; `create_app` keeps it in `app.state.site`."""

    settings: Settings
    store: Store
    anonymous_read: bool
    rule_titles: dict[str, str]
    throttle: SignInThrottle
    cache: read_model.Cache
    evidence: Evidence

    @classmethod
    def open(cls, settings: Settings, *, anonymous_read: bool) -> Site:
        """The site over `settings.database`, which must be at the current schema."""
        store = Store(settings.database)
        store.reviewer_count()  # raises SchemaNotCurrent ("请先运行 nianbao db upgrade") before serving anything
        return cls(
            settings=settings,
            store=store,
            anonymous_read=anonymous_read,
            rule_titles={rule.id: rule.title for rule in all_rules()},
            throttle=SignInThrottle(),
            cache=read_model.Cache(),
            evidence=Evidence(settings.evidence),
        )

    @property
    def idle(self) -> timedelta:
        """How long a session may stay unused before it ends."""
        return timedelta(seconds=self.settings.web_session_seconds)


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


SiteDep = Annotated[Site, Depends(site_of)]


def connection(site: SiteDep) -> Iterator[Connection]:
    with site.store.engine.connect() as opened:
        yield opened


DbDep = Annotated[Connection, Depends(connection)]


def reviewer_of(request: Request) -> SignedIn | None:
    site = site_of(request)
    return signed_in(request, site.store, site.idle)


def reader(request: Request) -> None:
    """The dependency of every page but signing in: reading needs a reviewer unless the site is open to all."""
    if not site_of(request).anonymous_read and reviewer_of(request) is None:
        raise SignInRequired


# -- rendering and the error pages ----------------------------------------------------------------------------


def region_name(region: str | None) -> str:
    return region or "未写明地区"


def query(**params: Any) -> str:
    """`?a=1&b=2` of the parameters that have a value."""
    kept = {key: value for key, value in params.items() if value is not None and value != ""}
    return "?" + urlencode(kept) if kept else ""


TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
TEMPLATES.env.filters.update(local=local_time, value=shown_value, region=region_name, cell=describe_cell)
TEMPLATES.env.globals.update(
    SEVERITY_NAMES=SEVERITY_NAMES,
    STATUSES=STATUSES,
    LEVEL_NAMES=LEVEL_NAMES,
    DECISION_NAMES=DECISION_NAMES,
    GRID_STATES=GRID_STATES,
    NO_REGION=NO_REGION,
    NO_ORGANIZATION=NO_ORGANIZATION,
    query=query,
    who=who,
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the signed-in reviewer, the session's CSRF token and the rules' titles."""
    context.update(reviewer=reviewer_of(request), csrf=csrf_token(request), rule_titles=site_of(request).rule_titles)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def sign_in_first(request: Request, _: SignInRequired) -> Response:
    """To the sign-in page, and back to the page asked for afterwards."""
    return RedirectResponse(f"/login{query(next=request.url.path + query(**request.query_params))}", 303)


def error_page(request: Request, error: StarletteHTTPException) -> Response:
    return render(request, "error.html", error.status_code, message=error.detail, code=error.status_code)


def not_found_page(request: Request, _: RequestValidationError) -> Response:
    """A path or parameter that names nothing stored (a word where an id goes, an id beyond any column)."""
    return render(request, "error.html", 404, message="没有这个页面", code=404)


# -- pagination and filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pages:
    page: int
    count: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def paginate(page: int, total: int) -> Pages:
    """The page asked for, kept within the pages that `total` rows fill."""
    count = max(1, -(-total // PAGE_SIZE))
    return Pages(min(max(page, 1), count), count, total)


def number_param(value: str | None) -> int | None:
    """A number filter: None when absent or not a number; 404 when no stored number can be that large."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    if number is not None and abs(number) > MAX_ID:
        raise HTTPException(404, "没有这个页面")
    return number


def filters_of(request: Request, *, status: str = "open") -> Filters:
    params = request.query_params
    region = params.get("region") or None
    organization = number_param(params.get("org"))
    return Filters(
        year=number_param(params.get("year")),
        rule=params.get("rule") or None,
        severity=params.get("severity") if params.get("severity") in SEVERITY_NAMES else None,
        region="" if region == NO_REGION else region,
        name=(params.get("q") or "").strip() or None,
        organizations=(organization,) if organization is not None else None,
        status=params.get("status", status) if params.get("status") in STATUSES else status,
    )


def filter_params(filters: Filters) -> dict[str, Any]:
    """The query parameters of a filter (for links that keep it)."""
    return {
        "year": filters.year,
        "rule": filters.rule,
        "severity": filters.severity,
        "region": NO_REGION if filters.region == "" else filters.region,
        "q": filters.name,
        "org": filters.organizations[0] if filters.organizations else None,
        "status": filters.status,
    }


def export_format(request: Request) -> str | None:
    """The download asked for with `?format=` (csv or xlsx), or None for the page itself."""
    wanted = request.query_params.get("format")
    return wanted if wanted in FORMATS else None


def choices(site: Site, db: Connection) -> dict[str, Any]:
    """What the filter forms offer."""
    return {
        "years": read_model.years(db),
        "regions": read_model.regions(db),
        "rules": sorted(site.rule_titles),
    }


def overdue_bodies(site: Site, db: Connection, region: str | None = None) -> tuple[int, str, list[OverdueBody]]:
    """(year, today, the bodies whose report for the year due this year is overdue), of one region if given."""
    today = date.today()
    year = today.year - 1
    bodies = site.cache.get(db, ("overdue", year, today), lambda: overdue(site.store, year, today, site.settings.rules))
    if region is not None:
        bodies = [body for body in bodies if (body.region or "") == region]
    return year, today.isoformat(), bodies
