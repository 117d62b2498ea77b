"""Start the reference server as a subprocess: THE way tests, the plugin and the self-test do it.

    with start_reference_server(db_path=tmp / "db.sqlite3",
                                tokens={"team-a": "token-a"}) as server:
        httpx.get(server.base_url + "/api/v2/webhooks", headers=...)

It binds 127.0.0.1 on a free port, waits (bounded) for the server to say it is listening,
and raises one clear error with the server's stderr tail if it does not.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from reference_server.config import TokenGrant

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

TokenSpec = Mapping[str, str] | Iterable[tuple[str, str, bool]] | None


class ServerStartError(RuntimeError):
    """The reference server did not come up; the message holds its stderr tail."""


def _grants(tokens: TokenSpec) -> list[TokenGrant]:
    if tokens is None:  # two teams with fresh tokens, as the CLI would generate
        return [TokenGrant(team, secrets.token_hex(20)) for team in ("team-a", "team-b")]
    if isinstance(tokens, Mapping):
        return [TokenGrant(team, token) for team, token in tokens.items()]
    return [TokenGrant(team, token, bool(read_only)) for team, token, read_only in tokens]


class RunningServer:
    """A started server: `.base_url`, `.tokens`, `.stop()`; a context manager."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str,
                 tokens: list[TokenGrant], workdir: tempfile.TemporaryDirectory[str]) -> None:
        self.process, self.base_url, self.tokens = process, base_url, tokens
        self._workdir = workdir

    @property
    def pid(self) -> int:
        return self.process.pid

    def token_for(self, team: str, *, read_only: bool = False) -> str:
        for grant in self.tokens:
            if grant.team == team and grant.read_only == read_only:
                return grant.token
        raise KeyError(f"no {'read-only ' if read_only else ''}token for team {team!r}")

    def output(self) -> str:
        """What the server printed so far (banner; stderr appended)."""
        folder = Path(self._workdir.name)
        return "".join((folder / name).read_text(errors="replace")
                       for name in ("stdout.txt", "stderr.txt") if (folder / name).exists())

    def stop(self) -> None:
        """Terminate (graceful: lifespan shutdown), then kill after a bound. Idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self._workdir.cleanup()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningServer {self.base_url} pid={self.pid}>"


def start_reference_server(
    *, db_path: str | os.PathLike[str], tokens: TokenSpec = None, faults: Sequence[str] = (),
    variants: Sequence[str] = (), retry_delays: Sequence[float] | None = None,
    timeout: float | None = None, disable_after: int | None = None,
    rate_limit: int | None = None, rate_window: float | None = None,
    allow_hosts: Sequence[str] = (), sandbox: bool = True, extra_args: Sequence[str] = (),
    start_timeout: float = START_TIMEOUT,
) -> RunningServer:
    grants = _grants(tokens)
    workdir = tempfile.TemporaryDirectory(prefix="aqid-server-")
    ready_file = Path(workdir.name) / "ready.json"
    args = [sys.executable, "-m", "reference_server", "--host", "127.0.0.1", "--port", "0",
            "--db", os.path.abspath(db_path), "--ready-file", str(ready_file)]
    for grant in grants:
        args += ["--token", f"{grant.team}:{grant.token}{':ro' if grant.read_only else ''}"]
    for flag, values in (("--fault", faults), ("--variant", variants),
                         ("--allow-host", allow_hosts)):
        for value in values:
            args += [flag, value]
    for flag, value in (("--timeout", timeout), ("--disable-after", disable_after),
                        ("--rate-limit", rate_limit), ("--rate-window", rate_window)):
        if value is not None:
            args += [flag, str(value)]
    if retry_delays is not None:
        args += ["--retry-delays", ",".join(str(d) for d in retry_delays) or ","]
    if not sandbox:
        args.append("--no-sandbox")
    args += list(extra_args)

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    stdout = open(Path(workdir.name) / "stdout.txt", "wb")  # noqa: SIM115 - child owns it
    stderr = open(Path(workdir.name) / "stderr.txt", "wb")  # noqa: SIM115
    try:
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                   env=env, cwd=workdir.name)
    finally:
        stdout.close()
        stderr.close()
    server = RunningServer(process, "", grants, workdir)
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if ready_file.exists():
            server.base_url = json.loads(ready_file.read_text())["base_url"]
            return server
        if process.poll() is not None:
            break
        time.sleep(0.02)
    tail = _tail(Path(workdir.name) / "stderr.txt")
    why = (f"exited with code {process.returncode}" if process.poll() is not None
           else f"was not listening after {start_timeout:.0f} s")
    server.stop()
    raise ServerStartError(f"reference server {why}; stderr tail: {tail or '(empty)'}")


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
