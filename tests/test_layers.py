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


PROJECT = ("report", "rules", "storage", *UPPER)


def test_the_command_line_imports_no_private_names() -> None:
    """What command modules share is public (`nianbao.cli.options`), not another module's `_helper`."""
    private = {
        f"{path.relative_to(ROOT)}: {node.module}.{alias.name}"
        for path in sorted((ROOT / "nianbao").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT
        for alias in node.names
        if alias.name.startswith("_")
    }
    assert private == set()


def test_the_commands_are_attached_without_imports_below_code() -> None:
    """Every module of the command line imports at its top: no command group is attached by an import at the
    bottom of a file (which hides the dependency and invites cycles)."""
    late = []
    for path in sorted((ROOT / "nianbao").rglob("*.py")):
        seen_code = False
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                if seen_code:
                    late.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # not the docstring
                seen_code = True
    assert late == []
