"""Same findings as a baseline tree's rules: `rules.evaluate` and `rules.compare` of this tree and of a baseline
checkout, both loaded in one process, judged over the same parsed reports.

    .venv/bin/python bench/rules_equivalence.py --baseline /work/base20 --n 40
    .venv/bin/python bench/rules_equivalence.py --baseline /work/base20 --n 40 --extra ../shared/corpus/real

The baseline's `rules` package is imported under the same names beside this tree's (`load_rules`), bound to this
tree's `report` package, so both judge the very same `Report` objects (each tree a deep copy of its own). Cases,
for every generator layout and N rounds: a clean report, one with a planted defect (`generator.KINDS` in turn), a
damaged rendering (`generator.damage`); and a batch judged as `nianbao check` judges files given together — a
three-year series with a planted defect (`SERIES_KINDS` and `KINDS` in turn) in layouts that rotate, a revised
version of its last year, another body's report of that year that copies its part 五 (`plant_peer_copy`) and a
third body's clean one — each report with its earlier years (`report.identity.earlier_reports`) and the peers of
each tree's own `PeerIndex`; then the batch's last year again with every other report of the batch as a peer,
whole and as storage reads them back (`storage.peers._prose_of`: source, body, year, parts 一 and 五). With
--extra, each file of the folders alone and all of them as one batch. Every case is judged under the default
settings and under loose ones (low thresholds, another deadline, overrides, a disabled rule), which reach
branches the defaults leave alone. Compared: the comparison, the findings (as JSON, so 1 and 1.0 differ), the
problems and the peer candidates. Prints every differing case and the count; exits 1 when any differs.
Speed: bench/rules_bench.py.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import random
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report.identity import earlier_reports  # noqa: E402
from report.model import Evidence, Report  # noqa: E402
from report.parse import parse_file  # noqa: E402
from tests import generator  # noqa: E402

REPORT_SUFFIXES = {".txt", ".md", ".html", ".docx", ".pdf"}


@dataclass
class Rules:
    """One tree's rules: `evaluate`, `compare`, its settings class and its peer index."""

    name: str
    evaluate: Callable[..., Any]
    compare: Callable[..., Any]
    settings: type
    peer_index: type


_LOADED = ("rules.engine", "rules.settings", "rules.similarity")


def _rules_modules() -> dict[str, types.ModuleType]:
    return {name: mod for name, mod in sys.modules.items() if name == "rules" or name.startswith("rules.")}


def load_rules(baseline: Path) -> tuple[Rules, Rules]:
    """(this tree's rules, the baseline's): the baseline's `rules` modules imported under their own names while
    this tree's are set aside, then this tree's put back; both import this tree's `report`."""
    for name in _LOADED:
        importlib.import_module(name)
    mine = _rules_modules()
    for name in mine:
        del sys.modules[name]
    sys.path.insert(0, str(baseline))
    try:
        for name in _LOADED:
            importlib.import_module(name)
    finally:
        sys.path.remove(str(baseline))
        theirs = _rules_modules()
        for name in theirs:
            del sys.modules[name]
        sys.modules.update(mine)
    stray = [
        name
        for name, mod in sys.modules.items()
        if name not in theirs and str(getattr(mod, "__file__", "") or "").startswith(str(baseline))
    ]
    engine_file = str(theirs["rules.engine"].__file__)
    if stray or not engine_file.startswith(str(baseline)):
        raise SystemExit(f"the baseline's rules did not load apart: {stray or engine_file}")
    return tree_rules("this tree", mine), tree_rules(str(baseline), theirs)


def tree_rules(name: str, modules: dict[str, types.ModuleType]) -> Rules:
    engine, settings = modules["rules.engine"], modules["rules.settings"]
    return Rules(name, engine.evaluate, engine.compare, settings.RuleSettings, modules["rules.similarity"].PeerIndex)


