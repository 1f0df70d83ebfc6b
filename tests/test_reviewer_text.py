"""Reviewers read Chinese: every built-in rule explains itself in Chinese (what it checks, why, an example in the
report's own words), `nianbao rules --explain` shows it, and the command line names severities and states in
Chinese unless `--lang en` asks for the ids."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from nianbao.cli import main
from rules import BUILTIN, Rule

# Words of the model and the code that a reviewer never sees in a report: snake_case fields, English words.
INTERNAL = re.compile(r"[A-Za-z]+_[A-Za-z_]+|\b(?:requests|appeals|active|carried|total|column|row|cell)\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("rule", BUILTIN, ids=lambda rule: rule.id)
def test_every_builtin_rule_explains_itself_to_reviewers_in_chinese(rule: Rule) -> None:
    assert rule.reviewer is not None, f"{rule.id} has no ReviewerText"
    for part in (rule.reviewer.checks, rule.reviewer.why, rule.reviewer.example):
        assert len(HAN.findall(part)) >= 10, (rule.id, part)
        assert not INTERNAL.search(part), (rule.id, part)
    # Why it matters names its basis: the format, the 条例 or the 立法法.
    assert re.search(r"国办公开办函|条例|立法法", rule.reviewer.why), rule.id


def test_rules_explain_is_chinese_and_english_on_request() -> None:
    runner = CliRunner()
    chinese = runner.invoke(main, ["rules", "--explain", "requests.carry_over_continuity"]).output
    assert chinese.startswith("requests.carry_over_continuity（错误，第 1 版）")
    for heading in ("检查内容：", "为何重要：", "示例：", "依据："):
        assert heading in chinese
    assert "What it does" not in chinese and "carried_in" not in chinese
    english = runner.invoke(main, ["rules", "--explain", "requests.carry_over_continuity", "--lang", "en"]).output
    assert english.startswith("requests.carry_over_continuity (error, version 1)") and "What it does" in english
    listing = runner.invoke(main, ["rules"]).output.splitlines()
    assert re.match(r"requests\.balance\s+错误  启用  ", listing[0])
    ids = runner.invoke(main, ["rules", "--lang", "en"]).output.splitlines()
    assert re.match(r"requests\.balance\s+error\s+enabled\s+", ids[0])
