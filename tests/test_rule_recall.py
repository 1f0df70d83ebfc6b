"""Recall and false alarms of the rules over generated reports, end to end: render, write, parse, judge.

Clean reports of every layout must raise nothing; each planted defect must be found, and nothing else
that the defect does not explain may fire. The measured figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections import Counter
from pathlib import Path

from nianbao.judge import check_files
from nianbao.settings import RuleSettings, Settings
from report.parse import parse_file
from rules import all_rules
from tests.generator import (
    BLANK_CAPABLE,
    FILE_SUFFIX,
    KINDS,
    LAYOUTS,
    SERIES_KINDS,
    GroundTruth,
    make_organization,
    make_series,
    make_truth,
    plant,
    plant_peer_copy,
    plant_series,
    violations,
)

LAYOUT_NAMES = sorted(LAYOUTS)
SETTINGS = Settings()
LEVEL_RULES = ("regulations.ineligible_issuer", "publication.late")


def write(folder: Path, name: str, layout: str, truth: GroundTruth, seed: int) -> Path:
    rendered = LAYOUTS[layout](truth, random.Random(seed))
    path = folder / f"{name}.{FILE_SUFFIX[layout]}"
    path.write_bytes(rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"))
    return path


def fired(path: Path) -> set[str]:
    return {finding.rule for finding in check_files([path], SETTINGS)[0].findings}


def test_no_false_alarm_on_clean_reports_of_every_layout(tmp_path: Path) -> None:
    false_alarms: Counter[str] = Counter()
    checked = 0
    for seed in range(160):
        layout = LAYOUT_NAMES[seed % len(LAYOUT_NAMES)]
        truth = make_truth(random.Random(seed), blanks=seed % 12 == 5)
        expected = set(violations(truth))
        for rule in fired(write(tmp_path, f"clean{seed}", layout, truth, seed)) - expected:
            false_alarms[f"{layout}:{rule}"] += 1
        checked += 1
    print(f"\nclean reports: {checked}, false alarms: {sum(false_alarms.values())} {dict(false_alarms)}")
    assert not false_alarms


def test_recall_of_every_planted_defect_across_layouts(tmp_path: Path) -> None:
    missed: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    planted = 0
    for index, kind in enumerate(KINDS):
        for round_, layout in enumerate(LAYOUT_NAMES):
            if kind == "structure.blank_cells" and layout not in BLANK_CAPABLE:
                continue  # where blanks vanish from the text, nobody can see them
            seed = 1000 + index * 10 + round_
            truth, expected = plant(make_truth(random.Random(seed)), kind, random.Random(seed))
            if (
                kind in LEVEL_RULES
                and not truth.show_title
                and truth.organization.level not in ("township", "department")
            ):
                continue  # untitled and naming itself 我区/我市: its level cannot be known, so neither can its duty
            found = fired(write(tmp_path, f"{kind}-{round_}", layout, truth, seed))
            planted += 1
            for rule in expected.rules - found:
                missed[f"{layout}:{rule}"] += 1
            for rule in found - expected.all_rules - expected.optional:
                extra[f"{layout}:{rule}"] += 1
    print(f"\nplanted defects: {planted}, missed: {dict(missed)}, unexplained findings: {dict(extra)}")
    assert not missed
    assert not extra


def test_cross_year_defects_in_series_and_namesakes_in_other_regions(tmp_path: Path) -> None:
    for index, kind in enumerate(SERIES_KINDS):
        rng = random.Random(500 + index)
        # a body whose title names its county: without one it would be ambiguous beside its namesake
        own = make_organization(rng, "township")
        while own.region is None:
            own = make_organization(rng, "township")
        series = make_series(rng, (2022, 2023, 2024), organization=own)
        defective, expected = plant_series(series, kind, random.Random(600 + index))
        region = "郧西县" if own.region != "郧西县" else "房县"
        namesake = dataclasses.replace(own, region=region, title_name=f"{region}{own.name}")
        others = make_series(random.Random(700 + index), (2022, 2023, 2024), organization=namesake)
        paths = [
            write(tmp_path, f"{kind}-own-{truth.year}", LAYOUT_NAMES[(year_index + index) % 8], truth, year_index)
            for year_index, truth in enumerate(defective)
        ]
        paths += [
            write(tmp_path, f"{kind}-other-{truth.year}", LAYOUT_NAMES[year_index], truth, year_index)
            for year_index, truth in enumerate(others)
        ]
        reports = check_files(paths, SETTINGS)
        rules_by_file = [{finding.rule for finding in report.findings} for report in reports]
        assert kind in rules_by_file[2], (kind, rules_by_file)
        cross_year = set(SERIES_KINDS)
        assert not rules_by_file[0] & cross_year and not rules_by_file[1] & cross_year
        assert not any(rules & cross_year for rules in rules_by_file[3:]), "a namesake in another region was merged"
        assert reports[2].compared_with is not None and reports[2].compared_with.year == 2023
        assert reports[5].compared_with is not None and reports[5].compared_with.sha256 == reports[4].source.sha256
        assert expected.rules <= rules_by_file[2]


def test_prose_defects_of_the_reviewers_rules_across_layouts(tmp_path: Path) -> None:
    """Problems without measures, another body's signature, a copy of another body's part 五 and a revised
    file: each found in every layout, and the unmodified report raises none of them."""
    reviewers_rules = {
        "narrative.problems_without_measures",
        "narrative.foreign_entity_name",
        "narrative.copied_from_peer",
        "report.revised_after_publication",
    }
    for index, layout in enumerate(LAYOUT_NAMES):
        rng = random.Random(900 + index)
        truth = make_truth(rng, level="township", show_title=True)
        clean = write(tmp_path, f"clean-{layout}", layout, truth, index)
        assert not fired(clean) & reviewers_rules, layout

        problems_only = copy.deepcopy(truth)
        five = problems_only.sections["五"]
        problems_only.sections["五"] = five[: next(i for i, p in enumerate(five) if p.startswith("（二）"))]
        assert "narrative.problems_without_measures" in fired(
            write(tmp_path, f"pwm-{layout}", layout, problems_only, index)
        )

        signed = copy.deepcopy(truth)
        other = make_organization(random.Random(index), "township")
        if other.title_name == truth.organization.title_name:
            continue
        signed.sections["六"] = [*signed.sections["六"], other.title_name]
        assert "narrative.foreign_entity_name" in fired(write(tmp_path, f"sig-{layout}", layout, signed, index))

        peer_truth = make_truth(random.Random(950 + index), level="township", year=truth.year, show_title=True)
        if peer_truth.organization.name == truth.organization.name:
            continue
        copied, _ = plant_peer_copy(peer_truth, truth, rng)
        paths = [clean, write(tmp_path, f"peer-{layout}", LAYOUT_NAMES[(index + 3) % 8], copied, index)]
        reports = check_files(paths, SETTINGS)
        assert "narrative.copied_from_peer" in {f.rule for f in reports[1].findings}, layout

        other_layout = LAYOUT_NAMES[(index + 1) % 8]
        revised = write(tmp_path, f"revised-{layout}", other_layout, truth, index + 1)
        reports = check_files([clean, revised], SETTINGS)
        assert "report.revised_after_publication" in {f.rule for f in reports[1].findings}, layout


def test_rules_skipped_without_earlier_years_or_peers_would_find_nothing_there(tmp_path: Path) -> None:
    """The engine does not call a rule marked `needs_earlier` (`needs_peers`) when there are no earlier years
    (no peers). Called anyway on reports where it fires with them, such a rule must find nothing without them."""
    settings = RuleSettings()
    gated = [item for item in all_rules() if item.needs_earlier or item.needs_peers]
    assert {item.id for item in gated} >= {"narrative.copied_from_peer", *SERIES_KINDS}
    fired_with_context: set[str] = set()
    for index, kind in enumerate(SERIES_KINDS):
        series, _ = plant_series(make_series(random.Random(40 + index)), kind, random.Random(80 + index))
        reports = [
            parse_file(write(tmp_path, f"{kind}-{truth.year}", LAYOUT_NAMES[index % 8], truth, index))
            for truth in series
        ]
        peer_truth = make_truth(random.Random(120 + index), year=series[-1].year, show_title=True)
        copied, _ = plant_peer_copy(peer_truth, series[-1], random.Random(160 + index))
        peer = parse_file(write(tmp_path, f"{kind}-peer", LAYOUT_NAMES[(index + 3) % 8], copied, index))
        current, earlier = reports[-1], reports[-2::-1]
        for item in gated:
            if item.findings(current, earlier, settings, [peer]):
                fired_with_context.add(item.id)
            without = item.findings(
                current, [] if item.needs_earlier else earlier, settings, [] if item.needs_peers else [peer]
            )
            assert not without, (item.id, without)
    assert fired_with_context >= {"narrative.copied_from_peer", *SERIES_KINDS}
