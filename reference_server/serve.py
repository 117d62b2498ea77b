"""Run the app on uvicorn: bind first (so port 0 is known), announce when listening."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
from collections.abc import Callable

import uvicorn

from reference_server.app import create_app
from reference_server.config import Settings


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()


def _write_ready_file(path: str, base_url: str) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"base_url": base_url, "pid": os.getpid()}, handle)
    os.replace(temporary, path)  # readers never see half a file


def serve(settings: Settings, host: str, port: int, ready_file: str | None,
          banner: Callable[[str], str]) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        app = create_app(settings)
    except OSError as error:
        print(f"reference_server: error: cannot listen on {host}:{port}: {error.strerror}",
              file=sys.stderr)
        return 2
    except sqlite3.Error as error:
        print(f"reference_server: error: cannot open database {settings.db_path}: {error}",
              file=sys.stderr)
        return 2
    bound = sock.getsockname()[1]
    base_url = f"http://[{host}]:{bound}" if family == socket.AF_INET6 else f"http://{host}:{bound}"

    def announce() -> None:
        print(banner(base_url), flush=True)
        if ready_file:
            _write_ready_file(ready_file, base_url)

    # access_log off: it would be the one place an Authorization-bearing request is echoed.
    config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="on")
    _AnnouncingServer(config, announce).run(sockets=[sock])
    return 0
