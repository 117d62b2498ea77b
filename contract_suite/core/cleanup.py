"""Deleting what the suite created: this run's webhooks at session end, any run's on demand.

Two nets: the ids the client saw created (exact), and a sweep of the target's webhook list
for URLs carrying the run tag (catches creates whose response was lost, e.g. on Ctrl-C).
Both cover every team the run wrote to: each webhook is deleted with its own team's token
(the other team's webhooks from isolation contracts with --other-team-token). Nothing else
is ever deleted: an id is only a target if this run created it or its URL carries the tag.
Requests go through the client, so the rate-limit governor paces cleanup too. Every loop is
bounded; a failure to clean up is reported, never raised over the test result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .http import ApiClient, Credentials
from .target import API_PREFIX, is_tagged

MAX_PAGES = 200  # 200 pages of 100: far more webhooks than any team has; a bound, not a guess
PAGE_SIZE = 100


@dataclass
class CleanupResult:
    deleted: list[tuple[int, str]] = field(default_factory=list)  # (id, url or "")
    errors: list[str] = field(default_factory=list)


def tagged_webhooks(api: ApiClient, run_id: str | None, credentials: Credentials = "token",
                    ) -> Iterator[tuple[int, str]]:
    """(id, url) of every webhook on the target tagged by `run_id` (any run when None)."""
    prefix = API_PREFIX["v2"]
    for page in range(1, MAX_PAGES + 1):
        params = {"page": page, "limit": PAGE_SIZE}
        response = api.request("GET", f"{prefix}/webhooks", params=params,
                               credentials=credentials)
        if response.status_code != 200:
            raise RuntimeError(f"GET {prefix}/webhooks?page={page} answered {response.status_code}")
        body = response.json()
        items = body.get("data") or []
        for item in items:
            if isinstance(item, dict) and is_tagged(item.get("url"), run_id):
                yield int(item["id"]), str(item["url"])
        if not items or page >= int(body.get("total_pages") or 1):
            return


def teams_of(api: ApiClient) -> tuple[Credentials, ...]:
    """The credentials that can write for a team this run holds a token of."""
    return ("token", "other_team") if api.target.other_team_token else ("token",)


def delete_webhooks(
    api: ApiClient, run_id: str | None, *, known_ids: set[int] | None = None, sweep: bool = True,
    known: Mapping[Credentials, set[int]] | None = None,
    on_deleted: Callable[[int, str], None] | None = None,
) -> CleanupResult:
    """Delete what this run created (`known_ids` of the main team, `known` by credentials),
    and (with `sweep`) every webhook tagged by `run_id` (None: any run) of every team."""
    result = CleanupResult()
    targets: dict[tuple[Credentials, int], str] = {}
    for credentials, ids in (known or {}).items():
        # A read-only token is the main team's: delete what it created with the main token.
        owner: Credentials = "token" if credentials == "read_only" else credentials
        targets.update(dict.fromkeys(((owner, i) for i in sorted(ids)), ""))
    targets.update(dict.fromkeys((("token", i) for i in sorted(known_ids or ())), ""))
    if sweep:
        for credentials in teams_of(api):
            try:
                # Collect first, delete after: deleting while paging would shift later pages.
                for webhook_id, url in tagged_webhooks(api, run_id, credentials):
                    targets[(credentials, webhook_id)] = url
            except Exception as exc:  # noqa: BLE001 - reported, never raised over the result
                result.errors.append(f"listing webhooks to clean up ({credentials}) failed: {exc}")
    for (credentials, webhook_id), url in targets.items():
        try:
            response = api.request("DELETE", f"{API_PREFIX['v2']}/webhooks/{webhook_id}",
                                   credentials=credentials)
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"DELETE webhook {webhook_id} failed: {exc}")
            continue
        if response.status_code in (200, 204):
            result.deleted.append((webhook_id, url))
            if on_deleted:
                on_deleted(webhook_id, url)
        elif response.status_code != 404:  # 404: already gone, which is what we wanted
            result.errors.append(f"DELETE webhook {webhook_id} answered {response.status_code}")
    return result


def delete_created_since(api: ApiClient, before: Mapping[Credentials, set[int]]) -> CleanupResult:
    """Delete the webhooks created since `before` (`api.created_now()`) that still exist:
    a test that stopped at a failure leaves nothing behind for the tests after it. No
    sweep (other tests' webhooks are not this test's business); errors are reported in the
    result, and the run's own cleanup at the end tries again."""
    now = api.created_now()
    left = {credentials: ids - before.get(credentials, set())
            for credentials, ids in now.items()}
    left = {credentials: ids for credentials, ids in left.items() if ids}
    if not left:
        return CleanupResult()
    return delete_webhooks(api, api.target.run_id, known=left, sweep=False)
