"""The web pages over the store: server-rendered (FastAPI + Jinja2), no script needed, Chinese throughout.

`create_app(settings)` builds the application; `nianbao serve` runs it with uvicorn. Reading is open unless
`anonymous_read=False` (what `serve` passes on an address other than loopback); triage needs a signed-in reviewer.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path, PurePath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nianbao.display import SEVERITY_NAMES, local_time, shown_value, who
from nianbao.settings import Settings
from nianbao.spreadsheet import FINDING_COLUMNS, finding_rows
from report.model import Report, describe_cell
from rules import Rule, all_rules, compare, find_rule
from storage import Store, StoreError
from storage import read_model as queries
from storage.evidence import Evidence
from storage.read_model import FINDINGS, STATUSES, Filters
from storage.read_model import FindingRow as Item
from storage.registry import OverdueBody, overdue
from web.auth import SignedIn, SignInThrottle, authenticate, check_csrf, csrf_token, sign_in, sign_out, signed_in
from web.chart import stacked_bars
from web.export import FORMATS, Sheet, download
from web.layout import Mark, marks, report_tables

TEMPLATES = Path(__file__).with_name("templates")
PAGE_SIZE = 50
UNIDENTIFIED_SHOWN = 20  # reports without a body listed on the overview, newest first
MAX_ID = 2**63 - 1  # the largest id or number a database column holds: larger ones name nothing (404)
Id = Annotated[int, PathParameter(ge=0, le=MAX_ID)]
EXPORT_LIMIT = 100_000  # findings in one download; `nianbao export` writes any number
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
GRID_STATES = {
    "fired": ("✗", "存在问题"),
    "dismissed": ("○", "已驳回"),
    "fixed": ("✓", "已整改"),
    "never": ("·", "未发现"),
}
EXPLANATION_HEADINGS = {"What it does": "检查内容", "Why is this bad?": "为何重要", "Example": "示例"}
CHART_REGIONS = 6  # regions drawn on their own in the rule chart; the rest are stacked as one


class SignInRequired(Exception):
    """Reading needs a signed-in reviewer here (served on an address other than loopback)."""


@dataclass(frozen=True)
class Pages:
    page: int
    count: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def _pages(page: int, total: int) -> Pages:
    count = max(1, -(-total // PAGE_SIZE))
    return Pages(min(max(page, 1), count), count, total)


def _int(value: str | None) -> int | None:
    """A number filter: None when absent or not a number; 404 when no stored number can be that large."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    if number is not None and abs(number) > MAX_ID:
        raise HTTPException(404, "没有这个页面")
    return number


def _region_name(region: str | None) -> str:
    return region or "未写明地区"


def _query(**params: Any) -> str:
    """`?a=1&b=2` of the parameters that have a value."""
    kept = {key: value for key, value in params.items() if value is not None and value != ""}
    return "?" + urlencode(kept) if kept else ""


