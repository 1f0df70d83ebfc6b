"""The seed-like reports (tests/seed_samples.py: the seeds' bodies, years, tables and defects in the seeds'
layouts) parse to their ground truth, and `nianbao check` prints one line per file with the seeds' findings.

The real seeds and their expected output are checked by ../shared/tools/check_contract.py in scripts/test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from report.parse import parse_file
from tests.seed_samples import PREFIXES, sample, seed_path, seed_paths


@pytest.mark.parametrize("prefix", PREFIXES)
def test_seed_tables_and_metadata(prefix: str) -> None:
    truth = sample(prefix).truth
    got = parse_file(seed_path(prefix)).to_contract()
    assert got["tables"] == truth.tables()
    assert got["year"] == truth.year
    assert got["published"] == truth.published
    assert got["sections"] == truth.order
    assert got["organization"] == truth.expected_organization()
    assert got["schema"] == "nianbao.report/1"


def test_check_command_prints_one_json_line_per_seed_in_order() -> None:
    seeds = seed_paths()
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", *map(str, seeds), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert [Path(line["source"]["path"]).name for line in lines] == [seed.name for seed in seeds]
    for prefix, line in zip(PREFIXES, lines, strict=True):
        fired = {finding["rule"] for finding in line["findings"]}
        assert fired == sample(prefix).required, prefix
        assert line["source"]["sha256"] and line["source"]["format"] == "txt"


def test_fail_on_error_exits_1_when_a_seed_has_an_error() -> None:
    seed_with_errors = seed_path("002")
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", str(seed_with_errors), "--format", "json", "--fail-on", "error"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1


def test_usage_error_exits_2() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", "--format", "xml", "x.txt"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
