"""The `nianbao` command: one module per command group, the options they share in `options`."""

from __future__ import annotations

import click

from nianbao.cli.check import check
from nianbao.cli.database import db
from nianbao.cli.files import files
from nianbao.cli.findings import export, findings_command
from nianbao.cli.history import history
from nianbao.cli.ingest import ingest
from nianbao.cli.notify import notify
from nianbao.cli.pipeline import reconcile, run, watch, worker
from nianbao.cli.registry import orgs, overdue
from nianbao.cli.rules import rules_command, rules_markdown
from nianbao.cli.serve import serve, user

__all__ = ["main", "rules_markdown"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """nianbao: checks 政府信息公开工作年度报告 against the format, the 条例 and the 立法法."""


for command in (
    check, rules_command, ingest, history, findings_command, export, files, db,
    run, watch, worker, reconcile, serve, user, orgs, overdue, notify,
):  # fmt: skip
    main.add_command(command)
