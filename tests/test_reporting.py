"""Reports: secrets masked everywhere, and a summary a person reads in seconds."""

from __future__ import annotations

from contract_suite.core.redact import Secrets, secret_values
from contract_suite.core.reporting import Stats, summary_lines

SECRET = "58585568aa4dc44c733bc244495fc1f2de3c2d2f56287c265274ab806f74bb34"


def test_secret_fields_are_masked_even_when_never_registered() -> None:
    text = f'{{"id": 3, "secret": "{SECRET}", "url": "https://hooks.invalid/x"}}'
    assert Secrets()(text) == '{"id": 3, "secret": "5858…", "url": "https://hooks.invalid/x"}'


def test_a_secret_cut_short_by_schemathesis_line_truncation_is_masked_on_its_own_line() -> None:
    # schemathesis cuts JSON lines at 80 columns: the value loses its closing quote.
    text = f'  |   "secret": "{SECRET[:55]}...\n  |   "updated_at": "2026-11-28T21:43:18Z",'
    assert Secrets()(text) == '  |   "secret": "5858…\n  |   "updated_at": "2026-11-28T21:43:18Z",'


def test_registered_tokens_and_bearer_values_are_masked() -> None:
    text = "curl -H 'Authorization: Bearer unknown-token-999999' tok-registered-0123456789"
    cleaned = Secrets("tok-registered-0123456789")(text)
    assert "unknown-token-999999" not in cleaned and "tok-registered-0123456789" not in cleaned
    assert "Bearer unkn…" in cleaned and "tok-…" in cleaned


def test_summary_names_operation_check_received_documented_and_curl() -> None:
    stats = Stats(Secrets())
    stats.record_call("v2", "POST /webhooks")
    stats.record_check("v2", "POST /webhooks", "status_code_conformance", None, None)

    class Failure:
        title = "Undocumented status code"
        message = "Received: 200\nDocumented: 201, 422"

    stats.record_check("v2", "POST /webhooks", "status_code_conformance", Failure(),
                       f"curl -X POST -d '{{\"secret\": \"{SECRET}\"}}' http://127.0.0.1:1/api/v2/webhooks")
    stats.record_call("v1", "GET /webhooks")
    lines = summary_lines(stats.to_dict(), requests_by_client=3)
    text = "\n".join(lines)
    assert lines[0].startswith("ok   v1 GET /webhooks")
    assert lines[1].startswith("FAIL v2 POST /webhooks") and "1 failing" in lines[1]
    assert "v2 POST /webhooks — status_code_conformance: Undocumented status code" in text
    assert "    Received: 200" in text and "    Documented: 201, 422" in text
    assert "reproduce: curl -X POST" in text and SECRET not in text
    assert text.endswith("requests sent: 5 (2 generated, 3 by contracts, probe and cleanup)")


def test_worker_stats_merge_on_the_controller() -> None:
    worker_a, worker_b, controller = Stats(Secrets()), Stats(Secrets()), Stats(Secrets())
    worker_a.record_call("v2", "GET /webhooks")
    worker_b.record_call("v2", "GET /webhooks")
    controller.merge(worker_a.to_dict())
    controller.merge(worker_b.to_dict())
    assert controller.to_dict()["v2 GET /webhooks"]["calls"] == 2


def test_secrets_are_learnt_at_any_depth_and_each_session_knows_only_its_own() -> None:
    page = {"data": [{"id": 1, "secret": SECRET}], "meta": {"nested": [{"secret": "s" * 20}]}}
    assert sorted(secret_values(page)) == sorted([SECRET, "s" * 20])
    mine, theirs = Secrets(), Secrets()
    mine.learn(page)
    assert SECRET not in mine(f"x {SECRET} y") and "ssssssssssssssssssss" not in mine("s" * 20)
    assert theirs("s" * 20) == "s" * 20  # nothing leaks between sessions (no global state)
