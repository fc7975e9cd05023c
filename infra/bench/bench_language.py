"""`make bench`: offline language identification of support tickets, every candidate measured in one run.

Each ticket's text is its subject and the first 3 non-blank body lines (at most 500 characters). For each
candidate (language_candidates.py), side by side:

  accuracy    overall, on each kind of ticket (short, long, signature, code, mixed), per language (second
              table); "no answer" counts tickets it declined (they count as wrong)
  confidence  what it returns when unsure, its answers for three probe texts, and coverage/accuracy above
              confidence 0.5, 0.7, 0.9 and at the lowest threshold that reaches 99% (and 97%) accuracy
  size        installed bytes of the package and of every dependency neither the layer nor the Lambda runtime
              already has (numpy for py3langid), plus the model file; optionally (--wheels DIR) the sum of
              their manylinux aarch64 cp313 wheels, downloaded beforehand with
                pip download --no-deps --only-binary=:all: --platform manylinux2014_aarch64
                  --platform manylinux_2_28_aarch64 --python-version 3.13 --implementation cp -d DIR PKG==VER
  cold start  a fresh interpreter runs language_cold_child.py, which imports the package, builds the
              detector and detects one ticket (a `long` one); minus the same child building nothing (the
              reference, printed too, beside `python -c pass`); wall clock and CPU (user + system); bytecode
              compiled by an untimed run first; runs alternate between the reference and every candidate;
              min/median/max
  µs/ticket   warm, one ticket per call, median of repeated passes over the whole sample

Measured on this machine (its architecture is printed), not on Lambda's arm64: compare the rows, not the
absolute figures. Numbers, not pass/fail: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench_stats import Spread, machine_line, render_table
from language_candidates import CANDIDATES, SAMPLE_LANGUAGES, Candidate, Detect, candidate_named
from language_cold_child import REFERENCE
from language_scoring import (
    Prediction,
    SampleError,
    Ticket,
    accuracy,
    accuracy_by,
    coverage_at,
    format_coverage,
    kinds_in_order,
    load_tickets,
    lowest_threshold_for,
    percent,
    ticket_text,
    to_iso639_1,
)

if TYPE_CHECKING:
    from language_footprint import Footprint

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLE = ROOT / "infra" / "seed" / "multilingual-tickets.jsonl"
LAYER_REQUIREMENTS = ROOT / "layers" / "core" / "requirements.txt"
CHILD = Path(__file__).with_name("language_cold_child.py")
PYTHON_PASS = "python -c pass"
THRESHOLDS = (0.5, 0.7, 0.9)
HEADLINE_THRESHOLD = 0.7
TARGET_ACCURACIES = (0.99, 0.97)
PROBES = ("", "12345", "ok")
CHILD_TIMEOUT_S = 120


@dataclass(frozen=True)
class Settings:
    cold_runs: int
    warm_passes: int


QUICK = Settings(cold_runs=7, warm_passes=3)
FULL = Settings(cold_runs=15, warm_passes=7)


@dataclass
class Measured:
    candidate: Candidate
    predictions: list[Prediction]
    probes: list[str]
    warm_us: Spread


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare offline language detectors on the multilingual ticket sample: accuracy, "
        "confidence, size, cold start and µs per ticket.",
        epilog=f"candidates: {', '.join(c.name for c in CANDIDATES)}",
    )
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="JSON-lines tickets (default: %(default)s)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.cold_runs} cold runs, {QUICK.warm_passes} warm passes "
        f"(default {FULL.cold_runs} and {FULL.warm_passes})",
    )
    parser.add_argument("--only", help="comma-separated candidate names to measure (default: all)")
    parser.add_argument("--wheels", type=Path, help="directory of downloaded aarch64 wheels, for the wheel-size column")
    return parser.parse_args(argv)


def selected(only: str | None) -> list[Candidate]:
    if only is None:
        return list(CANDIDATES)
    return [candidate_named(name.strip()) for name in only.split(",") if name.strip()]


def predict(detect: Detect, tickets: Sequence[Ticket], texts: Sequence[str]) -> list[Prediction]:
    predictions = []
    for ticket, text in zip(tickets, texts, strict=True):
        code, confidence = detect(text)
        predictions.append(Prediction(ticket.language, ticket.kind, to_iso639_1(code), confidence))
    return predictions


def warm_us_per_ticket(detect: Detect, texts: Sequence[str], passes: int) -> Spread:
    samples = []
    for _ in range(passes):
        start = time.perf_counter()
        for text in texts:
            detect(text)
        samples.append((time.perf_counter() - start) / len(texts) * 1e6)
    return Spread.of(samples)


def measure(candidate: Candidate, tickets: Sequence[Ticket], texts: Sequence[str], settings: Settings) -> Measured:
    detect = candidate.build()
    predictions = predict(detect, tickets, texts)
    probes = [f"{to_iso639_1(code) or 'none'} {confidence:.2f}" for code, confidence in map(detect, PROBES)]
    return Measured(candidate, predictions, probes, warm_us_per_ticket(detect, texts, settings.warm_passes))


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_process(command: Sequence[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) milliseconds of one child process."""
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    elapsed_ms = (time.perf_counter() - start) * 1e3
    cpu_ms = (_children_cpu_s() - cpu_before) * 1e3
    if completed.returncode != 0 or (command[1] == str(CHILD) and command[2] != REFERENCE and not completed.stdout):
        raise RuntimeError(f"cold-start child {command[1:3]} failed: {completed.stderr.strip()[-500:]}")
    return elapsed_ms, cpu_ms


