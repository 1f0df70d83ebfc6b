"""The `nianbao` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nianbao.display import SEVERITY_RANK, body_name, lang_option, severity_name
from nianbao.judge import check_files
from nianbao.settings import get_settings
from report.model import Report
from rules import BUILTIN, Rule, all_rules, find_rule
from storage import StoreError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """nianbao: checks 政府信息公开工作年度报告 against the format, the 条例 and the 立法法."""


def _text_summary(report: Report, lang: str) -> str:
    who = body_name(report.organization.name, report.organization.region)
    lines = [f"{report.source.path}: {who} {report.year or '?'} 年度，{len(report.findings)} 项发现"]
    if report.evidence.rejected:
        lines[0] = f"{report.source.path}: 未能处理：{report.evidence.rejected}"
    lines += [f"  [{severity_name(f.severity, lang)}] {f.rule} @ {f.location}: {f.message}" for f in report.findings]
    lines += [f"  [问题] {problem}" for problem in report.problems if problem != report.evidence.rejected]
    return "\n".join(lines)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Exit 1 when a finding at or above this severity is reported.",
)
@click.option("--db", "database_url", default=None, help="Also compare with the earlier years stored in this database.")
@lang_option
def check(
    files: tuple[Path, ...], output_format: str, fail_on: str | None, database_url: str | None, lang: str
) -> None:
    """Parse and check report FILES; one JSON line (or a short summary) per file, in the order given."""
    settings = get_settings()
    try:
        reports = check_files(list(files), settings, database_url=database_url)
    except StoreError as error:
        raise click.UsageError(f"--db {database_url}: {error}") from error
    for report in reports:
        if output_format == "json":
            click.echo(json.dumps(report.to_contract(), ensure_ascii=False))
        else:
            click.echo(_text_summary(report, lang))
    if fail_on and any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on] for r in reports for f in r.findings):
        sys.exit(1)


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


@main.command(name="rules")
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


# Commands defined in their own modules (storage queries, the pipeline) are attached here.

from nianbao.cli_storage import db, export, files, findings_command, history, ingest  # noqa: E402

main.add_command(ingest)
main.add_command(history)
main.add_command(findings_command)
main.add_command(export)
main.add_command(files)
main.add_command(db)

from nianbao.cli_pipeline import reconcile, run, watch, worker  # noqa: E402

main.add_command(run)
main.add_command(watch)
main.add_command(worker)
main.add_command(reconcile)

from nianbao.cli_web import serve, user  # noqa: E402

main.add_command(serve)
main.add_command(user)

from nianbao.cli_registry import orgs, overdue  # noqa: E402

main.add_command(orgs)
main.add_command(overdue)

from nianbao.cli_notify import notify  # noqa: E402

main.add_command(notify)
