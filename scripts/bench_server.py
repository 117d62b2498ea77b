#!/usr/bin/env python3
"""Loopback throughput of the reference server (v2 list, create, retrieve): a figure, not a test.

    .venv/bin/python scripts/bench_server.py [--requests 2000]

Starts the server through the launcher (temporary DB, rate limit out of the way) and sends
a bounded number of requests per operation with keep-alive httpx clients, from 1 and from
4 threads, then prints requests per second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reference_server.launcher import start_reference_server  # noqa: E402

TOKEN = "bench-token-000000"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
NEW_WEBHOOK = {"url": "https://hooks.invalid/bench", "events": ["*"], "is_enabled": False}
Operation = Callable[[httpx.Client, int], httpx.Response]


def operations() -> dict[str, Operation]:
    return {
        "list (limit 25)": lambda http, i: http.get("/api/v2/webhooks?limit=25"),
        "create": lambda http, i: http.post("/api/v2/webhooks", json=NEW_WEBHOOK),
        "retrieve": lambda http, i: http.get(f"/api/v2/webhooks/{1 + i % 50}"),
    }


def measure(base_url: str, operation: Operation, requests: int, threads: int) -> float:
    """Requests per second for `requests` calls split over `threads` keep-alive clients."""
    per_thread = requests // threads
    failures: list[int] = []

    def run() -> None:
        with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as http:
            for i in range(per_thread):
                status = operation(http, i).status_code
                if status >= 300:
                    failures.append(status)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"bench_server: {len(failures)} requests failed (e.g. {failures[0]})")
    return per_thread * threads / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per operation and run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, start_reference_server(
            db_path=Path(folder) / "bench.sqlite3", tokens={"bench": TOKEN},
            rate_limit=10**9) as server:
        with httpx.Client(base_url=server.base_url, headers=HEADERS) as http:
            for _ in range(50):  # something to retrieve and list
                http.post("/api/v2/webhooks", json=NEW_WEBHOOK).raise_for_status()
        print(f"reference server {server.base_url}, {args.requests} requests per cell")
        print(f"{'operation':18} {'1 thread':>12} {'4 threads':>12}")
        for name, operation in operations().items():
            single = measure(server.base_url, operation, args.requests, 1)
            quad = measure(server.base_url, operation, args.requests, 4)
            print(f"{name:18} {single:>8.0f} r/s {quad:>8.0f} r/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
