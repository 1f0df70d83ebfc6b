"""One body (`/org/{id}`): its year × rule grid, a year's tables with the cells of its findings outlined and the
changes since the year before; and two of its years side by side (`/org/{id}/compare`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from nianbao.display import history_grid, who
from report.model import Report
from rules import compare
from storage import Store, read_model
from storage.read_model import Filters, FindingRow
from web.deps import DbDep, Id, SiteDep, render
from web.layout import Mark, marks, report_tables

router = APIRouter()


@router.get("/org/{organization_id}", response_class=HTMLResponse)
def organization(request: Request, site: SiteDep, db: DbDep, organization_id: Id, year: int | None = None) -> Response:
    body = _organization(db, organization_id)
    current = _year_reports(site.store, body)
    years = sorted(current)
    found = read_model.items(db, Filters(organizations=(organization_id,), status="all"))
    chosen = year if year in current else (years[-1] if years else None)
    view: dict[str, Any] = {}
    if chosen is not None:
        earlier_years = [y for y in years if y < chosen]
        earlier = site.store.report(current[earlier_years[-1]]) if earlier_years else None
        view = _year_view(site.store.report(current[chosen]), [item for item in found if item.year == chosen], earlier)
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


@router.get("/org/{organization_id}/compare", response_class=HTMLResponse)
def side_by_side(
    request: Request, site: SiteDep, db: DbDep, organization_id: Id, a: int | None = None, b: int | None = None
) -> Response:
    body = _organization(db, organization_id)
    current = _year_reports(site.store, body)
    years = sorted(current)
    if len(years) < 2:
        raise HTTPException(404, f"{who(body.name, body.region)}只有 {len(years)} 个年度的报告，无法对比")
    left = a if a in current else years[-2]
    right = b if b in current else years[-1]
    found = read_model.items(db, Filters(organizations=(organization_id,), status="all"))
    reports = {year: site.store.report(current[year]) for year in {left, right}}
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


def _organization(db: Connection, organization_id: int) -> read_model.Organization:
    found = read_model.organizations(db, [organization_id]).get(organization_id)
    if found is None:
        raise HTTPException(404, f"没有编号为 {organization_id} 的机关")
    return found


def _year_reports(store: Store, organization: read_model.Organization) -> dict[int, int]:
    """year -> the current version of that year's report."""
    versions = store.versions(organization.name, organization.region_key)
    return {v.year: v.id for v in versions if v.year is not None and v.superseded_by is None}


def _year_view(report: Report | None, found: Sequence[FindingRow], earlier: Report | None) -> dict[str, Any]:
    changes = compare(report, [earlier]) if report and earlier else None
    return {
        "report": report,
        "tables": report_tables(report) if report else [],
        "marks": cell_marks(found),
        "changes": changes.changes if changes else [],
        "before": {change.cell: change.before for change in changes.changes} if changes else {},
        "findings": found,
    }


def cell_marks(found: Iterable[FindingRow]) -> dict[str, Mark]:
    """The marks of a report's table cells: its open findings, the dismissed ones as such."""
    return marks(
        (item.cells, "dismissed" if item.status == "dismissed" else item.severity, item.message, item.id)
        for item in found
        if item.status != "resolved"
    )