LOOSE = {
    "disabled": ["narrative.missing_topics"],
    "severity": {"requests.balance": "warning", "narrative.copied_from_peer": "error"},
    "copy_similarity": 0.5,
    "township_deadline": "01-31",
    "township_deadlines": {"湖北省": "02-28", "房县": "01-15"},
    "copy_min_chars": 10,
    "copy_min_chars_part_six": 20,
    "peer_similarity": 0.6,
    "peer_min_chars": 30,
    "thin_section_chars": 60,
    "fee_ceiling_wan": {"township": 1.0, "department": 5.0, "county": 10.0},
}
SETTINGS = {"default": {}, "loose": LOOSE}


@dataclass
class Case:
    """A report to judge (`reports[judged]`), with its earlier years and peers (positions in `reports`), or a batch judged as
    `nianbao check` judges files given together (`batch`: each report with its earlier years and indexed peers)."""

    name: str
    reports: list[Report]
    judged: int = 0  # the report judged, when not a batch
    earlier: list[int] = field(default_factory=list)
    peers: list[int] = field(default_factory=list)
    batch: bool = False


def parsed(layout: str, truth: generator.GroundTruth, rng: random.Random, name: str) -> Report:
    rendered = generator.LAYOUTS[layout](truth, rng)
    data = generator.encode(rendered, rng) if isinstance(rendered, str) else rendered
    return parse_file(Path(f"/cases/{name}.{generator.FILE_SUFFIX[layout]}"), data=data)


def prose_only(report: Report) -> Report:
    """A peer as storage reads it back when no rule wants more (`storage.peers._prose_of`)."""
    parts = {part: text for part, text in report.evidence.section_text.items() if part in ("一", "五")}
    return Report(
        source=report.source, organization=report.organization, year=report.year, evidence=Evidence(section_text=parts)
    )


def generated_cases(layouts: Sequence[str], n: int, seed: int) -> Iterator[Case]:
    rng = random.Random(seed)
    kinds, series_kinds = generator.KINDS, (*generator.SERIES_KINDS, *generator.KINDS)
    for layout_index, layout in enumerate(layouts):
        for index in range(n):
            tag = f"{layout}-{index}"
            truth = generator.make_truth(rng, blanks=index % 7 == 3)
            yield Case(f"{tag}-clean", [parsed(layout, truth, rng, f"{tag}-clean")])
            kind = kinds[(index + layout_index) % len(kinds)]
            planted, _ = generator.plant(generator.make_truth(rng), kind, rng)
            yield Case(f"{tag}-{kind}", [parsed(layout, planted, rng, f"{tag}-{kind}")])
            lines, damages = generator.damage(generator.rendered_lines(layout, generator.make_truth(rng), rng), rng)
            data = generator.encode("\n".join(lines), rng)
            name = f"{tag}-damaged-{'+'.join(damages)}"
            yield Case(name, [parse_file(Path(f"/cases/{name}.txt"), data=data)])
            yield from series_cases(layouts, layout_index + index, tag, series_kinds, rng)


def series_cases(
    layouts: Sequence[str], turn: int, tag: str, kinds: Sequence[str], rng: random.Random
) -> Iterator[Case]:
    kind = kinds[turn % len(kinds)]
    own = generator.make_organization(rng, ("township", "department", "county")[turn % 3])
    series, _ = generator.plant_series(generator.make_series(rng, organization=own), kind, rng)
    layout_of = [layouts[(turn + step) % len(layouts)] for step in range(6)]
    reports = [parsed(layout_of[step], truth, rng, f"{tag}-{kind}-{truth.year}") for step, truth in enumerate(series)]
    last = series[-1]
    reports.append(parsed(layout_of[3], last, rng, f"{tag}-{kind}-{last.year}-revised"))
    peer_truth = generator.make_truth(rng, level=own.level, year=last.year, show_title=True)
    other_body = (peer_truth.organization.name, peer_truth.organization.region) != (own.name, own.region)
    if other_body and "五" in peer_truth.sections and "五" in last.sections:
        copied, _ = generator.plant_peer_copy(peer_truth, last, rng)
        reports.append(parsed(layout_of[4], copied, rng, f"{tag}-peer-copy"))
    third = generator.make_truth(rng, year=last.year, show_title=True)
    if turn % 2 and "五" in last.sections:  # a third body that took another body's part 五 whole, names and all
        third.sections["五"] = list(last.sections["五"])
    reports.append(parsed(layout_of[5], third, rng, f"{tag}-third"))
    yield Case(f"{tag}-batch-{kind}", reports, batch=True)
    others = [position for position in range(len(reports)) if position != 2]
    yield Case(f"{tag}-peers-{kind}", reports, 2, earlier=[3, 1, 0], peers=others)
    prose = [*reports, *(prose_only(reports[position]) for position in others)]
    yield Case(f"{tag}-prose-peers-{kind}", prose, 2, earlier=[1, 0], peers=list(range(len(reports), len(prose))))


