"""The pytest side of a differential run: `--record-exchanges DIR` writes every exchange of
this process (generated, client, delivery), tagged with its test, as JSON lines.

Each pytest process (the xdist controller and every worker) writes its own file,
`DIR/exchanges-<process>.jsonl`: a test runs wholly in one process, so its exchanges stay
in order there, and which worker ran it does not matter to the comparison (exchanges are
matched by test and request, never by file). The controller (or a lone process) also
writes each test's outcome, so the comparison can tell a difference that is also a
contract failure from one that stays inside the spec. Everything written passes through
the session's `Secrets` (tokens, webhook secrets: `abcd…`).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from ..core.exchanges import Exchange
from ..core.options import add_string_option, lookup
from ..core.session import existing_session

DEST, FLAG, ENV = "aqid_record_exchanges", "--record-exchanges", "AQID_RECORD_EXCHANGES"
MAX_BODY_CHARS = 32_768  # larger bodies (oversized-body contracts) are kept as size + digest


class ExchangeWriter:
    """One process's recording file; called from any thread (the receiver's too)."""

    def __init__(self, path: Path, mask: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._mask = mask
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = self._mask(json.dumps(record, sort_keys=True, default=str))
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def exchange(self, exchange: Exchange) -> None:
        self.write({"type": "exchange", "kind": exchange.kind, "test": exchange.test,
                    "method": exchange.method, "url": exchange.url,
                    "request_headers": dict(exchange.request_headers),
                    "request_body": encode_body(exchange.request_body),
                    "status": exchange.status,
                    "response_headers": dict(exchange.response_headers),
                    "response_body": encode_body(exchange.response_body),
                    "elapsed": exchange.elapsed})

    def close(self) -> None:
        with self._lock:
            self._file.close()


def encode_body(raw: bytes | None) -> dict[str, Any] | None:
    """{"json": value} when the body parses, else {"text": …}; big ones as size + digest."""
    if not raw:
        return None
    if len(raw) > MAX_BODY_CHARS:
        import hashlib

        return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    try:
        return {"json": json.loads(raw)}
    except (ValueError, UnicodeDecodeError):
        return {"text": raw.decode("utf-8", errors="replace")}


_WRITER = pytest.StashKey[ExchangeWriter]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_string_option(parser, DEST, FLAG, ENV,
                      "write every exchange with the target, per test, as JSON lines under "
                      "this folder (a differential run's recording; secrets masked)")


def _process_name(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    folder = lookup(config, DEST, ENV)
    suite = existing_session(config)
    if not folder or suite is None:
        return
    writer = ExchangeWriter(Path(folder) / f"exchanges-{_process_name(config)}.jsonl",
                            suite.secrets)
    config.stash[_WRITER] = writer
    config.add_cleanup(writer.close)
    writer.write({"type": "meta", "process": _process_name(config),
                  "base_url": suite.target.base_url, "run_id": suite.target.run_id,
                  "seed": suite.seed, "profile": suite.options.profile})
    suite.exchanges.subscribe(writer.exchange)


class _Outcomes:
    """Each test's outcome, written once: by the controller (xdist replays the workers'
    reports there) or a lone process; a failure in setup or teardown counts too."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        writer = self.config.stash.get(_WRITER, None)
        if writer is not None and (report.failed or report.when == "call"):
            # `pings`: the test waits for and judges its webhooks' pings (the marker);
            # anywhere else a ping races the test, and the comparison leaves it out.
            writer.write({"type": "outcome", "test": report.nodeid, "when": report.when,
                          "outcome": report.outcome, "pings": "pings" in report.keywords})


def pytest_configure(config: pytest.Config) -> None:
    if lookup(config, DEST, ENV) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Outcomes(config), "aqid-differential-outcomes")
