"""`nianbao files`: the files the watcher has seen, and why those that failed did."""

from __future__ import annotations

import click

from nianbao.cli.options import database_option, lang_option, open_store, user_errors
from nianbao.display import local_time, state_name
from storage import LEDGER_STATES


@click.command()
@click.option(
    "--state", type=click.Choice(LEDGER_STATES), default=None,
    help="Only files whose newest entry is in this state (failed: what could not be processed, and why).",
)  # fmt: skip
@click.option("--limit", type=int, default=100, show_default=True)
@lang_option
@database_option
@user_errors
def files(state: str | None, limit: int, lang: str, database_url: str | None) -> None:
    """The files the watcher has seen, newest first: state, attempts, path and, for a failure, its reason."""
    entries = open_store(database_url).ledger_files(state, limit)
    for entry in entries:
        shown = state_name(entry.state, lang).ljust(*((4, "\u3000") if lang == "zh" else (10, " ")))
        click.echo(f"{local_time(entry.updated_at)}  {shown}  第{entry.attempts}次  {entry.path}")
        if entry.error:
            click.echo(f"    原因：{entry.error}")
    if not entries:
        click.echo("没有文件记录" + (f"（状态：{state_name(state, lang)}）" if state else ""))