@dataclass(frozen=True)
class ColdSamples:
    """Per child (and ``python -c pass``), one wall-clock and one CPU figure (ms) per round."""

    wall_ms: dict[str, list[float]]
    cpu_ms: dict[str, list[float]]

    def minus_reference(self, name: str) -> tuple[Spread, Spread]:
        """Each round's child minus the reference child of the same round: (wall, CPU)."""
        return (
            Spread.of([c - r for c, r in zip(self.wall_ms[name], self.wall_ms[REFERENCE], strict=True)]),
            Spread.of([c - r for c, r in zip(self.cpu_ms[name], self.cpu_ms[REFERENCE], strict=True)]),
        )


def cold_starts(names: Sequence[str], text: str, runs: int) -> ColdSamples:
    """Each child and ``python -c pass`` once per round, the order rotating, after one untimed run each."""
    commands = {name: [sys.executable, str(CHILD), name, text] for name in names}
    commands[PYTHON_PASS] = [sys.executable, "-c", "pass"]
    for command in commands.values():
        time_process(command)  # compiles bytecode and warms the page cache; not timed
    samples = ColdSamples({name: [] for name in commands}, {name: [] for name in commands})
    order = list(commands)
    for run in range(runs):
        shift = run % len(order)
        for name in order[shift:] + order[:shift]:
            wall, cpu = time_process(commands[name])
            samples.wall_ms[name].append(wall)
            samples.cpu_ms[name].append(cpu)
    return samples


def main_table(
    results: Sequence[Measured], kinds: Sequence[str], sizes: dict[str, Footprint], cold: ColdSamples
) -> str:
    header = (
        "detector",
        "all %",
        *(f"{k} %" for k in kinds),
        "no answer",
        f">={HEADLINE_THRESHOLD} cov/acc %",
        "adds MB",
        "wheels MB",
        "cold - reference: wall",
        "CPU",
        "µs/ticket",
    )
    rows = []
    for result in results:
        by_kind = accuracy_by(result.predictions, lambda p: p.kind)
        footprint = sizes[result.candidate.name]
        wall, cpu = cold.minus_reference(result.candidate.name)
        rows.append(
            (
                result.candidate.name,
                percent(accuracy(result.predictions)),
                *(percent(by_kind.get(k)) for k in kinds),
                str(sum(p.language is None for p in result.predictions)),
                format_coverage(coverage_at(result.predictions, HEADLINE_THRESHOLD)),
                f"{footprint.total_bytes / 1e6:.1f}",
                "-" if footprint.wheel_bytes is None else f"{footprint.wheel_bytes / 1e6:.1f}",
                wall.format("ms"),
                cpu.format("ms"),
                result.warm_us.format("µs", 0),
            )
        )
    blanks = ("",) * (len(header) - 4)
    for name, label in ((REFERENCE, "reference: child, no detector"), (PYTHON_PASS, PYTHON_PASS)):
        wall, cpu = Spread.of(cold.wall_ms[name]), Spread.of(cold.cpu_ms[name])
        rows.append((label, *blanks, f"{wall.format('ms')} abs", f"{cpu.format('ms')} abs", ""))
    return render_table(header, rows)


