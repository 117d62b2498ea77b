"""Run bootstrap: where the target comes from, decided once per run.

The process that runs pytest (the xdist controller, or a lone process) resolves the target
in pytest_configure (`prepare_run`): it refuses the production host, starts the embedded
reference server when no --base-url is given, probes the target, and picks the run id and
seed. The result is a `RunInfo`, plain data: xdist workers receive it as
`workerinput["aqid_run"]` (`shippable_run`) and never start a server of their own.
The per-process session built from it is core/session.py.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from .embedded import EmbeddedTarget, start_embedded
from .options import resolve_options
from .probe import ProbeFailure, probe_target, production_refusal, url_problem
from .target import new_run_id


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
_EMBEDDED_KEY = pytest.StashKey[EmbeddedTarget]()


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
