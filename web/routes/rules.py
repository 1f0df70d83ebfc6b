"""The rules (`/rules`): every rule with its severity and whether it is on; and one rule's page (`/rules/{id}`):
its explanation for reviewers, a chart and table of the reports it fired on by region and year (or their
download), and the reports where it is still open."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from rules import Rule, all_rules, find_rule
from storage import read_model
from web.chart import stacked_bars
from web.deps import PAGE_SIZE, DbDep, SiteDep, export_format, paginate, region_name, render
from web.export import Sheet, download

EXPLANATION_HEADINGS = {"What it does": "检查内容", "Why is this bad?": "为何重要", "Example": "示例"}
CHART_REGIONS = 6  # regions drawn on their own in the rule chart; the rest are stacked as one

router = APIRouter()


@router.get("/rules", response_class=HTMLResponse)
def rule_index(request: Request, site: SiteDep) -> Response:
    return render(request, "rules.html", rules=all_rules(), settings=site.settings.rules)


@router.get("/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(request: Request, site: SiteDep, db: DbDep, rule_id: str, page: int = 1) -> Response:
    rule = find_rule(rule_id)
    if rule is None:
        raise HTTPException(404, f"没有规则 {rule_id}")
    counted = site.cache.get(db, ("rule", rule_id), lambda: read_model.rule_counts(db, rule_id))
    years = sorted(read_model.years(db)) if counted else []
    by_region: dict[str, Counter[int | None]] = defaultdict(Counter)
    for count in counted:
        by_region[count.region][count.year] += count.reports
    ranked = sorted(by_region, key=lambda region: (-sum(by_region[region].values()), region))
    output = export_format(request)
    if output:
        data = [[region_name(region), *(by_region[region][y] for y in years)] for region in ranked]
        columns = ("地区", *(f"{y} 年度" for y in years))
        return download(Sheet(f"{rule_id} 各地区各年度触发报告数", columns, data), output)
    series = [(region_name(region), [by_region[region][y] for y in years]) for region in ranked[:CHART_REGIONS]]
    rest = ranked[CHART_REGIONS:]
    if rest:
        series.append((f"其他 {len(rest)} 个地区", [sum(by_region[region][y] for region in rest) for y in years]))
    chart = stacked_bars([f"{y}" for y in years], series, label=f"{rule_id} 各年度触发的报告数（按地区）")
    open_reports = sum(count.open_reports for count in counted)
    paging = paginate(page, open_reports)
    return render(
        request,
        "rule.html",
        rule=rule,
        severity=site.settings.rules.severity.get(rule.id, rule.severity),
        enabled=rule.id not in site.settings.rules.disabled,
        sections=reviewer_sections(rule) or explanation_sections(rule.explanation),
        developer_text=rule.explanation if rule.reviewer else "",
        chart=chart if years else None,
        years=years,
        regions=[(region, [by_region[region][y] for y in years]) for region in ranked],
        hits=read_model.rule_reports(db, rule_id, limit=PAGE_SIZE, offset=paging.offset),
        open_reports=open_reports,
        pages=paging,
    )


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
