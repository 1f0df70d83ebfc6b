"""`nianbao orgs import FILE.xlsx` (the registry of bodies) and `nianbao overdue` (reports that never arrived)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from nianbao.cli.options import database_option, open_store, user_errors
from nianbao.display import local_time, who
from nianbao.settings import get_settings
from rules.legal import LEVEL_NAMES
from storage.registry import Body, level_of

# Header words a 政务公开办's workbook may use for each column (the first row names the columns).
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "机关名称", "单位名称", "机关", "单位"),
    "region": ("region", "地区", "所属地区", "区划", "县区", "所在地"),
    "level": ("level", "层级", "级别", "类型"),
    "parent": ("parent", "上级", "上级机关", "主管单位", "上级单位"),
}


def read_bodies(path: Path) -> list[Body]:
    """The rows of the workbook's first sheet as bodies; a clear Chinese error when it cannot be read."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise click.ClickException(f"{path}：无法作为 Excel 工作簿读取（{type(error).__name__}）") from error
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [str(cell or "").strip().lower() for cell in next(rows, ())]
    columns = {
        field: next((index for index, cell in enumerate(header) if cell in words), None)
        for field, words in COLUMN_WORDS.items()
    }
    if columns["name"] is None:
        raise click.ClickException(f"{path}：第一行没有“名称”列（可用列名：{'、'.join(COLUMN_WORDS['name'])}）")

    def cell(row: tuple, field: str) -> str | None:
        index = columns[field]
        value = row[index] if index is not None and index < len(row) else None
        text = str(value).strip() if value is not None else ""
        return text or None

    bodies: list[Body] = []
    for row in rows:
        name = cell(row, "name")
        if name:
            bodies.append(Body(name, cell(row, "region"), level_of(cell(row, "level")), cell(row, "parent")))
    workbook.close()
    return bodies


@click.group()
def orgs() -> None:
    """The registry of bodies expected to publish a report every year."""


@orgs.command(name="import")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
@user_errors
def import_command(workbook: Path, database_url: str | None) -> None:
    """Add the bodies of an xlsx workbook (columns 名称, 地区, 层级, 上级) to the registry."""
    from storage.registry import import_bodies

    bodies = read_bodies(workbook)
    added, updated = import_bodies(open_store(database_url), bodies)
    click.echo(f"{workbook}：{len(bodies)} 个机关，新增 {added} 个，更新 {updated} 个")


@click.command()
@click.option("--year", type=int, default=None, help="The reporting year (default: the year due this year).")
@click.option(
    "--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The day to judge on (default today)."
)
@database_option
@user_errors
def overdue(year: int | None, as_of: datetime | None, database_url: str | None) -> None:
    """List the bodies whose report for YEAR is not in by the deadline that applies to them."""
    from storage.registry import overdue as overdue_bodies
    from worker.overdue import default_year

    day = as_of.date() if as_of else date.today()
    year = year if year is not None else default_year(day)
    bodies = overdue_bodies(open_store(database_url), year, day, get_settings().rules)
    for body in bodies:
        last = (
            f"最近一次：{body.last_year} 年度（{local_time(body.last_received) or '收到时间未知'} 收到）"
            if body.last_year is not None
            else "从未报送"
        )
        level = LEVEL_NAMES.get(body.level, "层级未知")
        click.echo(f"{who(body.name, body.region)}\t{level}\t期限 {body.deadline.isoformat()}\t{last}")
    click.echo(f"{year} 年度报告截至 {day.isoformat()} 逾期未报：{len(bodies)} 个机关")
