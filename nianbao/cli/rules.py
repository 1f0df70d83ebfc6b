"""`nianbao rules`: the rules with their settings, one rule explained, or README's rule table."""

from __future__ import annotations

import click

from nianbao.cli.options import lang_option
from nianbao.display import severity_name
from nianbao.settings import get_settings
from rules import BUILTIN, Rule, all_rules, find_rule


def _explained(item: Rule, severity: str, lang: str) -> str:
    """A rule explained: to reviewers in Chinese (检查内容 / 为何重要 / 示例, then the basis), or with `lang`
    en to developers (the docstring). A rule without a Chinese explanation (a plugin's) shows its docstring."""
    basis = f"依据：{item.basis}\n" if item.basis else ""
    if lang == "en" or item.reviewer is None:
        return f"{item.id} ({severity}, version {item.version})\n{item.title}\n{basis}\n{item.explanation}"
    text = item.reviewer
    return (
        f"{item.id}（{severity_name(severity)}，第 {item.version} 版）\n{item.title}\n\n"
        f"检查内容：{text.checks}\n\n为何重要：{text.why}\n\n示例：{text.example}\n\n{basis}"
    ).rstrip()


@click.command(name="rules")
@click.option("--explain", "rule_id", default=None, help="Print what one rule checks, why, and an example.")
@click.option("--markdown", is_flag=True, help="Print the built-in rules as README's Markdown table.")
@lang_option
def rules_command(rule_id: str | None, markdown: bool, lang: str) -> None:
    """List the rules (id, severity, enabled, description), or explain one (in Chinese; --lang en: the
    developers' English docstring)."""
    settings = get_settings().rules
    if markdown:
        click.echo(rules_markdown(), nl=False)
        return
    if rule_id:
        item = find_rule(rule_id)
        if item is None:
            raise click.UsageError(f"unknown rule: {rule_id}")
        click.echo(_explained(item, settings.severity.get(item.id, item.severity), lang))
        return
    for item in all_rules():
        disabled = item.id in settings.disabled
        severity = settings.severity.get(item.id, item.severity)
        if lang == "en":
            click.echo(f"{item.id:36} {severity:8} {'disabled' if disabled else 'enabled':9} {item.title}")
        else:
            click.echo(f"{item.id:36} {severity_name(severity)}  {'停用' if disabled else '启用'}  {item.title}")


def rules_markdown() -> str:
    """The built-in rules as README's table (id, default severity, one-line description), in registry order."""
    lines = ["| id | severity | checks |", "|---|---|---|"]
    lines += [f"| {item.id} | {item.severity} | {item.title} |" for item in BUILTIN]
    return "\n".join(lines) + "\n"
