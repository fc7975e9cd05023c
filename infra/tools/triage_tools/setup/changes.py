"""What a setup step changed, said as it happens: "created …", "would create …" (dry run), "… unchanged"."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Changes:
    dry_run: bool
    out: TextIO = field(default_factory=lambda: sys.stdout)
    made: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def change(self, verb: str, what: str) -> None:
        """``verb`` in the past tense ("created"); printed as "would create" in a dry run."""
        line = f"{self._would(verb)} {what}" if self.dry_run else f"{verb} {what}"
        self.made.append(line)
        print(f"  {line}", file=self.out)

    def unchanged(self, what: str) -> None:
        print(f"  {what}: unchanged", file=self.out)

    def problem(self, text: str) -> None:
        """Something the step could not do and a person must: counted, printed, and the exit code is 1."""
        self.problems.append(text)
        print(f"  ! {text}", file=self.out)

    def summary(self, scope: str) -> int:
        if not self.made:
            print(f"{scope}: no change", file=self.out)
        elif self.dry_run:
            print(f"{scope}: {len(self.made)} change(s) would be made (dry run: nothing changed)", file=self.out)
        else:
            print(f"{scope}: {len(self.made)} change(s) made", file=self.out)
        if self.problems:
            print(f"{scope}: {len(self.problems)} problem(s) left for you (marked !)", file=self.out)
        return 1 if self.problems else 0

    @staticmethod
    def _would(verb: str) -> str:
        stems = {"created": "create", "updated": "update", "stored": "store", "wrote": "write", "hid": "hide"}
        return f"would {stems.get(verb, verb)}"
