"""One finding (`/findings/{id}`): its cells, rule, triage history and the alerts sent about it; and triage, a
signed-in reviewer's confirmation or dismissal of it (`POST /findings/{id}/triage`, CSRF-checked)."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rules import find_rule
from storage import StoreError, read_model
from web.auth import check_csrf
from web.deps import DECISION_NAMES, DbDep, Id, SiteDep, render, reviewer_of

router = APIRouter()


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding(request: Request, site: SiteDep, db: DbDep, finding_id: Id) -> Response:
    item = read_model.item(db, finding_id)
    if item is None:
        raise HTTPException(404, f"没有编号为 {finding_id} 的发现")
    alerts = [
        (outbox, site.store.notifications(outbox.id))
        for version_id, kind in ((item.first_version_id, "new"), (item.resolved_version_id, "resolved"))
        if version_id is not None
        for outbox in site.store.outbox_for(version_id)
        if outbox.kind.partition(":")[0] == kind
    ]
    return render(
        request,
        "finding.html",
        item=item,
        rule=find_rule(item.rule),
        history=site.store.triage_history(finding_id),
        alerts=alerts,
    )


@router.post("/findings/{finding_id}/triage")
def triage(
    request: Request,
    site: SiteDep,
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
        site.store.triage(finding_id, decision, comment.strip(), reviewer.id)
    except StoreError as error:
        raise HTTPException(404, str(error)) from error
    return RedirectResponse(f"/findings/{finding_id}", 303)
