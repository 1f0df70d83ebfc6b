"""The five real seed reports parse to their expected contract, and `nianbao check` prints it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from report.parse import parse_file

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = sorted((SHARED / "corpus" / "seeds").glob("*.txt"))
EXPECTED = SHARED / "contract" / "expected"

pytestmark = pytest.mark.skipif(not SEEDS, reason="../shared/corpus/seeds is not beside the project")


def expected(seed: Path) -> dict:
    return json.loads((EXPECTED / f"{seed.stem}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: seed.stem[:3])
def test_seed_tables_and_metadata(seed: Path) -> None:
    want = expected(seed)
    got = parse_file(seed).to_contract()
    assert got["tables"] == want["tables"]
    assert got["year"] == want["year"]
    assert got["published"] == want["published"]
    assert got["sections"] == want["sections"]
    assert got["organization"]["name"] == want["organization"]["name"]
    assert got["organization"]["level"] == want["organization"]["level"]
    assert got["schema"] == "nianbao.report/1"


def test_check_command_prints_one_json_line_per_seed_in_order() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", *map(str, SEEDS), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert [Path(line["source"]["path"]).name for line in lines] == [seed.name for seed in SEEDS]
    for seed, line in zip(SEEDS, lines, strict=True):
        want = expected(seed)
        fired = {finding["rule"] for finding in line["findings"]}
        assert set(want["findings_required"]) <= fired, seed.name
        assert not fired & set(want["findings_forbidden"]), seed.name
        assert line["source"]["sha256"] and line["source"]["format"] == "txt"


def test_fail_on_error_exits_1_when_a_seed_has_an_error() -> None:
    seed_with_errors = next(seed for seed in SEEDS if seed.name.startswith("002"))
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
