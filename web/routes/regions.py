"""The region roll-up (地区汇总, `/regions`): regions ranked by their bodies' open findings of a severity and year,
the rules behind them, and the overdue reports; each table also as a download."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nianbao.display import SEVERITY_NAMES
from storage import read_model
from storage.read_model import FINDINGS, Filters
from web.deps import DbDep, SiteDep, export_format, number_param, overdue_bodies, region_name, render
from web.export import Sheet, download

router = APIRouter()


@router.get("/regions", response_class=HTMLResponse)
def regions(request: Request, site: SiteDep, db: DbDep) -> Response:
    params = request.query_params
    severity = params.get("severity", "error")
    filters = Filters(
        year=number_param(params.get("year")),
        severity=severity if severity in SEVERITY_NAMES else None,
        status="open",
    )
    cache = site.cache
    by_body = cache.get(db, ("by body", filters), lambda: read_model.counts(db, [FINDINGS.c.organization_id], filters))
    body_regions = cache.get(db, ("regions",), lambda: read_model.organization_regions(db))
    findings_by_region: Counter[str] = Counter()
    bodies_by_region: Counter[str] = Counter()
    for (organization_id,), count in by_body.items():
        if organization_id is not None:  # a report naming no body belongs to no region
            findings_by_region[body_regions[organization_id]] += count
            bodies_by_region[body_regions[organization_id]] += 1
    sizes = Counter(body_regions.values())
    ranked = sorted(sizes, key=lambda region: (-findings_by_region[region], region))
    by_rule = sorted(
        cache.get(db, ("rules", filters), lambda: read_model.counts(db, [FINDINGS.c.rule], filters)).items(),
        key=lambda entry: (-entry[1], entry[0]),
    )
    output = export_format(request)
    what = f"未整改{SEVERITY_NAMES.get(filters.severity or '', '发现')}"
    if output and params.get("table") == "rules":
        data = [[rule, site.rule_titles.get(rule, ""), count] for (rule,), count in by_rule]
        return download(Sheet(f"各规则{what}", ("规则", "说明", what), data), output)
    if output:
        data = [
            [rank, region_name(region), sizes[region], bodies_by_region[region], findings_by_region[region]]
            for rank, region in enumerate(ranked, 1)
        ]
        return download(Sheet(f"各地区{what}", ("排名", "地区", "机关数", "涉及机关", what), data), output)
    return render(
        request,
        "regions.html",
        filters=filters,
        what=what,
        severity_param=severity,
        regions=[(region, sizes[region], bodies_by_region[region], findings_by_region[region]) for region in ranked],
        by_rule=[(rule, count) for (rule,), count in by_rule],
        years=read_model.years(db),
        overdue=overdue_bodies(site, db),
    )
