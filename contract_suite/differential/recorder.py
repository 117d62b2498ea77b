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
from ..deliveries.signature import verify

DEST, FLAG, ENV = "aqid_record_exchanges", "--record-exchanges", "AQID_RECORD_EXCHANGES"
MAX_BODY_CHARS = 32_768  # larger bodies (oversized-body contracts) are kept as size + digest


class ExchangeWriter:
    """One process's recording file; called from any thread (the receiver's too).

    A delivery's signature is keyed by the webhook's secret, which is masked in the file:
    the writer checks it here instead, against the secret the API answered for the
    webhook at that URL (kept in memory only), and records the verdict
    (`signature_check`). A delivery that arrives before its create's answer is recorded
    (a ping can) waits for it; one whose secret never shows is written at close.
    """

    def __init__(self, path: Path, mask: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._mask = mask
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}  # webhook url -> its secret, as the API answered
        self._waiting: dict[str, list[tuple[dict[str, Any], Exchange]]] = {}

    def write(self, record: dict[str, Any]) -> None:
        line = self._mask(json.dumps(record, sort_keys=True, default=str))
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def exchange(self, exchange: Exchange) -> None:
        record = {"type": "exchange", "kind": exchange.kind, "test": exchange.test,
                  "method": exchange.method, "url": exchange.url,
                  "request_headers": dict(exchange.request_headers),
                  "request_body": encode_body(exchange.request_body),
                  "status": exchange.status,
                  "response_headers": dict(exchange.response_headers),
                  "response_body": encode_body(exchange.response_body),
                  "elapsed": exchange.elapsed}
        if exchange.kind == "delivery":
            with self._lock:
                secret = self._secrets.get(exchange.url)
                if secret is None:
                    self._waiting.setdefault(exchange.url, []).append((record, exchange))
                    return
            self.write(_checked(record, exchange, secret))
            return
        self.write(record)
        for url, secret in _webhook_secrets(exchange):
            with self._lock:
                self._secrets[url] = secret
                waiting = self._waiting.pop(url, [])
            for held, delivery in waiting:
                self.write(_checked(held, delivery, secret))

    def close(self) -> None:
        with self._lock:
            waiting = [item for items in self._waiting.values() for item in items]
            self._waiting.clear()
        for record, _ in waiting:
            self.write({**record, "signature_check": "no secret seen for this URL"})
        with self._lock:
            self._file.close()


def _checked(record: dict[str, Any], delivery: Exchange, secret: str) -> dict[str, Any]:
    header = next((v for k, v in delivery.request_headers.items()
                   if k.lower() == "x-aqid-signature"), None)
    if not header:
        verdict = "unsigned"
    elif verify(secret, delivery.request_body or b"", header):
        verdict = "verifies with the webhook's secret"
    else:
        verdict = "does not verify with the webhook's secret"
    return {**record, "signature_check": verdict}


def _webhook_secrets(exchange: Exchange) -> list[tuple[str, str]]:
    """(url, secret) of each webhook an API answer shows (one webhook, or a list's)."""
    try:
        body = exchange.response_json()
    except Exception:  # noqa: BLE001 - not JSON: no webhook in it
        return []
    items = body.get("data") if isinstance(body, dict) and "data" in body else [body]
    return [(item["url"], item["secret"]) for item in items or ()
            if isinstance(item, dict) and isinstance(item.get("url"), str)
            and isinstance(item.get("secret"), str) and item["secret"]]


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
