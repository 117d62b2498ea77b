"""The target under test: where it is, which credentials to use, and this run's identity."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

API_PREFIX = {"v1": "/api", "v2": "/api/v2"}
TAG_PREFIX = "aqid-contracts"
TAG_HOST = "hooks.invalid"  # RFC 2606: reserved, never resolves, so a tagged URL reaches no one


def api_version_of(path: str) -> str | None:
    """The API version a host-root path belongs to ("/api/v2/webhooks" → "v2"), or None
    (the sandbox, anything else): the one place that knows the versions' prefixes."""
    for version, prefix in sorted(API_PREFIX.items(), key=lambda item: -len(item[1])):
        if path == prefix or path.startswith(prefix + "/"):
            return version
    return None


def new_run_id() -> str:
    return secrets.token_hex(4)


@dataclass(frozen=True)
class Target:
    """One target for one pytest process: each process's session builds it from the run's
    RunInfo, which the controller resolved once (core/bootstrap.py) and shipped to workers."""

    base_url: str  # scheme://host[:port], no trailing slash, no /api
    # Kept out of the repr: pytest prints a failing test's locals, cutting long values short
    # where the redactor can no longer recognise them.
    token: str = field(repr=False)
    other_team_token: str | None = field(default=None, repr=False)
    read_only_token: str | None = field(default=None, repr=False)  # main team's, reads only
    embedded: bool = False  # True when the suite started the reference server itself
    api_versions: frozenset[str] = frozenset({"v1", "v2"})
    no_writes: bool = False
    receiver_url: str | None = None  # how the target reaches the suite's webhook receiver
    receiver_port: int = 0  # the loopback port the receiver binds; 0: any free port
    run_id: str = field(default_factory=new_run_id)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def api_url(self, version: str) -> str:
        """Base URL of one API version, e.g. http://127.0.0.1:8000/api/v2."""
        return self.base_url + API_PREFIX[version]

    def tag(self) -> str:
        """The path segment that marks what this run creates: aqid-contracts/<run_id>."""
        return f"{TAG_PREFIX}/{self.run_id}"

    def tagged_url(self, slug: str = "hook") -> str:
        """A webhook URL that names this run, so leftovers can be found and deleted."""
        return f"https://{TAG_HOST}/{self.tag()}/{slug}"


def is_tagged(url: object, run_id: str | None = None) -> bool:
    """Whether a webhook URL was made by this suite (by any run, or by `run_id`)."""
    if not isinstance(url, str):
        return False
    marker = f"/{TAG_PREFIX}/" + (f"{run_id}/" if run_id else "")
    return marker in url
