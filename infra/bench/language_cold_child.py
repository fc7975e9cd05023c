"""The cold-start child of bench_language.py: build one language detector and detect one text, or, as the
reference, import the same module and build nothing. Kept tiny so the reference costs little beyond the
interpreter and the difference is the detector's own.

    python language_cold_child.py NAME TEXT
"""

import sys

from language_candidates import candidate_named

REFERENCE = "reference"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: language_cold_child.py NAME|reference TEXT", file=sys.stderr)
        return 2
    name, text = argv
    if name != REFERENCE:
        print(candidate_named(name).build()(text)[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
