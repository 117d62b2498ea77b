"""Settings: everything the server can be told at start-up, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from reference_server import BUILD
from reference_server.faults import FAULTS, VARIANTS

PRODUCTION_RETRY_DELAYS: tuple[float, ...] = (60, 120, 600, 900)
DEFAULT_ALLOW_HOSTS: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class TokenGrant:
    """One bearer token: it belongs to one user and one team; it may be read-only."""

    team: str
    token: str
    read_only: bool = False

    @property
    def user(self) -> str:
        # One user per token is all the contracts need: the rate-limit budget is per
        # (user, team), and two tokens never share a budget.
        return f"user:{self.token}"


def mask(secret: str) -> str:
    """First four characters and an ellipsis: how a token or secret may appear in output."""
    return secret[:4] + "…"


@dataclass(frozen=True)
class Settings:
    db_path: str = "./aqid-reference.sqlite3"
    tokens: tuple[TokenGrant, ...] = ()
    rate_limit: int = 100_000
    rate_window: float = 60.0
    retry_delays: tuple[float, ...] = PRODUCTION_RETRY_DELAYS
    timeout: float = 5.0
    disable_after: int = 10
    allow_hosts: tuple[str, ...] = DEFAULT_ALLOW_HOSTS
    faults: frozenset[str] = field(default_factory=frozenset)
    variants: frozenset[str] = field(default_factory=frozenset)
    sandbox: bool = True
    build: str = BUILD
    max_body_bytes: int = 64 * 1024
    delivery_workers: int = 4
    # Deliveries waiting (first attempt or retry) beyond this are logged as failed at once.
    delivery_backlog: int = 10_000

    def __post_init__(self) -> None:
        unknown = sorted(set(self.faults) - FAULTS.keys())
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)} (see --list-faults)")
        unknown = sorted(set(self.variants) - VARIANTS.keys())
        if unknown:
            raise ValueError(f"unknown variant(s): {', '.join(unknown)} (see --list-faults)")

    # Whether a fault or variant is on, for tools and tests: the server itself changes its
    # behaviour only through the modifiers in reference_server/modifiers/ (see seams.py).
    def has_fault(self, name: str) -> bool:
        # A typo would silently answer False: insist the name is catalogued.
        if name not in FAULTS:
            raise KeyError(f"fault {name!r} is not in faults.FAULTS")
        return name in self.faults

    def has_variant(self, name: str) -> bool:
        if name not in VARIANTS:
            raise KeyError(f"variant {name!r} is not in faults.VARIANTS")
        return name in self.variants

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_delays)

    def grant_for(self, token: str) -> TokenGrant | None:
        for grant in self.tokens:
            if grant.token == token:
                return grant
        return None

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(grant.team for grant in self.tokens))
