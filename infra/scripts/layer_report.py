"""`make build`'s last step: every module of the built layer and functions has its bytecode, and the size.

    python infra/scripts/layer_report.py --tag cpython-313 --layer .aws-sam/build/CoreLayer \\
        .aws-sam/build/IngestFunction .aws-sam/build/TriageFunction ...

Checks that each ``.py`` under the given directories has ``__pycache__/<name>.<tag>.pyc`` compiled as an
unchecked-hash pyc (what the Makefile asks compileall for), then prints the layer's size unzipped and zipped
beside Lambda's limits. Exit 1 when bytecode is missing or stale-prone, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

MB = 1024 * 1024
# Lambda: function code plus all its layers, unzipped, at most 250 MB; a zip uploaded directly at most 50 MB.
UNZIPPED_LIMIT_MB = 250
ZIPPED_LIMIT_MB = 50
# PEP 552 pyc header: magic (4 bytes), flags (4 bytes). Flags bit 0 = hash-based, bit 1 = check the source.
HASH_BASED, CHECK_SOURCE = 0b01, 0b10


def sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def bytecode_problem(source: Path, tag: str) -> str | None:
    """Why ``source`` would be compiled again at import (None: its unchecked-hash pyc is there)."""
    pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
    if not pyc.is_file():
        return "no bytecode"
    with pyc.open("rb") as handle:
        header = handle.read(8)
    flags = int.from_bytes(header[4:8], "little") if len(header) == 8 else -1
    if flags != HASH_BASED:
        return "timestamp or checked-hash bytecode" if flags >= 0 else "truncated bytecode"
    return None


def missing_bytecode(roots: Sequence[Path], tag: str) -> tuple[int, list[str]]:
    """(modules checked, "path: problem" for each one without usable bytecode)."""
    checked, problems = 0, []
    for root in roots:
        for source in sources(root):
            checked += 1
            problem = bytecode_problem(source, tag)
            if problem:
                problems.append(f"{source}: {problem}")
    return checked, problems


def unzipped_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_bytes(root: Path) -> int:
    """Size of ``root``'s contents deflated into one zip, as sam packages the layer."""
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "layer.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    zipped.write(path, path.relative_to(root))
        return archive.stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the built layer's bytecode and report its size.")
    parser.add_argument("--tag", required=True, help="bytecode tag of the runtime's Python, e.g. cpython-313")
    parser.add_argument("--layer", type=Path, required=True, help="the built layer (the directory holding python/)")
    parser.add_argument("functions", type=Path, nargs="*", help="built function code directories to check too")
    args = parser.parse_args(argv)
    roots = [args.layer, *args.functions]
    absent = [str(r) for r in roots if not r.is_dir()]
    if absent:
        print(f"layer_report: no such directory: {', '.join(absent)}", file=sys.stderr)
        return 2
    checked, problems = missing_bytecode(roots, args.tag)
    if problems or not checked:
        shown = problems[:20] or ["no Python modules found"]
        print(f"bytecode: {len(problems)} of {checked} modules would compile at cold start:", file=sys.stderr)
        print("\n".join(f"  {p}" for p in shown), file=sys.stderr)
        return 1
    print(f"bytecode: {checked} modules, each with __pycache__/*.{args.tag}.pyc (unchecked-hash)")
    unzipped, zipped = unzipped_bytes(args.layer), zipped_bytes(args.layer)
    largest = max((unzipped_bytes(f) for f in args.functions), default=0)
    print(
        f"layer size: {unzipped / MB:.1f} MB unzipped, {(unzipped + largest) / MB:.1f} MB with the largest "
        f"function's code (limit {UNZIPPED_LIMIT_MB} MB); {zipped / MB:.1f} MB zipped "
        f"(direct upload limit {ZIPPED_LIMIT_MB} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
