"""A tiny in-memory v2 webhooks API on httpx.MockTransport, for engine tests without a server.

Enough of the brief for the steps, page walks and failure output to be exercised
(create/retrieve/patch/delete/list with pagination, 401, 404), with a few switchable
faults. The real reference server is used by the end-to-end tests instead.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from contract_suite.core.http import ApiClient
from contract_suite.core.target import Target

TOKEN = "fake-token-abcdef-0123456789"
SECRET = "fake-secret-0123456789abcdef0123456789abcdef"
STAMP = "2024-01-02T03:04:05Z"
_RATE = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "999"}


@dataclass
class FakeApi:
    faults: set[str] = field(default_factory=set)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(401, {"error": "Unauthenticated."})
        path = request.url.path
        if path == "/api/v2/webhooks" and request.method == "POST":
            body = json.loads(request.content)
            hook = {"object": "webhook", "id": next(self.ids), "uuid": str(uuid.uuid4()),
                    "url": body["url"], "secret": SECRET, "events": body["events"],
                    "is_enabled": body.get("is_enabled", True),
                    "created_at": STAMP.replace("Z", "+00:00")
                    if "offset-timestamps" in self.faults else STAMP,
                    "updated_at": STAMP}
            self.webhooks[hook["id"]] = hook
            return _json(201, hook)
        if path == "/api/v2/webhooks" and request.method == "GET":
            return self._list(request)
        if path == "/api/v2/webhooks":
            return _json(405, {"error": "Method Not Allowed."})
        match = re.fullmatch(r"/api/v2/webhooks/(\d+)", path)
        hook = self.webhooks.get(int(match.group(1))) if match else None
        if hook is None:
            return _json(404, {"error": "Webhook not found"})
        if request.method == "GET":
            return _json(200, hook)
        if request.method == "PATCH":
            changed = {**hook, **json.loads(request.content)}
            if "patch-not-stored" not in self.faults:
                self.webhooks[hook["id"]] = changed
            return _json(200, changed)
        if request.method == "DELETE":
            del self.webhooks[hook["id"]]
            return httpx.Response(204, headers=_RATE)
        return _json(405, {"error": "Method Not Allowed."})

    def _list(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", 25))
        page = int(request.url.params.get("page", 1))
        hooks = sorted(self.webhooks.values(), key=lambda h: h["id"])
        data = hooks[(page - 1) * limit: page * limit]
        pages = max(1, math.ceil(len(hooks) / limit))
        links = None if pages == 1 else {
            "next": f"http://fake/api/v2/webhooks?page={page + 1}&limit={limit}"
            if page < pages else None,
            "previous": f"http://fake/api/v2/webhooks?page={page - 1}&limit={limit}"
            if page > 1 else None,
        }
        count = len(hooks) if "count-is-total" in self.faults else len(data)
        return _json(200, {"object": "paginated_list", "data": data, "total": len(hooks),
                           "count": count, "limit": limit, "current_page": page,
                           "total_pages": pages, "links": links})


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, headers=_RATE)


@dataclass
class FakeSession:
    """What the collector needs from a SuiteSession: target, api, sandbox."""

    target: Target
    api: ApiClient
    sandbox: dict[str, Any] | None = None


def fake_session(*faults: str) -> tuple[FakeSession, FakeApi]:
    fake = FakeApi(faults=set(faults))
    target = Target(base_url="http://fake", token=TOKEN, run_id="run12345")
    api = ApiClient(target, transport=httpx.MockTransport(fake.handle))
    return FakeSession(target, api), fake
