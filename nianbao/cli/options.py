"""What several commands share: the --db, --lang and finding filter options, opening the store, and turning
storage errors into a message for the user."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from nianbao.display import LANGUAGES, SEVERITY_NAMES
from nianbao.settings import get_settings
from storage import Store, StoreError

F = TypeVar("F", bound=Callable[..., Any])


def database_option(function: F) -> F:
    """`--db URL`, passed as `database_url` (None: the configured database)."""
    return click.option(
        "--db",
        "database_url",
        default=None,
        help="Database URL (default: NIANBAO_DATABASE_URL, or SQLite in the data directory).",
    )(function)


def lang_option(function: F) -> F:
    """`--lang zh` (default: severities and states in Chinese) or `--lang en` (their ids, for tools and
    developers)."""
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default="zh",
        show_default=True,
        help="zh: severities, states and explanations in Chinese; en: ids and the developers' English.",
    )(function)


def filter_options(function: F) -> F:
    """The filters of `findings` and `export`, passed as keyword arguments of `Store.findings`."""
    options = (
        click.option("--rule", default=None, help="Only this rule id."),
        click.option("--region", default=None, help="Only bodies of this region (county/district)."),
        click.option("--org", "organization", default=None, help="Only this body (白鹤镇 or 白鹤镇人民政府)."),
        click.option("--year", type=int, default=None, help="Only reports of this year."),
        click.option("--severity", type=click.Choice(sorted(SEVERITY_NAMES)), default=None),
        click.option(
            "--open",
            "open_only",
            is_flag=True,
            help="Only open findings: the latest version still has them and no reviewer dismissed them.",
        ),
    )
    for option in reversed(options):
        function = option(function)
    return function


def user_errors(function: F) -> F:
    """Storage errors are for the user: print them, exit 1, no traceback."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except StoreError as error:
            raise click.ClickException(str(error)) from error
        except SQLAlchemyError as error:
            raise click.ClickException(f"数据库出错：{error}") from error

    return run  # type: ignore[return-value]


def open_store(database_url: str | None) -> Store:
    """The store of `--db`, or of the settings; read commands do not migrate it (`nianbao db upgrade` does)."""
    return Store(database_url or get_settings().database)
