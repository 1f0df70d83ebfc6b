"""The overview (机关总览, `/`): the bodies with their open findings by severity, filtered, a page at a time or as a
download, with the failed files, the reports that name no body and the overdue reports beside them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from nianbao.display import SEVERITY_NAMES
from storage import read_model
from storage.read_model import FINDINGS, STATUSES
from web.deps import (
    LEVEL_NAMES,
    PAGE_SIZE,
    DbDep,
    SiteDep,
    choices,
    export_format,
    filter_params,
    filters_of,
    overdue_bodies,
    paginate,
    region_name,
    render,
)
from web.export import Sheet, download

UNIDENTIFIED_SHOWN = 20  # reports without a body listed on the overview, newest first

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, site: SiteDep, db: DbDep, page: int = 1, show: str = "flagged") -> Response:
    filters = filters_of(request)
    flagged_only = show != "all"
    ids = site.cache.get(
        db,
        ("bodies", filters, flagged_only),
        lambda: read_model.organization_ids(db, filters, flagged_only=flagged_only),
    )
    output = export_format(request)
    if output:
        every = read_model.counts(db, [FINDINGS.c.organization_id, FINDINGS.c.severity], filters)
        rows = _overview_rows(db, ids, every)
        columns = ("地区", "机关", "级别", "报告年度", "错误", "警告", "提示", "合计")
        data = [
            [region_name(r.organization.region), r.organization.name, LEVEL_NAMES[r.organization.level],
             r.years, *r.counts, sum(r.counts)]
            for r in rows
        ]  # fmt: skip
        return download(Sheet(f"机关总览（{STATUSES[filters.status]}）", columns, data), output)
    paging = paginate(page, len(ids))
    shown = ids[paging.offset : paging.offset + PAGE_SIZE]
    counted = read_model.counts(
        db, [FINDINGS.c.organization_id, FINDINGS.c.severity], replace(filters, organizations=tuple(shown))
    )
    unidentified_total, unidentified = read_model.unidentified_reports(db, limit=UNIDENTIFIED_SHOWN)
    return render(
        request,
        "overview.html",
        rows=_overview_rows(db, shown, counted),
        filters=filters,
        params=filter_params(filters),
        show=show,
        pages=paging,
        failed_files=read_model.failed_file_count(db),
        unidentified=unidentified,
        unidentified_total=unidentified_total,
        overdue=overdue_bodies(site, db, filters.region),
        **choices(site, db),
    )


@dataclass(frozen=True)
class OverviewRow:
    organization: read_model.Organization
    years: str
    counts: tuple[int, int, int]  # errors, warnings, infos


def _overview_rows(db: Connection, ids: Sequence[int], counted: Counter[tuple[Any, ...]]) -> list[OverviewRow]:
    bodies = read_model.organizations(db, ids)
    years = read_model.report_years(db, ids)
    rows = []
    for organization_id in ids:
        spans = years.get(organization_id, [])
        shown = f"{spans[0]}–{spans[-1]}" if len(spans) > 1 else "".join(map(str, spans))
        severities = tuple(counted[(organization_id, severity)] for severity in SEVERITY_NAMES)
        rows.append(OverviewRow(bodies[organization_id], shown, severities))  # type: ignore[arg-type]
    return rows
