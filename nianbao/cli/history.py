"""`nianbao history ORGANIZATION`: what a body's reports got wrong year by year."""

from __future__ import annotations

from collections.abc import Sequence

import click

from nianbao.cli.options import database_option, open_store, user_errors
from nianbao.display import GRID_STATES, history_grid, local_time, shown_value, who
from report.model import describe_cell
from rules import compare


def history_table(grid: Sequence[tuple[str, Sequence[str]]], years: Sequence[int]) -> list[str]:
    """The rule × year table of `display.history_grid`, one symbol of GRID_STATES per cell, and its legend."""
    width = max([len("规则") + 2, *(len(rule) for rule, _ in grid)])
    lines = ["规则".ljust(width - 2) + "".join(f"{year:>6}" for year in years)]
    for rule, states in grid:
        lines.append(rule.ljust(width) + "".join(f"{GRID_STATES[state][0]:>6}" for state in states))
    lines.append("   ".join(f"{symbol} {name}" for symbol, name in GRID_STATES.values()))
    return lines


@click.command()
@click.argument("organization")
@click.option("--region", default=None, help="The body's region (county/district); '' for a body stored without.")
@database_option
@user_errors
def history(organization: str, region: str | None, database_url: str | None) -> None:
    """What ORGANIZATION's reports got wrong year by year: a rule × year table (✗ open, ○ dismissed by a
    reviewer, ✓ fixed, · never), the versions received, and the table cells that changed between consecutive
    years."""
    store = open_store(database_url)
    versions = store.versions(organization, region)
    if not versions:
        click.echo(f"没有“{organization}”{f'（{region}）' if region else ''}的报告记录。")
        return
    body = versions[0]
    found = store.findings(organization=body.organization, region=body.region or "")
    current = {
        version.year: version for version in versions if version.year is not None and version.superseded_by is None
    }
    years = sorted(current)
    click.echo(f"{who(body.organization, body.region)}：{len(years)} 个年度，{len(versions)} 个版本")
    grid = history_grid(found, years)
    if grid:
        click.echo("\n".join(history_table(grid, years)))
    else:
        click.echo("各年度报告均未发现问题。")
    click.echo("")
    for year in years:
        count = sum(version.year == year for version in versions)
        latest = current[year]
        click.echo(
            f"{year} 年度：{count} 个版本，现行版本 #{latest.id}（{latest.source_path}，{local_time(latest.received_at)} 收到）"
        )
    undated = sum(version.year is None for version in versions)
    if undated:
        click.echo(f"另有 {undated} 份报告未写明年度，未列入上表。")
    reports = {year: report for year in years if (report := store.report(current[year].id)) is not None}
    for before, after in zip(reports, list(reports)[1:], strict=False):
        comparison = compare(reports[after], [reports[before]])
        changes = comparison.changes if comparison else []
        if not changes:
            click.echo(f"\n{before} → {after} 年表格：无变化")
            continue
        click.echo(f"\n{before} → {after} 年表格变化（{len(changes)} 处）：")
        for change in changes:
            click.echo(f"  {describe_cell(change.cell)}：{shown_value(change.before)} → {shown_value(change.after)}")