def filters_of(request: Request, *, status: str = "open") -> Filters:
    params = request.query_params
    region = params.get("region") or None
    organization = _int(params.get("org"))
    return Filters(
        year=_int(params.get("year")),
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


def _export_format(request: Request) -> str | None:
    wanted = request.query_params.get("format")
    return wanted if wanted in FORMATS else None


def reviewer_sections(rule: Rule) -> list[tuple[str, str]]:
    """A rule's Chinese explanation for reviewers as (heading, text) sections; none when it has none."""
    text = rule.reviewer
    if text is None:
        return []
    return [("检查内容", text.checks), ("为何重要", text.why), ("示例", text.example)]


def explanation_sections(text: str) -> list[tuple[str, str]]:
    """A rule's explanation (What it does / Why is this bad? / Example) as (Chinese heading, text) sections."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        heading = EXPLANATION_HEADINGS.get(line.strip())
        if heading:
            sections.append((heading, []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip():
            sections.append(("说明", [line]))
    return [(heading, _unwrap("\n".join(lines))) for heading, lines in sections]


def _unwrap(text: str) -> str:
    """Hard-wrapped paragraphs as one line each (no space where the break is between two Chinese characters)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(re.sub(r"(?<=[^\x00-\xff])\n(?=[^\x00-\xff])", "", p).replace("\n", " ") for p in paragraphs)


def history_grid(found: Sequence[Item], years: Sequence[int]) -> list[tuple[str, list[str]]]:
    """(rule, one state per year) for each rule that ever fired: `fired` (open and not dismissed), `dismissed`,
    `fixed` (fired in a superseded version of that year, or in an earlier year), `never`."""
    by_cell: dict[tuple[str, int], list[Item]] = defaultdict(list)
    for item in found:
        if item.year is not None:
            by_cell[(item.rule, item.year)].append(item)
    grid = []
    for rule in sorted({rule for rule, _ in by_cell}):
        states: list[str] = []
        for year in years:
            cell = by_cell.get((rule, year), [])
            statuses = {item.status for item in cell}
            if statuses & {"pending", "confirmed"}:
                states.append("fired")
            elif "dismissed" in statuses:
                states.append("dismissed")
            elif cell or any(state != "never" for state in states):
                states.append("fixed")
            else:
                states.append("never")
        grid.append((rule, states))
    return grid


def cell_marks(found: Iterable[Item]) -> dict[str, Mark]:
    """The marks of a report's table cells: its open findings, the dismissed ones as such."""
    return marks(
        (item.cells, "dismissed" if item.status == "dismissed" else item.severity, item.message, item.id)
        for item in found
        if item.status != "resolved"
    )


def create_app(settings: Settings, *, anonymous_read: bool = True, secure_cookie: bool = False) -> FastAPI:
    """The web application over `settings.database` (which must be at the current schema); `secure_cookie` marks
    the session cookie `Secure` (served beyond loopback, behind HTTPS)."""
    store = Store(settings.database)
    store.reviewer_count()  # raises SchemaNotCurrent ("请先运行 nianbao db upgrade") before serving anything
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters.update(local=local_time, value=shown_value, region=_region_name, cell=describe_cell)
    templates.env.globals.update(
        SEVERITY_NAMES=SEVERITY_NAMES,
        STATUSES=STATUSES,
        LEVEL_NAMES=LEVEL_NAMES,
        DECISION_NAMES=DECISION_NAMES,
        GRID_STATES=GRID_STATES,
        NO_REGION=NO_REGION,
        query=_query,
        who=who,
    )
    rule_titles = {item.id: item.title for item in all_rules()}
    idle = timedelta(seconds=settings.web_session_seconds)
    throttle = SignInThrottle()
    cache = queries.Cache()
    evidence = Evidence(settings.evidence)

    def reviewer_of(request: Request) -> SignedIn | None:
        return signed_in(request, store, idle)

    def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.update(reviewer=reviewer_of(request), csrf=csrf_token(request), rule_titles=rule_titles)
        return templates.TemplateResponse(request, template, context, status_code=status_code)

    def connection() -> Iterator[Connection]:
        with store.engine.connect() as opened:
            yield opened

    def reader(request: Request) -> None:
        if not anonymous_read and reviewer_of(request) is None:
            raise SignInRequired

    def overdue_bodies(db: Connection, region: str | None = None) -> tuple[int, str, list[OverdueBody]]:
        """(year, today, the bodies whose report for the year due this year is overdue), of one region if given."""
        today = date.today()
        year = today.year - 1
        bodies = cache.get(db, ("overdue", year, today), lambda: overdue(store, year, today, settings.rules))
        if region is not None:
            bodies = [body for body in bodies if (body.region or "") == region]
        return year, today.isoformat(), bodies

    def choices(db: Connection) -> dict[str, Any]:
        """What the filter forms offer."""
        return {
            "years": queries.years(db),
            "regions": queries.regions(db),
            "rules": sorted(rule_titles),
        }

    app = FastAPI(title="nianbao", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or secrets.token_urlsafe(32),
        session_cookie="nianbao_session",
        max_age=settings.web_session_seconds,
        same_site="lax",
        https_only=secure_cookie,
    )
    app.add_middleware(HeadAsGet)
    pages = APIRouter(dependencies=[Depends(reader)])
    Db = Depends(connection)

    @app.exception_handler(SignInRequired)
    def _sign_in(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse(f"/login{_query(next=request.url.path + _query(**request.query_params))}", 303)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        return render(request, "error.html", error.status_code, message=error.detail, code=error.status_code)

    @app.exception_handler(RequestValidationError)
    def _bad_request(request: Request, _: RequestValidationError) -> Response:
        return render(request, "error.html", 404, message="没有这个页面", code=404)

    # -- overview -------------------------------------------------------------------------------------------

    @pages.get("/", response_class=HTMLResponse)
    def overview(request: Request, page: int = 1, show: str = "flagged", db: Connection = Db) -> Response:
        filters = filters_of(request)
        flagged_only = show != "all"
        ids = cache.get(
            db,
            ("bodies", filters, flagged_only),
            lambda: queries.organization_ids(db, filters, flagged_only=flagged_only),
        )
        output = _export_format(request)
        if output:
            every = queries.counts(db, [FINDINGS.c.organization_id, FINDINGS.c.severity], filters)
            rows = _overview_rows(db, ids, every)
            columns = ("地区", "机关", "级别", "报告年度", "错误", "警告", "提示", "合计")
            data = [
                [_region_name(r.organization.region), r.organization.name, LEVEL_NAMES[r.organization.level],
                 r.years, *r.counts, sum(r.counts)]
                for r in rows
            ]  # fmt: skip
            return download(Sheet(f"机关总览（{STATUSES[filters.status]}）", columns, data), output)
        paging = _pages(page, len(ids))
        shown = ids[paging.offset : paging.offset + PAGE_SIZE]
        counted = queries.counts(
            db, [FINDINGS.c.organization_id, FINDINGS.c.severity], replace(filters, organizations=tuple(shown))
        )
        unidentified_total, unidentified = queries.unidentified_reports(db, limit=UNIDENTIFIED_SHOWN)
        return render(
            request,
            "overview.html",
            rows=_overview_rows(db, shown, counted),
            filters=filters,
            params=filter_params(filters),
            show=show,
            pages=paging,
            failed_files=queries.failed_file_count(db),
            unidentified=unidentified,
            unidentified_total=unidentified_total,
            overdue=overdue_bodies(db, filters.region),
            **choices(db),
        )

    @pages.get("/files", response_class=HTMLResponse)
    def failed_files(request: Request, page: int = 1, db: Connection = Db) -> Response:
        paging = _pages(page, queries.failed_file_count(db))
        return render(
            request,
            "files.html",
            files=queries.failed_files(db, limit=PAGE_SIZE, offset=paging.offset),
            pages=paging,
            params={},
        )

    # -- findings -------------------------------------------------------------------------------------------

    @pages.get("/findings", response_class=HTMLResponse)
    def findings(request: Request, page: int = 1, db: Connection = Db) -> Response:
        filters = filters_of(request)
        output = _export_format(request)
        if output:
            found = queries.items(db, filters, limit=EXPORT_LIMIT)
            return download(
                Sheet(f"发现清单（{STATUSES[filters.status]}）", FINDING_COLUMNS, finding_rows(found)), output
            )
        paging = _pages(page, cache.get(db, ("total", filters), lambda: queries.total(db, filters)))
        organization = None
        if filters.organizations:
            organization = queries.organizations(db, filters.organizations).get(filters.organizations[0])
        return render(
            request,
            "findings.html",
            items=queries.items(db, filters, limit=PAGE_SIZE, offset=paging.offset),
            filters=filters,
            params=filter_params(filters),
            organization=organization,
            pages=paging,
            **choices(db),
        )

    @pages.get("/findings/{finding_id}", response_class=HTMLResponse)
    def finding(request: Request, finding_id: Id, db: Connection = Db) -> Response:
        item = queries.item(db, finding_id)
        if item is None:
            raise HTTPException(404, f"没有编号为 {finding_id} 的发现")
        alerts = [
            (outbox, store.notifications(outbox.id))
            for version_id, kind in ((item.first_version_id, "new"), (item.resolved_version_id, "resolved"))
            if version_id is not None
            for outbox in store.outbox_for(version_id)
            if outbox.kind.partition(":")[0] == kind
        ]
        return render(
            request,
            "finding.html",
            item=item,
            rule=find_rule(item.rule),
            history=store.triage_history(finding_id),
            alerts=alerts,
        )

    @pages.post("/findings/{finding_id}/triage")
    def triage(
        request: Request,
        finding_id: Id,
        decision: str = Form(""),
        comment: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        reviewer = reviewer_of(request)
        if reviewer is None:
            raise HTTPException(403, "请先登录：只有审核人可以确认或驳回发现")
        check_csrf(request, csrf_token)
        if decision not in DECISION_NAMES:
            raise HTTPException(400, "请选择“确认问题”或“驳回（误报）”")
        try:
            store.triage(finding_id, decision, comment.strip(), reviewer.id)
        except StoreError as error:
            raise HTTPException(404, str(error)) from error
        return RedirectResponse(f"/findings/{finding_id}", 303)

    @pages.get("/versions/{version_id}/source")
    def source(version_id: Id, db: Connection = Db) -> Response:
        found = queries.version_source(db, version_id)
        if found is None:
            raise HTTPException(404, f"没有编号为 {version_id} 的版本")
        source_path, sha256 = found
        kept = evidence.verified(sha256)  # the bytes the findings were made on; the share is never served
        if kept is None:
            raise HTTPException(404, f"版本 {version_id} 的原始文件没有保留（入库早于存档、文件过大或已超过保留期限）")
        return FileResponse(kept, filename=PurePath(source_path).name)

    # -- organizations --------------------------------------------------------------------------------------

    def _organization(db: Connection, organization_id: int) -> queries.Organization:
        found = queries.organizations(db, [organization_id]).get(organization_id)
        if found is None:
            raise HTTPException(404, f"没有编号为 {organization_id} 的机关")
        return found

    def _year_reports(organization: queries.Organization) -> dict[int, int]:
        """year -> the current version of that year's report."""
        versions = store.versions(organization.name, organization.region_key)
        return {v.year: v.id for v in versions if v.year is not None and v.superseded_by is None}

    def _year_view(report: Report | None, found: Sequence[Item], earlier: Report | None) -> dict[str, Any]:
        changes = compare(report, [earlier]) if report and earlier else None
        return {
            "report": report,
            "tables": report_tables(report) if report else [],
            "marks": cell_marks(found),
            "changes": changes.changes if changes else [],
            "before": {change.cell: change.before for change in changes.changes} if changes else {},
            "findings": found,
        }

    @pages.get("/org/{organization_id}", response_class=HTMLResponse)
    def organization(request: Request, organization_id: Id, year: int | None = None, db: Connection = Db) -> Response:
        body = _organization(db, organization_id)
        current = _year_reports(body)
        years = sorted(current)
        found = queries.items(db, Filters(organizations=(organization_id,), status="all"))
        chosen = year if year in current else (years[-1] if years else None)
        view: dict[str, Any] = {}
        if chosen is not None:
            earlier_years = [y for y in years if y < chosen]
            earlier = store.report(current[earlier_years[-1]]) if earlier_years else None
            view = _year_view(store.report(current[chosen]), [item for item in found if item.year == chosen], earlier)
            view["earlier_year"] = earlier_years[-1] if earlier_years else None
        return render(
            request,
            "organization.html",
            organization=body,
            years=years,
            year=chosen,
            version_id=current.get(chosen) if chosen is not None else None,
            grid=history_grid(found, years),
            undated=[item for item in found if item.year is None],
            view=view,
        )

    @pages.get("/org/{organization_id}/compare", response_class=HTMLResponse)
    def side_by_side(
        request: Request, organization_id: Id, a: int | None = None, b: int | None = None, db: Connection = Db
    ) -> Response:
        body = _organization(db, organization_id)
        current = _year_reports(body)
        years = sorted(current)
        if len(years) < 2:
            raise HTTPException(404, f"{who(body.name, body.region)}只有 {len(years)} 个年度的报告，无法对比")
        left = a if a in current else years[-2]
        right = b if b in current else years[-1]
        found = queries.items(db, Filters(organizations=(organization_id,), status="all"))
        reports = {year: store.report(current[year]) for year in {left, right}}
        return render(
            request,
            "compare.html",
            organization=body,
            years=years,
            a=left,
            b=right,
            left=_year_view(reports[left], [item for item in found if item.year == left], None),
            right=_year_view(reports[right], [item for item in found if item.year == right], reports[left]),
        )

    # -- rules ----------------------------------------------------------------------------------------------

    @pages.get("/rules", response_class=HTMLResponse)
    def rule_index(request: Request) -> Response:
        return render(request, "rules.html", rules=all_rules(), settings=settings.rules)

    @pages.get("/rules/{rule_id}", response_class=HTMLResponse)
    def rule_page(request: Request, rule_id: str, page: int = 1, db: Connection = Db) -> Response:
        rule = find_rule(rule_id)
        if rule is None:
            raise HTTPException(404, f"没有规则 {rule_id}")
        counted = cache.get(db, ("rule", rule_id), lambda: queries.rule_counts(db, rule_id))
        years = sorted(queries.years(db)) if counted else []
        by_region: dict[str, Counter[int | None]] = defaultdict(Counter)
        for count in counted:
            by_region[count.region][count.year] += count.reports
        ranked = sorted(by_region, key=lambda region: (-sum(by_region[region].values()), region))
        output = _export_format(request)
        if output:
            data = [[_region_name(region), *(by_region[region][y] for y in years)] for region in ranked]
            columns = ("地区", *(f"{y} 年度" for y in years))
            return download(Sheet(f"{rule_id} 各地区各年度触发报告数", columns, data), output)
        series = [(_region_name(region), [by_region[region][y] for y in years]) for region in ranked[:CHART_REGIONS]]
        rest = ranked[CHART_REGIONS:]
        if rest:
            series.append((f"其他 {len(rest)} 个地区", [sum(by_region[region][y] for region in rest) for y in years]))
        chart = stacked_bars([f"{y}" for y in years], series, label=f"{rule_id} 各年度触发的报告数（按地区）")
        open_reports = sum(count.open_reports for count in counted)
        paging = _pages(page, open_reports)
        return render(
            request,
            "rule.html",
            rule=rule,
            severity=settings.rules.severity.get(rule.id, rule.severity),
            enabled=rule.id not in settings.rules.disabled,
            sections=reviewer_sections(rule) or explanation_sections(rule.explanation),
            developer_text=rule.explanation if rule.reviewer else "",
            chart=chart if years else None,
            years=years,
            regions=[(region, [by_region[region][y] for y in years]) for region in ranked],
            hits=queries.rule_reports(db, rule_id, limit=PAGE_SIZE, offset=paging.offset),
            open_reports=open_reports,
            pages=paging,
        )

    # -- regions --------------------------------------------------------------------------------------------

    @pages.get("/regions", response_class=HTMLResponse)
    def regions(request: Request, db: Connection = Db) -> Response:
        params = request.query_params
        severity = params.get("severity", "error")
        filters = Filters(
            year=_int(params.get("year")),
            severity=severity if severity in SEVERITY_NAMES else None,
            status="open",
        )
        by_body = cache.get(db, ("by body", filters), lambda: queries.counts(db, [FINDINGS.c.organization_id], filters))
        body_regions = cache.get(db, ("regions",), lambda: queries.organization_regions(db))
        findings_by_region: Counter[str] = Counter()
        bodies_by_region: Counter[str] = Counter()
        for (organization_id,), count in by_body.items():
            if organization_id is not None:  # a report naming no body belongs to no region
                findings_by_region[body_regions[organization_id]] += count
                bodies_by_region[body_regions[organization_id]] += 1
        sizes = Counter(body_regions.values())
        ranked = sorted(sizes, key=lambda region: (-findings_by_region[region], region))
        by_rule = sorted(
            cache.get(db, ("rules", filters), lambda: queries.counts(db, [FINDINGS.c.rule], filters)).items(),
            key=lambda entry: (-entry[1], entry[0]),
        )
        output = _export_format(request)
        what = f"未整改{SEVERITY_NAMES.get(filters.severity or '', '发现')}"
        if output and params.get("table") == "rules":
            data = [[rule, rule_titles.get(rule, ""), count] for (rule,), count in by_rule]
            return download(Sheet(f"各规则{what}", ("规则", "说明", what), data), output)
        if output:
            data = [
                [rank, _region_name(region), sizes[region], bodies_by_region[region], findings_by_region[region]]
                for rank, region in enumerate(ranked, 1)
            ]
            return download(Sheet(f"各地区{what}", ("排名", "地区", "机关数", "涉及机关", what), data), output)
        return render(
            request,
            "regions.html",
            filters=filters,
            what=what,
            severity_param=severity,
            regions=[
                (region, sizes[region], bodies_by_region[region], findings_by_region[region]) for region in ranked
            ],
            by_rule=[(rule, count) for (rule,), count in by_rule],
            years=queries.years(db),
            overdue=overdue_bodies(db),
        )

    # -- signing in -----------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=_safe_next(next))

    @app.post("/login")
    def login(
        request: Request,
        name: str = Form(""),
        password: str = Form(""),
        next: str = Form("/"),
        csrf_token: str = Form(""),
    ) -> Response:
        check_csrf(request, csrf_token)
        account, address = name.strip(), request.client.host if request.client else ""
        refusal = throttle.refusal(account, address)
        if refusal:
            return render(request, "login.html", 429, next=_safe_next(next), error=refusal, name=name)
        reviewer = authenticate(store, account, password)
        if reviewer is None:
            throttle.failed(account, address)
            return render(request, "login.html", 401, next=_safe_next(next), error="用户名或密码不正确", name=name)
        throttle.succeeded(account)
        sign_in(request, store, reviewer)
        return RedirectResponse(_safe_next(next), 303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        sign_out(request, store)
        return RedirectResponse("/", 303)

    app.include_router(pages)
    return app


def _safe_next(target: str) -> str:
    """Only a path of this site (no //host, no scheme) to go back to after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@dataclass(frozen=True)
class OverviewRow:
    organization: queries.Organization
    years: str
    counts: tuple[int, int, int]  # errors, warnings, infos


def _overview_rows(db: Connection, ids: Sequence[int], counted: Counter[tuple[Any, ...]]) -> list[OverviewRow]:
    bodies = queries.organizations(db, ids)
    years = queries.report_years(db, ids)
    rows = []
    for organization_id in ids:
        spans = years.get(organization_id, [])
        shown = f"{spans[0]}–{spans[-1]}" if len(spans) > 1 else "".join(map(str, spans))
        severities = tuple(counted[(organization_id, severity)] for severity in SEVERITY_NAMES)
        rows.append(OverviewRow(bodies[organization_id], shown, severities))  # type: ignore[arg-type]
    return rows


class HeadAsGet:
    """`HEAD` answers as `GET` would, headers only (FastAPI routes a GET route's HEAD to 405)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
