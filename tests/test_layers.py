"""Layers import downward only: report → rules → storage → worker, watcher, web and the command line (nianbao).

Read from the source with `ast`, so that an import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPPER = ("nianbao", "web", "worker", "watcher")
# Each layer, and the packages above it that it must not import.
FORBIDDEN = {
    "report": ("rules", "storage", *UPPER),
    "rules": ("storage", *UPPER),
    "storage": UPPER,
}


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in a file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_check_sees_imports_in_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os.path\n\ndef f():\n    from nianbao.settings import Settings\n    from . import x\n")
    assert imported_packages(sample) == {"os", "nianbao"}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & set(FORBIDDEN[layer]))
        for path in files
        if imported_packages(path) & set(FORBIDDEN[layer])
    }
    assert upward == {}
