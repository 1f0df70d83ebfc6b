"""An install without the test extra (`pip install .`, the image's `pip install ".[postgres]"`) has every module
that the distributed mode imports: the worker on Redis and the watcher enqueueing to it."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def runtime_distributions() -> set[str]:
    """Every distribution an install of the project's runtime dependencies brings, extras followed."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    todo = [(Requirement(line), frozenset({""})) for line in pyproject["project"]["dependencies"]]
    found: set[str] = set()
    while todo:
        requirement, wanted_extras = todo.pop()
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in wanted_extras):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        try:
            lines = requires(name) or []
        except PackageNotFoundError:
            continue  # not installed here: nothing it would bring can have been imported
        extras = frozenset({"", *requirement.extras})
        todo += [(Requirement(line), extras) for line in lines]
    return found


def test_packaging_is_a_declared_runtime_dependency() -> None:
    assert "packaging" in runtime_distributions()


# Runs in a child process: modules of distributions outside the runtime dependencies cannot be imported there,
# as after `pip install .`; then the distributed mode's modules are imported and the Redis transport is built.
CHILD = """
import importlib.abc, json, sys

FORBIDDEN = frozenset(json.loads(sys.argv[1]))


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (only the test extra installs it)", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
import kombu.transport.redis
from kombu import Connection

Connection("redis://127.0.0.1:1/0").transport
import worker.tasks, watcher.watch, watcher.intake, nianbao.cli
print("imported")
"""


def test_the_redis_worker_and_watcher_start_from_runtime_dependencies_alone() -> None:
    allowed = runtime_distributions()
    test_only = sorted(
        module
        for module, distributions in packages_distributions().items()
        if not {canonicalize_name(name) for name in distributions} & allowed
        and module not in {"nianbao", "report", "rules", "storage", "worker", "watcher", "web", "tests"}
    )
    assert "pytest" in test_only and "selenium" in test_only  # the check does block the test extra
    run = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(test_only)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "NIANBAO_BROKER_URL": "redis://127.0.0.1:1/0"},
    )
    assert run.returncode == 0 and run.stdout.strip() == "imported", run.stderr[-2000:]
