#!/usr/bin/env python3
"""Delete every webhook left on a target by ANY contract-suite run (URLs tagged aqid-contracts/).

    make cleanup BASE_URL=https://staging.example TOKEN=...
    .venv/bin/python scripts/cleanup.py --base-url URL --token TOKEN

Prints one line per deleted webhook and a count; exit 1 when something could not be
deleted or the target refused, with one line saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract_suite.core.cleanup import delete_webhooks  # noqa: E402
from contract_suite.core.http import ApiClient  # noqa: E402
from contract_suite.core.probe import (  # noqa: E402
    ProbeFailure,
    probe_target,
    production_refusal,
    url_problem,
)
from contract_suite.core.target import Target  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("AQID_BASE_URL") or None)
    parser.add_argument("--token", default=os.environ.get("AQID_TOKEN") or None)
    parser.add_argument("--allow-production", action="store_true",
                        help="permit deleting tagged webhooks on the production host")
    args = parser.parse_args(argv)
    if not args.base_url or not args.token:
        print("cleanup: give --base-url and --token (or BASE_URL=... TOKEN=... to make)",
              file=sys.stderr)
        return 2
    base_url = args.base_url.rstrip("/")
    # Deleting our own tagged leftovers is the one write allowed on production, on request.
    problem = url_problem(base_url) or production_refusal(
        base_url, allow_production=args.allow_production, no_writes=True)
    if problem:
        print(problem.replace("--allow-production --no-writes", "--allow-production"),
              file=sys.stderr)
        return 2
    try:
        probe_target(base_url, args.token)
    except ProbeFailure as exc:
        print(str(exc), file=sys.stderr)
        return 1
    api = ApiClient(Target(base_url=base_url, token=args.token))
    try:
        result = delete_webhooks(api, None, on_deleted=lambda webhook_id, url: print(
            f"deleted webhook {webhook_id} {url}"))
    finally:
        api.close()
    for error in result.errors:
        print(f"cleanup problem: {api.secrets(error)}", file=sys.stderr)
    print(f"cleanup: deleted {len(result.deleted)} tagged webhook(s) on {base_url}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
