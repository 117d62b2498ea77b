"""The one SQLite store behind both API versions: webhooks, delivery logs, failure tallies.

One connection guarded by a lock: the request handlers and the delivery workers share it,
every operation is short, and a single writer makes ids and counts trivially race-free.
WAL keeps a restart cheap and the file consistent if the process is killed.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL, team TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL,
    is_enabled INTEGER NOT NULL, secret TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    failure_tally INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS webhooks_team ON webhooks (team, id);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL, webhook_id INTEGER NOT NULL, event TEXT NOT NULL,
    url TEXT NOT NULL, body TEXT NOT NULL, request_headers TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, status_code TEXT NOT NULL DEFAULT '0',
    response_headers TEXT NOT NULL DEFAULT '{}', response_body TEXT NOT NULL DEFAULT 'null',
    state TEXT NOT NULL DEFAULT 'pending', created_at REAL NOT NULL, last_sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_webhook ON deliveries (webhook_id, id);
"""


@dataclass(frozen=True)
class Webhook:
    id: int
    uuid: str
    team: str
    url: str
    events: list[str]
    is_enabled: bool
    secret: str
    created_at: int  # unix seconds: both versions render seconds
    updated_at: int
    failure_tally: int


@dataclass(frozen=True)
class Delivery:
    id: int
    uuid: str
    webhook_id: int
    event: str
    url: str
    body: str  # the exact payload text sent (UTF-8), so logs show what was signed
    request_headers: dict[str, str]
    attempts: int
    status_code: str
    response_headers: dict[str, str]
    response_body: Any
    state: str  # pending | succeeded | failed | stopped
    created_at: float
    last_sent_at: float


