"""A rule from another installed package shows up in `nianbao rules` and in the findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.seed_samples import seed_path

PLUGIN = Path(__file__).parent / "plugins" / "nianbao_example_rules"


def test_entry_point_plugin_rule_is_listed_and_fires(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}
    listing = subprocess.run(
        [sys.executable, "-m", "nianbao", "rules"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "example.contact_missing" in listing.stdout
    seed_without_phone, seed_with_phone = seed_path("000"), seed_path("003")
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", str(seed_without_phone), str(seed_with_phone), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    fired = [{finding["rule"] for finding in line["findings"]} for line in lines]
    assert "example.contact_missing" in fired[0]
    assert "example.contact_missing" not in fired[1]
    plain = subprocess.run(
        [sys.executable, "-m", "nianbao", "rules"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "example.contact_missing" not in plain.stdout