def language_table(results: Sequence[Measured]) -> str:
    present = {p.truth for p in results[0].predictions}
    languages = [lang for lang in SAMPLE_LANGUAGES if lang in present] + sorted(present - set(SAMPLE_LANGUAGES))
    counts = {lang: sum(p.truth == lang for p in results[0].predictions) for lang in languages}
    rows = []
    for result in results:
        by_language = accuracy_by(result.predictions, lambda p: p.truth)
        rows.append((result.candidate.name, *(percent(by_language[lang], 0) for lang in languages)))
    return render_table(("detector", *(f"{lang} ({counts[lang]})" for lang in languages)), rows)


def confidence_table(results: Sequence[Measured]) -> str:
    header = (
        "detector",
        *(f">={t} cov/acc" for t in THRESHOLDS),
        *(f"for {percent(a, 0)}% acc: thr cov/acc" for a in TARGET_ACCURACIES),
        *(f"on {p!r}" for p in PROBES),
    )
    rows = []
    for result in results:
        targets = []
        for target in TARGET_ACCURACIES:
            found = lowest_threshold_for(result.predictions, target)
            targets.append("-" if found is None else f"{found.threshold:.2f} {format_coverage(found)}")
        rows.append(
            (
                result.candidate.name,
                *(format_coverage(coverage_at(result.predictions, t)) for t in THRESHOLDS),
                *targets,
                *result.probes,
            )
        )
    return render_table(header, rows)


def notes_table(results: Sequence[Measured], sizes: dict[str, Footprint]) -> str:
    rows = [
        (r.candidate.name, r.candidate.licence, sizes[r.candidate.name].describe(), r.candidate.how) for r in results
    ]
    return render_table(("detector", "licence", "adds (MB each)", "how it is used / when unsure"), rows)


def run(args: argparse.Namespace) -> int:
    from language_footprint import footprint, layer_distributions

    settings = QUICK if args.quick else FULL
    tickets = load_tickets(args.sample)
    texts = [ticket_text(t.subject, t.body) for t in tickets]
    kinds = kinds_in_order(t.kind for t in tickets)
    results: list[Measured] = []
    missing: list[str] = []
    for candidate in selected(args.only):
        try:
            results.append(measure(candidate, tickets, texts, settings))
        except ImportError as error:
            missing.append(f"{candidate.name} ({error})")
    if not results:
        print(f"no candidate is installed: {'; '.join(missing)}", file=sys.stderr)
        return 1
    in_layer = layer_distributions(LAYER_REQUIREMENTS)
    sizes: dict[str, Footprint] = {
        r.candidate.name: footprint(r.candidate.distributions, r.candidate.extra_files(), in_layer, args.wheels)
        for r in results
    }
    long_texts = [text for ticket, text in zip(tickets, texts, strict=True) if ticket.kind == "long"]
    cold = cold_starts([REFERENCE, *(r.candidate.name for r in results)], (long_texts or texts)[0], settings.cold_runs)
    print(machine_line(f"{settings.cold_runs} cold runs, {settings.warm_passes} warm passes"))
    print(f"sample: {args.sample} — {len(tickets)} tickets, kinds {', '.join(kinds)}")
    print("\n" + main_table(results, kinds, sizes, cold))
    print("\naccuracy % per language (tickets)\n" + language_table(results))
    print("\nconfidence: coverage % / accuracy % of the covered tickets\n" + confidence_table(results))
    print("\n" + notes_table(results, sizes))
    if missing:
        print(f"\nnot measured, not installed ({len(missing)}): {'; '.join(missing)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.sample.is_file():
        print(f"error: sample {args.sample} does not exist (--sample PATH)", file=sys.stderr)
        return 2
    try:
        return run(args)
    except SampleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