def file_cases(folders: Sequence[Path]) -> Iterator[Case]:
    paths = sorted(path for folder in folders for path in folder.iterdir() if path.suffix in REPORT_SUFFIXES)
    reports = [parse_file(path) for path in paths]
    for path, one in zip(paths, reports, strict=True):
        yield Case(path.name, [one])
    if reports:
        yield Case("extra-batch", reports, batch=True)
        yield Case("extra-peers", reports, peers=list(range(1, len(reports))))


def judged(tree: Rules, case: Case, settings: dict[str, Any]) -> str:
    """The case judged by one tree's rules, as JSON: per report its comparison, findings, problems and peers."""
    reports = copy.deepcopy(case.reports)
    rule_settings = tree.settings(**settings)
    outcomes = []
    if case.batch:
        index = tree.peer_index()
        if len(reports) > 1:
            for one in reports:
                index.add(one)
        for one in reports:
            earlier = earlier_reports(one, reports)
            peers = index.candidates(one)
            outcomes.append(outcome(tree, one, earlier, peers, rule_settings, reports))
    else:
        earlier = [reports[position] for position in case.earlier]
        peers = [reports[position] for position in case.peers]
        outcomes.append(outcome(tree, reports[case.judged], earlier, peers, rule_settings, reports))
    return json.dumps(outcomes, ensure_ascii=False, sort_keys=True, default=str)


def outcome(
    tree: Rules, one: Report, earlier: list[Report], peers: list[Report], settings: Any, reports: list[Report]
) -> dict[str, Any]:
    compared = tree.compare(one, earlier)
    findings = tree.evaluate(one, earlier, settings, peers)
    return {
        "compared_with": compared.model_dump(mode="json") if compared is not None else None,
        "findings": [finding.model_dump(mode="json") for finding in findings],
        "problems": one.problems,
        "earlier": [reports.index(other) for other in earlier],
        "peers": [reports.index(other) for other in peers],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=40, help="rounds per layout")
    parser.add_argument("--layouts", default=",".join(generator.LAYOUTS), help="comma-separated generator layouts")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of more report files")
    args = parser.parse_args()
    mine, theirs = load_rules(args.baseline.resolve())
    layouts = [layout for layout in args.layouts.split(",") if layout]
    cases = differing = reports = findings = 0
    for case in [*generated_cases(layouts, args.n, args.seed), *file_cases(args.extra)]:
        for settings_name, settings in SETTINGS.items():
            cases += 1
            reports += len(case.reports) if case.batch else 1
            new, old = judged(mine, case, settings), judged(theirs, case, settings)
            findings += sum(len(each["findings"]) for each in json.loads(old))
            if new != old:
                differing += 1
                print(
                    f"DIFFERS {case.name} ({settings_name} settings)\n  baseline:  {old[:1500]}\n  this tree: {new[:1500]}"
                )
    print(
        f"{cases} cases ({reports} reports judged by each tree, {findings} findings by the baseline), "
        f"{differing} differ (baseline {args.baseline})"
    )
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
