"""The per-process suite session: the one target, client and settings every contract uses.

`get_session(config)` returns the SuiteSession of this pytest process (created on first
use from the run's RunInfo, core/bootstrap.py, and kept in config.stash). Python tests use
the fixtures in plugin.py; non-Python items (the YAML contracts) call `get_session(item.config)`.
The session owns everything a run accumulates: the rate-limit governor, the HTTP client,
the exchange log, the secrets, the stats. Nothing of a run lives at module level, so two
runs in one process (the project's in-process tests) do not see each other.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from .bootstrap import run_info
from .exchanges import ExchangeLog
from .http import ApiClient
from .options import Options, resolve_options
from .paths import SPEC_DIR
from .profiles import PROFILES, Profile
from .ratelimit import RateGovernor
from .redact import Secrets
from .reporting import Stats
from .target import API_PREFIX, Target

MAX_ABSENT_ID_TRIES = 5
_SESSION_KEY = pytest.StashKey["SuiteSession"]()


class SuiteSession:
    def __init__(self, target: Target, options: Options, seed: int,
                 rate_limit: int | None = None) -> None:
        self.target = target
        self.options = options
        self.profile: Profile = PROFILES[options.profile]
        self.seed = seed
        self.rate_limit = rate_limit  # X-RateLimit-Limit at the probe (the header names it)
        self.governor = RateGovernor(options.rate_limit_budget)
        self.exchanges = ExchangeLog()  # every exchange with the target, for observers
        # The run's tokens, and every webhook secret any exchange shows (core/redact.py).
        self.secrets = Secrets(target.token, target.other_team_token, target.read_only_token)
        self.exchanges.subscribe(self.secrets.learn_exchange)
        self.stats = Stats(self.secrets)  # generated calls and checks per operation
        self.api = ApiClient(target, governor=self.governor, exchanges=self.exchanges,
                             secrets=self.secrets)
        self.spec_dir = SPEC_DIR
        self.requests_by_workers = 0  # the controller: what its xdist workers' clients sent
        self._sandbox: dict[str, Any] | None = None
        self._sandbox_known = False
        self._absent_id: int | None = None

    @property
    def client_requests(self) -> int:
        """Requests sent by clients (contracts, probe, cleanup), this process's and, on the
        xdist controller, its workers'. Generated calls are counted in `stats`."""
        return self.requests_by_workers + self.api.requests_sent

    @property
    def sandbox(self) -> dict[str, Any] | None:
        """GET /_sandbox once: the delivery settings, or None when the target has no sandbox."""
        if not self._sandbox_known:
            response = self.api.request("GET", "/_sandbox")
            body = _json_or_none(response) if response.status_code == 200 else None
            self._sandbox = body if isinstance(body, dict) else None
            self._sandbox_known = True
        return self._sandbox

    def absent_webhook_id(self) -> int:
        """An id this run verified to name no webhook of the main team (GET ... 404).

        Writes that must address "an unknown id" (generated DELETE/PUT/PATCH to an id the
        run did not create, curated unknown-id contracts) go here, never to a guessed id
        that may be someone else's webhook (brief, Room: data the suite did not create).
        Large (2**52..2**53: exact in JSON numbers everywhere), derived from the seed, so a
        run repeats with its seed; checked on the target once per process.
        """
        if self._absent_id is None:
            version = "v2" if "v2" in self.target.api_versions else "v1"
            rng = random.Random(self.seed)
            for _ in range(MAX_ABSENT_ID_TRIES):
                candidate = rng.randrange(2**52, 2**53)
                response = self.api.request(
                    "GET", f"{API_PREFIX[version]}/webhooks/{candidate}/deliveries")
                if response.status_code == 404:
                    self._absent_id = candidate
                    break
            else:
                raise RuntimeError(
                    f"no absent webhook id found in {MAX_ABSENT_ID_TRIES} tries: every "
                    "candidate answered other than 404")
        return self._absent_id


def require_other_team(target: Target) -> str:
    """The other team's token, or skip the calling test with the reason."""
    if not target.other_team_token:
        pytest.skip("needs a second team: pass --other-team-token (or AQID_OTHER_TEAM_TOKEN)")
    return target.other_team_token


def get_session(config: pytest.Config) -> SuiteSession:
    """This process's SuiteSession, created on first use."""
    session = config.stash.get(_SESSION_KEY, None)
    if session is None:
        options = resolve_options(config)
        run = run_info(config)
        target = Target(
            base_url=run.base_url, token=run.token, other_team_token=run.other_team_token,
            read_only_token=run.read_only_token, embedded=run.embedded,
            api_versions=options.api_versions, no_writes=options.no_writes,
            receiver_url=options.receiver_url,
            receiver_port=options.receiver_port, run_id=run.run_id,
        )
        session = SuiteSession(target, options, run.seed, rate_limit=run.rate_limit)
        config.stash[_SESSION_KEY] = session
    return session


def existing_session(config: pytest.Config) -> SuiteSession | None:
    return config.stash.get(_SESSION_KEY, None)


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
