"""ApiClient credentials: each named credential sends its own token, or says which is missing."""

from __future__ import annotations

import httpx
import pytest

from contract_suite.core.exchanges import Exchange
from contract_suite.core.http import ApiClient, MissingCredentials
from contract_suite.core.target import Target

TARGET = Target(base_url="http://fake", token="main-0123456789",
                other_team_token="other-0123456789", read_only_token="ro-0123456789")


@pytest.mark.parametrize(("credentials", "authorization"), [
    ("token", "Bearer main-0123456789"),
    ("other_team", "Bearer other-0123456789"),
    ("read_only", "Bearer ro-0123456789"),
    ("none", None),
])
def test_each_credential_sends_its_token(credentials: str, authorization: str | None) -> None:
    assert ApiClient(TARGET).auth_headers(credentials).get("Authorization") == authorization  # type: ignore[arg-type]


@pytest.mark.parametrize(("credentials", "option"), [("other_team", "--other-team-token"),
                                                     ("read_only", "--read-only-token")])
def test_a_credential_the_run_was_not_given_names_its_option(credentials: str,
                                                             option: str) -> None:
    client = ApiClient(Target(base_url="http://fake", token="main-0123456789"))
    with pytest.raises(MissingCredentials, match=f"this contract needs {option} "):
        client.auth_headers(credentials)  # type: ignore[arg-type]


def test_a_webhook_a_read_only_token_managed_to_create_is_cleaned_up() -> None:
    # A faulty target may let the read-only token (the main team's) create: that is ours.
    def created(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": 7})

    client = ApiClient(TARGET, transport=httpx.MockTransport(created))
    client.request("POST", "/api/v2/webhooks", credentials="read_only", json={})
    client.request("POST", "/api/webhooks", credentials="other_team", json={})
    assert client.created_ids == {7}


def test_a_targets_repr_never_shows_its_tokens() -> None:
    from contract_suite.core.target import Target

    target = Target(base_url="http://127.0.0.1:1", token="main-token-0123456789",
                    other_team_token="other-token-0123456789",
                    read_only_token="ro-token-0123456789")
    text = repr(target)
    assert "http://127.0.0.1:1" in text
    assert not any(part in text for part in ("main-tok", "other-tok", "ro-tok"))


def _generated(method: str, path: str, status: int, body: bytes | None = None,
               token: str | None = "main-0123456789") -> Exchange:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Exchange("generated", "t", method, f"http://fake{path}", headers, None, status, {},
                    body)


def test_webhooks_a_generated_test_creates_and_deletes_are_tracked_from_the_exchange_log(
        ) -> None:
    client = ApiClient(TARGET)
    client.exchanges.record(_generated("POST", "/api/v2/webhooks", 201, b'{"id": 41}'))
    client.exchanges.record(_generated("POST", "/api/webhooks", 201, b'{"id": 42}', token=None))
    client.exchanges.record(_generated("POST", "/api/v2/webhooks", 422, b'{"id": 43}'))
    assert client.created_ids == {41, 42}  # a 422 created nothing; no token: the main team's
    client.exchanges.record(_generated("DELETE", "/api/v2/webhooks/041", 204))
    assert client.created_ids == {42} and client.owned_ids == {41, 42}  # ever created stays
    client.exchanges.record(Exchange("client", None, "DELETE", "http://fake/api/webhooks/42",
                                     {"Authorization": "Bearer other-0123456789"}, None, 404,
                                     {}, None))
    assert client.created_ids == {42}  # the other team's 404 says nothing about ours
