"""Write the parsed-policy cache into the built layer (``make build``): ``cache_policy_parse.py LAYER_POLICY``.

The layer is read-only on Lambda, so the cache a load writes beside a checkout's policy cannot be written there
at run time; without it every cold start imports PyYAML and parses the file. Validates the built layer's policy
exactly as the functions will, writes the cache, and fails when it could not be written (the build would ship a
slower cold start without saying so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from triage_gate.errors import ConfigurationError
from triage_gate.policy import load_policy
from triage_gate.policy_source import parsed_cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("policy", type=Path, help="the policy.yaml inside the built layer")
    args = parser.parse_args(argv)
    try:
        policy = load_policy(args.policy)
    except ConfigurationError as exc:
        print(f"policy cache: {exc}", file=sys.stderr)
        return 1
    cache = parsed_cache(args.policy, policy.sha256)
    if not cache.is_file():
        print(f"policy cache: could not write {cache} (a document JSON cannot hold, or a read-only directory)",
              file=sys.stderr)  # fmt: skip
        return 1
    where = cache.relative_to(args.policy.resolve().parent.parent)
    print(f"policy cache: {where} (policy sha256 {policy.sha256[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
