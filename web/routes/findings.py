"""The findings list (发现清单, `/findings`): filtered by year, rule, severity, region, body and status, a page at a
time or as a download of every column of the findings sheet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nianbao.spreadsheet import FINDING_COLUMNS, finding_rows
from storage import read_model
from storage.read_model import STATUSES
from web.deps import PAGE_SIZE, DbDep, SiteDep, choices, export_format, filter_params, filters_of, paginate, render
from web.export import Sheet, download

EXPORT_LIMIT = 100_000  # findings in one download; `nianbao export` writes any number

router = APIRouter()


@router.get("/findings", response_class=HTMLResponse)
def findings(request: Request, site: SiteDep, db: DbDep, page: int = 1) -> Response:
    filters = filters_of(request)
    output = export_format(request)
    if output:
        found = read_model.items(db, filters, limit=EXPORT_LIMIT)
        return download(Sheet(f"发现清单（{STATUSES[filters.status]}）", FINDING_COLUMNS, finding_rows(found)), output)
    paging = paginate(page, site.cache.get(db, ("total", filters), lambda: read_model.total(db, filters)))
    organization = None
    if filters.organizations:
        organization = read_model.organizations(db, filters.organizations).get(filters.organizations[0])
    return render(
        request,
        "findings.html",
        items=read_model.items(db, filters, limit=PAGE_SIZE, offset=paging.offset),
        filters=filters,
        params=filter_params(filters),
        organization=organization,
        pages=paging,
        **choices(site, db),
    )