def uuid7() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits."""
    millis = time.time_ns() // 1_000_000 & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62
                     | rand & ((1 << 62) - 1))


@dataclass(frozen=True)
class Incidentals:
    """Room "incidentals": how new ids, uuids and secrets look. None of it is contract; the
    `incidentals` variant swaps every one (ids 5, 12, 19..., uuid v7, `whsec_` secrets)."""

    new_uuid: Callable[[], uuid.UUID] = uuid.uuid4
    new_secret: Callable[[], str] = lambda: secrets.token_hex(32)
    first_id: int | None = None  # None: SQLite's AUTOINCREMENT (1, 2, 3...)
    id_step: int = 1


UNUSUAL_INCIDENTALS = Incidentals(new_uuid=uuid7,
                                  new_secret=lambda: "whsec_" + secrets.token_urlsafe(18),
                                  first_id=5, id_step=7)


def _webhook(row: sqlite3.Row) -> Webhook:
    return Webhook(row["id"], row["uuid"], row["team"], row["url"], json.loads(row["events"]),
                   bool(row["is_enabled"]), row["secret"], row["created_at"],
                   row["updated_at"], row["failure_tally"])


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(row["id"], row["uuid"], row["webhook_id"], row["event"], row["url"],
                    row["body"], json.loads(row["request_headers"]), row["attempts"],
                    row["status_code"], json.loads(row["response_headers"]),
                    json.loads(row["response_body"]), row["state"], row["created_at"],
                    row["last_sent_at"])


class Store:
    def __init__(self, path: str, incidentals: Incidentals = Incidentals()) -> None:  # noqa: B008 - frozen
        self.incidentals = incidentals
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- webhooks -------------------------------------------------------------------------
    def create_webhook(self, team: str, url: str, events: list[str], is_enabled: bool,
                       *, now: int | None = None, secret: str | None = None,
                       created_at: int | None = None) -> Webhook:
        """`secret` and `created_at` are made by the store unless given (`now`: the time
        it is made)."""
        stamp = int(time.time()) if now is None else now
        made = self.incidentals
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO webhooks (id, uuid, team, url, events, is_enabled, secret,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self._next_id(db), str(made.new_uuid()), team, url, json.dumps(events),
                 int(is_enabled), made.new_secret() if secret is None else secret,
                 stamp if created_at is None else created_at, stamp))
            row = db.execute("SELECT * FROM webhooks WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _webhook(row)

    def _next_id(self, db: sqlite3.Connection) -> int | None:
        """None lets AUTOINCREMENT choose; otherwise first_id, then id_step past the last."""
        if self.incidentals.first_id is None:
            return None
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'webhooks'").fetchone()
        return self.incidentals.first_id if row is None else row[0] + self.incidentals.id_step

    def get_webhook(self, webhook_id: int, team: str | None) -> Webhook | None:
        """The webhook if it exists and (unless team is None) belongs to `team`."""
        with self._lock:
            row = self._db.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        if row is None or (team is not None and row["team"] != team):
            return None
        return _webhook(row)

    def list_webhooks(self, team: str | None, enabled: bool | None, offset: int,
                      limit: int, *, descending: bool = False) -> tuple[list[Webhook], int]:
        """One page of `team`'s webhooks (every team's when team is None), by id."""
        where, args = "1 = 1", []
        if team is not None:
            where, args = where + " AND team = ?", [*args, team]
        if enabled is not None:
            where, args = where + " AND is_enabled = ?", [*args, int(enabled)]
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM webhooks WHERE {where}", args
                                     ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM webhooks WHERE {where} ORDER BY id"
                f" {'DESC' if descending else 'ASC'} LIMIT ? OFFSET ?",
                [*args, limit, offset]).fetchall() if offset < total else []
        return [_webhook(r) for r in rows], total

    def update_webhook(self, webhook_id: int, team: str | None,
                       change: Callable[[Webhook], Webhook]
                       ) -> tuple[Webhook, Webhook] | None:
        """Store `change(before)` in one transaction; answer (before, after), or None when
        the webhook is not found."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
            if row is None or (team is not None and row["team"] != team):
                return None
            before = _webhook(row)
            after = change(before)
            db.execute(
                "UPDATE webhooks SET url = ?, events = ?, is_enabled = ?, secret = ?,"
                " created_at = ?, updated_at = ?, failure_tally = ? WHERE id = ?",
                (after.url, json.dumps(after.events), int(after.is_enabled), after.secret,
                 after.created_at, after.updated_at, after.failure_tally, after.id))
        return before, after

    def delete_webhook(self, webhook_id: int, team: str | None) -> Webhook | None:
        with self._tx() as db:
            row = db.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
            if row is None or (team is not None and row["team"] != team):
                return None
            db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
            db.execute("DELETE FROM deliveries WHERE webhook_id = ?", (webhook_id,))
        return _webhook(row)

    def record_outcome(self, webhook_id: int, *, success: bool, disable_after: int) -> bool:
        """Count a payload's final outcome; answer True if it just disabled the webhook."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
            if row is None:
                return False
            if success:
                db.execute("UPDATE webhooks SET failure_tally = 0 WHERE id = ?", (webhook_id,))
                return False
            tally = row["failure_tally"] + 1
            disable = bool(row["is_enabled"]) and tally >= disable_after
            db.execute(
                "UPDATE webhooks SET failure_tally = ?, is_enabled = ?, updated_at = ?"
                " WHERE id = ?",
                (tally, 0 if disable else row["is_enabled"],
                 max(int(time.time()), row["updated_at"] + 1) if disable else row["updated_at"],
                 webhook_id))
            return disable

    def webhooks_for_team(self, team: str | None, *, enabled_only: bool = True
                          ) -> list[Webhook]:
        """The webhooks an event of `team` may go to (every team's when team is None)."""
        where = " AND ".join(["1 = 1", *(["team = ?"] if team is not None else []),
                              *(["is_enabled = 1"] if enabled_only else [])])
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM webhooks WHERE {where} ORDER BY id",
                                    () if team is None else (team,)).fetchall()
        return [_webhook(r) for r in rows]

    def count_webhooks(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM webhooks").fetchone()[0]

    def start_ids_at(self, first_id: int) -> None:
        """Make the next webhook id `first_id` (used by the `prepopulated` variant)."""
        with self._tx() as db:
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'webhooks'")
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('webhooks', ?)",
                       (first_id - 1,))

    # -- deliveries -----------------------------------------------------------------------
    def create_delivery(self, webhook_id: int, event: str, url: str, body: str,
                        request_headers: dict[str, str], delivery_uuid: str) -> Delivery:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO deliveries (uuid, webhook_id, event, url, body, request_headers,"
                " created_at, last_sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery_uuid, webhook_id, event, url, body, json.dumps(request_headers),
                 now, now))
            row = db.execute("SELECT * FROM deliveries WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _delivery(row)

    def record_attempt(self, delivery_id: int, *, attempts: int, status_code: str,
                       response_headers: dict[str, str], response_body: Any, state: str,
                       request_headers: dict[str, str] | None = None) -> None:
        """Keep the latest attempt only: the log shows the last request and response."""
        with self._tx() as db:
            db.execute(
                "UPDATE deliveries SET attempts = ?, status_code = ?, response_headers = ?,"
                " response_body = ?, state = ?, last_sent_at = ?,"
                " request_headers = COALESCE(?, request_headers) WHERE id = ?",
                (attempts, status_code, json.dumps(response_headers), json.dumps(response_body),
                 state, time.time(),
                 None if request_headers is None else json.dumps(request_headers), delivery_id))

    def set_delivery_state(self, delivery_id: int, state: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE deliveries SET state = ? WHERE id = ?", (state, delivery_id))

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)
                                   ).fetchone()
        return None if row is None else _delivery(row)

    def list_deliveries(self, webhook_id: int, offset: int, limit: int,
                        newest_first: bool = True) -> tuple[list[Delivery], int]:
        """By id, newest first unless told; an entry shows once its first attempt has finished
        (or it was given up before one), so its response is always a real outcome (spec
        decision)."""
        where = "webhook_id = ? AND (attempts > 0 OR state != 'pending')"
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM deliveries WHERE {where}",
                                     (webhook_id,)).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM deliveries WHERE {where} ORDER BY id {order} LIMIT ? OFFSET ?",
                (webhook_id, limit, offset)).fetchall() if offset < total else []
        return [_delivery(r) for r in rows], total

    def pending_deliveries(self) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM deliveries WHERE state = 'pending'"
                                    " ORDER BY id").fetchall()
        return [_delivery(r) for r in rows]
