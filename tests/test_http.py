"""ApiClient credentials: each named credential sends its own token, or says which is missing."""

from __future__ import annotations

import httpx
import pytest

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
