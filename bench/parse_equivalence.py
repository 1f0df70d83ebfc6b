"""Same output as a baseline checkout: the `check --format json` lines of two trees over the same files.

    .venv/bin/python bench/parse_equivalence.py --baseline /work/main --n 300
    .venv/bin/python bench/parse_equivalence.py --baseline /tmp/main-copy --n 300 --extra ../shared/corpus/real

Generates N reports per generator layout, plus N damaged text renderings per layout (tests/generator.py's
`damage`, random kinds), into a temporary folder, then runs `python -m nianbao check --format json` of this tree
and of the baseline tree (each on its own PYTHONPATH; the same interpreter unless --baseline-python names the
baseline's, to compare interpreters too) over the same files in batches of
--batch (a batch is one `check` run, so files also meet each other as peers and earlier years), and compares
the JSON lines: contract, findings and problems. Prints every differing file and exits 1 when any differs.
Speed is not measured here (bench/parse_bench.py does that).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.parse_bench import write_reports
from tests import generator

ROOT = Path(__file__).resolve().parents[1]


def write_files(folder: Path, n: int, seed: int, layouts: list[str]) -> list[Path]:
    rng = random.Random(seed)
    paths: list[Path] = []
    for layout in layouts:
        paths += write_reports(layout, n, folder, rng)
        for index in range(n):
            truth = generator.make_truth(rng)
            lines, kinds = generator.damage(generator.rendered_lines(layout, truth, rng), rng)
            path = folder / f"{layout}-damaged-{index}-{'+'.join(kinds)}.txt"
            path.write_bytes(generator.encode("\n".join(lines), rng))
            paths.append(path)
    return paths


def check_lines(tree: Path, paths: list[Path], batch: int, python: str = sys.executable) -> dict[str, str]:
    """File name → its JSON line from `check` run on `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result: dict[str, str] = {}
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        done = subprocess.run(
            [python, "-m", "nianbao", "check", "--format", "json", *map(str, chunk)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = done.stdout.splitlines()
        if len(lines) != len(chunk):
            raise SystemExit(f"{tree}: {len(lines)} lines for {len(chunk)} files\n{done.stderr[-2000:]}")
        result.update({path.name: line for path, line in zip(chunk, lines, strict=True)})
    return result


def differences(before: str, after: str) -> list[str]:
    old, new = json.loads(before), json.loads(after)
    return [key for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=200, help="reports per layout, and as many damaged ones")
    parser.add_argument("--layouts", default=",".join(generator.LAYOUTS), help="comma-separated generator layouts")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--batch", type=int, default=40, help="files per `check` run")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the tree under test (default: this checkout)")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of more report files")
    parser.add_argument("--baseline-python", default=sys.executable, help="the interpreter that runs the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        paths = write_files(Path(folder), args.n, args.seed, [x for x in args.layouts.split(",") if x])
        for extra in args.extra:
            paths += sorted(p for p in extra.iterdir() if p.suffix in {".txt", ".md", ".html", ".docx", ".pdf"})
        old = check_lines(args.baseline.resolve(), paths, args.batch, args.baseline_python)
        new = check_lines(args.tree.resolve(), paths, args.batch)
    differing = {name: differences(old[name], new[name]) for name in old if old[name] != new[name]}
    for name, keys in sorted(differing.items()):
        print(f"DIFFERS {name}: {', '.join(keys)}")
    print(
        f"{len(paths)} files, {len(differing)} differ (baseline {args.baseline} on {args.baseline_python}, seed {args.seed})"
    )
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
