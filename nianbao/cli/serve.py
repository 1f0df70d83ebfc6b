"""Commands of the web pages: `serve`, `user add` and `user passwd`."""

from __future__ import annotations

import sys

import click

from nianbao.cli.options import database_option, user_errors
from nianbao.settings import get_settings
from storage import Store

MAX_NAME_LENGTH = 64


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@database_option
@user_errors
def serve(host: str, port: int, database_url: str | None) -> None:
    """Serve the web pages for reviewers (overview, organizations, rules, findings and their triage).

    On loopback (the default) anyone on this machine may read and a signed-in reviewer may triage. On any other
    address every page needs a signed-in reviewer, the session cookie is Secure (serve it behind HTTPS), and the
    server refuses to start without a secret key of at least 32 random bytes (NIANBAO_SECRET_KEY) and at least
    one reviewer account (`nianbao user add`)."""
    import uvicorn

    from web.app import create_app
    from web.auth import exposure_problem, is_loopback

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    store = Store.open(settings.database)
    problem = exposure_problem(host, settings, store)
    store.dispose()
    if problem:
        raise click.ClickException(problem)
    app = create_app(settings, anonymous_read=is_loopback(host), secure_cookie=not is_loopback(host))
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"网页地址：http://{shown}:{port}/ （按 Ctrl+C 停止）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group()
def user() -> None:
    """Reviewer accounts of the web pages."""


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


def _read_password(from_stdin: bool) -> str:
    """A new password: asked for twice, or the first line of standard input; at least MIN_PASSWORD_LENGTH."""
    from web.auth import MIN_PASSWORD_LENGTH

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    return password


@user.command(name="add")
@click.argument("name")
@_password_stdin
@database_option
@user_errors
def add_user(name: str, password_stdin: bool, database_url: str | None) -> None:
    """Create the reviewer account NAME (the password is asked for twice, or read with --password-stdin)."""
    from web.auth import hash_password

    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise click.UsageError(f"用户名须为 1 至 {MAX_NAME_LENGTH} 个可见字符")
    password = _read_password(password_stdin)
    store = Store.open(database_url or get_settings().database)
    reviewer = store.add_reviewer(name, hash_password(password))
    click.echo(f"已创建审核人账号“{reviewer.name}”")


@user.command(name="passwd")
@click.argument("name")
@_password_stdin
@database_option
@user_errors
def change_password(name: str, password_stdin: bool, database_url: str | None) -> None:
    """Give the reviewer NAME a new password; every session signed in with the old one ends."""
    from web.auth import hash_password

    name = name.strip()
    store = Store.open(database_url or get_settings().database)
    if store.reviewer(name) is None:  # before asking for a password that would go nowhere
        raise click.ClickException(f"审核人“{name}”不存在")
    reviewer = store.set_password(name, hash_password(_read_password(password_stdin)))
    click.echo(f"已更改审核人“{reviewer.name}”的密码；用旧密码登录的会话已失效")
