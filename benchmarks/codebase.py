"""How big the code is, and where it is too big to read at once.

Prints, per top-level package, the lines of Python (non-blank), the
modules over 500 lines and the functions over 50 lines; then the totals.
Run it before and after a refactoring to see what moved:

    python benchmarks/codebase.py            # the working tree
    python benchmarks/codebase.py --rev HEAD~5   # an earlier commit (git)

The duplicate pairs come from the `duplicates` tool of the workplace,
which is not part of the project; count them with `duplicates | grep -c`.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("analysis", "crawler", "store", "reports", "clausewatch", "tests", "benchmarks")
LONG_MODULE = 500
LONG_FUNCTION = 50


@dataclass
class PackageSize:
    lines: int = 0
    modules: int = 0
    long_modules: list[tuple[str, int]] = field(default_factory=list)
    long_functions: list[tuple[str, int]] = field(default_factory=list)


def python_files(root: Path, rev: str | None) -> dict[str, str]:
    """Path → source of every Python file in the packages, now or at `rev`."""
    if rev is None:
        return {
            str(path.relative_to(root)): path.read_text(encoding="utf-8")
            for package in PACKAGES
            for path in sorted((root / package).rglob("*.py"))
        }
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "--", *PACKAGES],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout.split()
    return {
        name: subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=root, check=True, capture_output=True, text=True,
        ).stdout
        for name in listing
        if name.endswith(".py")
    }


def long_functions(source: str) -> list[tuple[str, int]]:
    """(qualified name, lines) of every function longer than LONG_FUNCTION lines."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = child.end_lineno - child.lineno + 1
                if length > LONG_FUNCTION:
                    found.append((f"{prefix}{child.name}", length))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(source), "")
    return found


def measure(files: dict[str, str]) -> dict[str, PackageSize]:
    sizes: dict[str, PackageSize] = defaultdict(PackageSize)
    for name, source in files.items():
        size = sizes[name.split("/", 1)[0]]
        lines = sum(1 for line in source.splitlines() if line.strip())
        size.lines += lines
        size.modules += 1
        if lines > LONG_MODULE:
            size.long_modules.append((name, lines))
        size.long_functions += [(f"{name}:{qualname}", length) for qualname, length in long_functions(source)]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="measure this git revision instead of the working tree")
    parser.add_argument("--list", action="store_true", help="name every long module and function")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    sizes = measure(python_files(root, args.rev))
    print(f"{'package':<12} {'lines':>7} {'modules':>8} {'>500 lines':>11} {'functions >50':>14}")
    for package in PACKAGES:
        size = sizes.get(package, PackageSize())
        print(f"{package:<12} {size.lines:>7} {size.modules:>8} {len(size.long_modules):>11} {len(size.long_functions):>14}")
    total = PackageSize()
    for size in sizes.values():
        total.lines += size.lines
        total.modules += size.modules
        total.long_modules += size.long_modules
        total.long_functions += size.long_functions
    print(f"{'total':<12} {total.lines:>7} {total.modules:>8} {len(total.long_modules):>11} {len(total.long_functions):>14}")
    if args.list:
        for name, lines in sorted(total.long_modules, key=lambda item: -item[1]):
            print(f"module   {lines:>5}  {name}")
        for name, lines in sorted(total.long_functions, key=lambda item: -item[1]):
            print(f"function {lines:>5}  {name}")


if __name__ == "__main__":
    main()
