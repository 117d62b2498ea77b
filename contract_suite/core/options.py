"""Command-line options of the contract suite, and how each one is resolved.

Precedence, as pytest-base-url does it: command line > environment variable > ini value.
An empty environment variable counts as "not given" (`make contract` always exports
AQID_BASE_URL, empty when the user names no target).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import pytest

from .profiles import PROFILES
from .ratelimit import DEFAULT_BUDGET

API_VERSION_CHOICES = ("v1", "v2", "both")

# option dest -> (flag, environment variable or None, help)
_STRING_OPTIONS: dict[str, tuple[str, str | None, str]] = {
    "aqid_base_url": ("--base-url", "AQID_BASE_URL",
                      "target scheme://host[:port] (no /api); none: start the reference server"),
    "aqid_token": ("--token", "AQID_TOKEN", "bearer token of the main team"),
    "aqid_other_team_token": ("--other-team-token", "AQID_OTHER_TEAM_TOKEN",
                              "bearer token of a second team (enables team-isolation contracts)"),
    "aqid_read_only_token": ("--read-only-token", "AQID_READ_ONLY_TOKEN",
                             "a read-only bearer token of the main team (enables the "
                             "read-only-token contracts: writes with it are 403)"),
    "aqid_receiver_url": ("--receiver-url", "AQID_RECEIVER_URL",
                          "URL at which the target reaches the suite's webhook receiver"),
    "aqid_receiver_port": ("--receiver-port", "AQID_RECEIVER_PORT",
                           "loopback port the webhook receiver binds (default 0: any free port; "
                           "fix it when a tunnel forwards --receiver-url to it)"),
}


@dataclass(frozen=True)
class Options:
    base_url: str | None
    token: str | None
    other_team_token: str | None
    receiver_url: str | None
    api_versions: frozenset[str]
    profile: str
    no_writes: bool
    seed: int | None
    allow_production: bool
    receiver_port: int = 0  # 0: any free port
    read_only_token: str | None = None
    rate_limit_budget: float = DEFAULT_BUDGET  # seconds of 429 waiting per process


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("aqid-contracts", "aqid-contracts: the target and how hard to test it")
    for dest, (flag, env, help_text) in _STRING_OPTIONS.items():
        env_note = f" [env {env}]" if env else ""
        group.addoption(flag, dest=dest, default=None, metavar="VALUE", help=help_text + env_note)
        parser.addini(dest, help=help_text, default=None)
    group.addoption("--api-version", dest="aqid_api_version", default=None,
                    choices=API_VERSION_CHOICES, help="API versions to test (default both)")
    group.addoption("--profile", dest="aqid_profile", default=None, choices=tuple(PROFILES),
                    help="how much generation: smoke, staging (sized for 200 requests a "
                         "minute), ci (default) or thorough")
    group.addoption("--no-writes", dest="aqid_no_writes", action="store_true", default=False,
                    help="send GET requests only: write contracts are deselected (production "
                         "smoke checks)")
    # The old name of --no-writes, kept only to refuse it: it read like --read-only-token
    # (a credential), and argparse would otherwise take it as an abbreviation of that one.
    group.addoption("--read-only", dest="aqid_old_read_only", action="store_true",
                    default=False, help=argparse.SUPPRESS)
    group.addoption("--seed", dest="aqid_seed", default=None, type=int, metavar="N",
                    help="seed for reproducible generation (default: a new one, printed)")
    group.addoption("--allow-production", dest="aqid_allow_production", action="store_true",
                    default=False, help="permit the production host (with --no-writes only)")
    group.addoption("--rate-limit-budget", dest="aqid_rate_limit_budget", default=None,
                    metavar="SECONDS",
                    help="most seconds a test process spends waiting out the target's rate "
                         f"limit (default {DEFAULT_BUDGET:.0f}); cleanup gets its own "
                         "[env AQID_RATE_LIMIT_BUDGET]")
    parser.addini("aqid_api_version", help="default for --api-version", default=None)
    parser.addini("aqid_profile", help="default for --profile", default=None)


def add_string_option(parser: pytest.Parser, dest: str, flag: str, env: str | None,
                      help_text: str) -> None:
    """One more `--flag VALUE` in the aqid-contracts group, resolved like the core ones
    (command line > environment variable > ini): for the feature plugins (coverage,
    differential runs), which own their options but not the mechanism."""
    group = parser.getgroup("aqid-contracts")
    env_note = f" [env {env}]" if env else ""
    group.addoption(flag, dest=dest, default=None, metavar="VALUE", help=help_text + env_note)
    parser.addini(dest, help=help_text, default=None)


def lookup(config: pytest.Config, dest: str, env: str | None) -> str | None:
    """An option's value: command line, else a non-empty environment variable, else ini."""
    value = config.getoption(dest)
    if value not in (None, ""):
        return str(value)
    if env and os.environ.get(env):
        return os.environ[env]
    ini = config.getini(dest)
    return str(ini) if ini not in (None, "", []) else None


def resolve_options(config: pytest.Config) -> Options:
    """The options in force for this run (one UsageError line on a bad value)."""
    if config.getoption("aqid_old_read_only", False):
        raise pytest.UsageError(
            "aqid-contracts: --read-only is now --no-writes (GET requests only); a read-only "
            "token of the main team is --read-only-token")
    strings = {dest: lookup(config, dest, env) for dest, (_, env, _h) in _STRING_OPTIONS.items()}
    version = lookup(config, "aqid_api_version", None) or "both"
    profile = lookup(config, "aqid_profile", None) or "ci"
    if version not in API_VERSION_CHOICES:
        raise pytest.UsageError(f"aqid-contracts: --api-version {version!r}: choose v1, v2 or both")
    if profile not in PROFILES:
        choices = ", ".join(PROFILES)
        raise pytest.UsageError(f"aqid-contracts: --profile {profile!r}: choose {choices}")
    base_url = strings["aqid_base_url"]
    receiver_port = _port(strings["aqid_receiver_port"])
    budget = _budget(config.getoption("aqid_rate_limit_budget")
                     or os.environ.get("AQID_RATE_LIMIT_BUDGET") or None)
    return Options(
        base_url=base_url.rstrip("/") if base_url else None,
        token=strings["aqid_token"],
        other_team_token=strings["aqid_other_team_token"],
        receiver_url=strings["aqid_receiver_url"],
        api_versions=frozenset({"v1", "v2"} if version == "both" else {version}),
        profile=profile,
        no_writes=bool(config.getoption("aqid_no_writes")),
        seed=config.getoption("aqid_seed"),
        allow_production=bool(config.getoption("aqid_allow_production")),
        receiver_port=receiver_port,
        read_only_token=strings["aqid_read_only_token"],
        rate_limit_budget=budget,
    )


def _budget(value: str | None) -> float:
    if value is None:
        return DEFAULT_BUDGET
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise pytest.UsageError(f"aqid-contracts: --rate-limit-budget {value!r}: seconds >= 0")
    return seconds


def _port(value: str | None) -> int:
    if value is None:
        return 0
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise pytest.UsageError(f"aqid-contracts: --receiver-port {value!r}: a port number "
                                "0-65535 (0: any free port)")
    return port
