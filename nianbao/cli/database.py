"""`nianbao db upgrade`: the database schema."""

from __future__ import annotations

import click

from nianbao.cli.options import database_option, open_store, user_errors


@click.group(name="db")
def db() -> None:
    """The database schema."""


@db.command()
@database_option
@user_errors
def upgrade(database_url: str | None) -> None:
    """Apply the schema migrations up to the latest (an existing database keeps its data)."""
    store = open_store(database_url)
    before = store.revision()
    store.upgrade()
    click.echo(f"数据库结构版本：{before or '空'} → {store.revision()}")
