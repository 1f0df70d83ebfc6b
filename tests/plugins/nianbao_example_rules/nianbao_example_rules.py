"""An example third-party rule: section 六 should give a contact telephone number."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from report.model import Report
from rules import Hit, make_rule
from rules.settings import RuleSettings

PHONE = re.compile(r"\d{3,4}-?\d{7,8}")


@make_rule("example.contact_missing", "info", "第六部分没有联系电话", "第六部分没有留下联系电话，公众无法咨询。")
def contact_missing(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when section 六 gives no telephone number.

    Why is this bad?
    A local practice, not a national requirement: readers should be able to ask about the report.

    Example
    Section 六 reads only “无”.
    """
    if "六" in report.sections and not PHONE.search(report.evidence.section_text.get("六", "")):
        yield Hit(location="六", expected="联系电话", actual=None)
