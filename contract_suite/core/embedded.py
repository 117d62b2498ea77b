"""The embedded default target: the reference server, started when no --base-url is given.

One per run: the pytest process that starts it (the xdist controller, or a lone process)
hands its base URL and tokens to the workers; a worker never starts its own while it has
been given one. Its settings make the delivery schedule run in well under a second.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Delivery settings: the production schedule (60..900 s) would make delivery contracts
# take half an hour; these keep every retry contract under a second.
EMBEDDED_RETRY_DELAYS = (0.05, 0.05, 0.05, 0.05)
EMBEDDED_TIMEOUT = 1.0
EMBEDDED_DISABLE_AFTER = 10
EMBEDDED_RATE_LIMIT = 1_000_000  # generated tests must never meet a 429 on the embedded target


@dataclass
class EmbeddedTarget:
    base_url: str
    token: str
    other_team_token: str
    read_only_token: str  # the main team's, read-only: its writes are 403
    _server: Any = field(repr=False)
    _tmpdir: Path = field(repr=False)

    def stop(self) -> None:
        try:
            self._server.stop()
        finally:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def start_embedded() -> EmbeddedTarget:
    """Start the reference server on a free loopback port with a temporary DB and two teams.

    Three tokens: the main team's, the other team's, and a read-only one of the main team.
    """
    from reference_server.launcher import start_reference_server  # only needed when embedding

    tmpdir = Path(tempfile.mkdtemp(prefix="aqid-embedded-"))
    token = "aqid-main-" + secrets.token_hex(16)
    other_team_token = "aqid-other-" + secrets.token_hex(16)
    read_only_token = "aqid-read-" + secrets.token_hex(16)
    try:
        server = start_reference_server(
            db_path=str(tmpdir / "reference.sqlite3"),
            tokens=[("team-main", token, False), ("team-other", other_team_token, False),
                    ("team-main", read_only_token, True)],
            retry_delays=EMBEDDED_RETRY_DELAYS,
            timeout=EMBEDDED_TIMEOUT,
            disable_after=EMBEDDED_DISABLE_AFTER,
            rate_limit=EMBEDDED_RATE_LIMIT,
            sandbox=True,
        )
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return EmbeddedTarget(server.base_url.rstrip("/"), token, other_team_token, read_only_token,
                          server, tmpdir)
