"""The command line: `python -m reference_server [options]`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import NoReturn

from reference_server.config import (
    DEFAULT_ALLOW_HOSTS,
    PRODUCTION_RETRY_DELAYS,
    Settings,
    TokenGrant,
    mask,
)
from reference_server.faults import FAULTS, VARIANTS, describe_all


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"reference_server: error: {message}\n")


def _token(text: str) -> TokenGrant:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]) or (len(parts) == 3 and parts[2] != "ro"):
        raise argparse.ArgumentTypeError(f"expected TEAM:TOKEN or TEAM:TOKEN:ro, got {mask(text)}")
    return TokenGrant(parts[0], parts[1], read_only=len(parts) == 3)


def _delays(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 60,120,600,900, got {text!r}"
                                         ) from None
    if any(value < 0 for value in values):
        raise argparse.ArgumentTypeError("retry delays must be >= 0")
    return values


def _choice(catalogue: dict[str, object], kind: str):  # noqa: ANN202 - argparse type callable
    def parse(text: str) -> str:
        if text not in catalogue:
            raise argparse.ArgumentTypeError(f"unknown {kind} {text!r} (see --list-faults)")
        return text
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m reference_server",
                description="The aqid reference server: Amiqus ID webhooks v1 + v2 over SQLite.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--db", default="./aqid-reference.sqlite3", help="SQLite file (kept)")
    p.add_argument("--token", type=_token, action="append", default=[],
                   metavar="TEAM:TOKEN[:ro]", help="repeatable; default: two generated tokens")
    p.add_argument("--rate-limit", type=int, default=100_000, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="seconds")
    p.add_argument("--retry-delays", type=_delays, default=PRODUCTION_RETRY_DELAYS,
                   help="seconds between attempts, comma-separated")
    p.add_argument("--timeout", type=float, default=5.0, help="subscriber answer deadline")
    p.add_argument("--disable-after", type=int, default=10, help="failed payloads to disable")
    p.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                   help=f"delivery hosts allowed (default {', '.join(DEFAULT_ALLOW_HOSTS)})")
    p.add_argument("--fault", type=_choice(FAULTS, "fault"), action="append", default=[])
    p.add_argument("--variant", type=_choice(VARIANTS, "variant"), action="append", default=[])
    p.add_argument("--no-sandbox", action="store_true", help="no /_sandbox (like staging)")
    p.add_argument("--ready-file", help="write {base_url, pid} as JSON once listening")
    p.add_argument("--list-faults", action="store_true", help="list faults and variants")
    return p


def token_file_for(db_path: str) -> Path:
    return Path(f"{db_path}.tokens")


def generated_tokens(db_path: str) -> tuple[TokenGrant, ...]:
    """Two teams' tokens, kept beside the DB (mode 600) so a restart keeps them.

    Tokens are secrets: they never go to the terminal in full, only to this file.
    """
    path = token_file_for(db_path)
    names = {"AQID_TOKEN": "team-a", "AQID_OTHER_TEAM_TOKEN": "team-b"}
    if path.exists():
        pairs = dict(line.split("=", 1) for line in path.read_text().split() if "=" in line)
        if set(pairs) >= set(names):
            return tuple(TokenGrant(team, pairs[var]) for var, team in names.items())
    grants = tuple(TokenGrant(team, secrets.token_hex(20)) for team in names.values())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{var}={g.token}\n" for var, g in zip(names, grants, strict=True))
    return grants


def settings_from(args: argparse.Namespace) -> tuple[Settings, bool]:
    """The settings, and whether the tokens were generated (then the banner says where)."""
    tokens = tuple(args.token)
    generated = not tokens
    if args.rate_limit < 1 or args.rate_window <= 0 or args.timeout <= 0 or args.disable_after < 1:
        raise ValueError("--rate-limit, --rate-window, --timeout and --disable-after must be > 0")
    # Unknown faults and variants are refused (by Settings) before anything is written.
    Settings(db_path=args.db, faults=frozenset(args.fault), variants=frozenset(args.variant))
    if generated:  # only once the command line is known good: no token file for a typo
        tokens = generated_tokens(args.db)
    settings = Settings(
        db_path=args.db, tokens=tokens, rate_limit=args.rate_limit,
        rate_window=args.rate_window, retry_delays=args.retry_delays, timeout=args.timeout,
        disable_after=args.disable_after,
        allow_hosts=tuple(args.allow_host) or DEFAULT_ALLOW_HOSTS,
        faults=frozenset(args.fault), variants=frozenset(args.variant),
        sandbox=not args.no_sandbox)
    return settings, generated


def banner(settings: Settings, base_url: str, generated: bool) -> str:
    tokens = " ".join(f"{g.team}={mask(g.token)}{' (ro)' if g.read_only else ''}"
                      for g in settings.tokens)
    switches = ", ".join(sorted(settings.faults)) or "none"
    line = (f"aqid reference server on {base_url} | db {settings.db_path} | tokens: {tokens}"
            f" | faults: {switches}")
    if settings.variants:
        line += f" | variants: {', '.join(sorted(settings.variants))}"
    if generated:  # the person who started it needs the tokens: in a file, never on screen
        path = token_file_for(str(settings.db_path))
        line += f"\ntokens in {path} (mode 600); to use them: set -a; . {path}; set +a"
    return line


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_faults:
        print("\n".join(describe_all()))
        return 0
    try:
        settings, generated = settings_from(args)
    except ValueError as error:
        print(f"reference_server: error: {error}", file=sys.stderr)
        return 2
    from reference_server.serve import serve  # uvicorn only when actually serving

    return serve(settings, args.host, args.port, args.ready_file,
                 lambda url: banner(settings, url, generated))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
