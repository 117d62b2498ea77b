"""The per-process suite session: the one target, client and settings every contract uses.

The shared seam: `get_session(config)` returns the SuiteSession of this pytest process
(created on first use, kept in config.stash). Python tests use the fixtures in plugin.py;
non-Python items (the YAML contracts) call `get_session(item.config)`.

Where the target comes from, once per run: the process that runs pytest (the xdist
controller, or a lone process) resolves it in pytest_configure (`prepare_run`): it refuses
the production host, starts the embedded reference server when no --base-url is given,
probes the target, and picks the run id and seed. xdist workers receive that as
`workerinput["aqid_run"]` and never start a server of their own.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from .embedded import EmbeddedTarget, start_embedded  # noqa: F401 - stash key type
from .exchanges import ExchangeLog
from .http import ApiClient
from .options import Options, resolve_options
from .paths import SPEC_DIR
from .probe import ProbeFailure, probe_target, production_refusal, url_problem
from .profiles import PROFILES, Profile
from .ratelimit import RateGovernor
from .redact import Secrets
from .reporting import Stats
from .target import API_PREFIX, Target, new_run_id

MAX_ABSENT_ID_TRIES = 5


@dataclass(frozen=True)
class RunInfo:
    """What the controller decided for the whole run; plain data so xdist can ship it."""

    base_url: str
    token: str
    other_team_token: str | None
    embedded: bool
    run_id: str
    seed: int
    read_only_token: str | None = None
    rate_limit: int | None = None  # X-RateLimit-Limit the probe saw, if any


_RUN_KEY = pytest.StashKey["RunInfo"]()
_SESSION_KEY = pytest.StashKey["SuiteSession"]()
_EMBEDDED_KEY = pytest.StashKey["EmbeddedTarget"]()


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
        self._sandbox: dict[str, Any] | None = None
        self._sandbox_known = False
        self._absent_id: int | None = None

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


def run_info(config: pytest.Config) -> RunInfo:
    """The run's target: shipped by the controller, prepared here, or prepared now."""
    run = config.stash.get(_RUN_KEY, None)
    if run is None:
        workerinput = getattr(config, "workerinput", None)
        shipped = workerinput.get("aqid_run") if workerinput else None
        run = RunInfo(**shipped) if shipped else prepare_run(config)
        config.stash[_RUN_KEY] = run
    return run


def shippable_run(config: pytest.Config) -> dict[str, Any] | None:
    run = config.stash.get(_RUN_KEY, None)
    return asdict(run) if run else None


def prepare_run(config: pytest.Config) -> RunInfo:
    """Resolve the target for the whole run; every refusal is one UsageError line."""
    if _RUN_KEY in config.stash:
        return config.stash[_RUN_KEY]
    options = resolve_options(config)
    if options.receiver_port and config.getoption("numprocesses", None):
        # Every xdist worker runs its own receiver; only one of them could bind the port.
        raise pytest.UsageError(
            f"aqid-contracts: --receiver-port {options.receiver_port} binds one receiver in "
            "one pytest process: run the delivery contracts without -n (or -n 0)")
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    if options.base_url:
        for problem in (url_problem(options.base_url), production_refusal(
                options.base_url, allow_production=options.allow_production,
                no_writes=options.no_writes)):
            if problem:
                raise pytest.UsageError(problem)
        if not options.token:
            raise pytest.UsageError(
                f"aqid-contracts: --base-url {options.base_url} needs --token (or AQID_TOKEN)")
        run = RunInfo(options.base_url, options.token, options.other_team_token,
                      embedded=False, run_id=new_run_id(), seed=seed,
                      read_only_token=options.read_only_token)
    else:
        try:
            embedded = start_embedded()
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            raise pytest.UsageError(
                f"aqid-contracts: could not start the embedded reference server: {exc}") from None
        config.stash[_EMBEDDED_KEY] = embedded
        config.add_cleanup(embedded.stop)
        run = RunInfo(embedded.base_url, embedded.token, embedded.other_team_token,
                      embedded=True, run_id=new_run_id(), seed=seed,
                      read_only_token=embedded.read_only_token)
    version = "v2" if "v2" in options.api_versions else "v1"
    try:
        probed = probe_target(run.base_url, run.token, version=version)
        if run.other_team_token:
            probe_target(run.base_url, run.other_team_token, version=version,
                         who="--other-team-token")
        if run.read_only_token:  # a read-only token may list: the probe is a GET
            probe_target(run.base_url, run.read_only_token, version=version,
                         who="--read-only-token")
    except ProbeFailure as exc:
        raise pytest.UsageError(str(exc)) from None
    limit = getattr(probed, "rate_limit", None)
    if isinstance(limit, int):
        run = replace(run, rate_limit=limit)
    config.stash[_RUN_KEY] = run
    return run


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
