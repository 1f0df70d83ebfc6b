"""The compliance rules: built-in ones and those other packages add through the `nianbao.rules` entry point."""

from __future__ import annotations

from rules.base import BUILTIN, Hit, ReviewerText, Rule, make_rule, rule
from rules.engine import all_rules, compare, evaluate, find_rule

__all__ = [
    "BUILTIN",
    "Hit",
    "ReviewerText",
    "Rule",
    "all_rules",
    "compare",
    "evaluate",
    "find_rule",
    "make_rule",
    "rule",
]
