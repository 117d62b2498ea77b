"""Pagination invariants of v1 and v2 lists, written to hold under concurrent writers.

Other tests create and delete webhooks on the same target while a contract pages through
a list, so only what holds within ONE response is checked per page (count = items,
total_pages agrees with total and limit, links agree with the page), plus what the brief
promises across pages and concurrency cannot break: ascending ids (a later page never
repeats or precedes an earlier one). "Each of our webhooks exactly once" can be broken by
a concurrent delete shifting items across a page boundary, so the walk is retried a few
times before a missing webhook counts as a failure.

Links (brief, Room "links-form") may be absolute on another host name or relative, with
their query parameters in any order: a link is judged by its path (resolved against the
request's) and its query parameters as a set, never by host or exact string. A walk never
follows a link: it asks the target (its base URL) for page 1, 2, … itself, so no request
ever goes to a host a link names. Nothing here assumes an empty team or a small total
(Room "foreign-data"): the walk ends at total_pages, bounded by max_pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

LIST_PARAMETERS = frozenset({"page", "limit", "per_page", "enabled"})  # the documented ones


@dataclass(frozen=True)
class PageProblem:
    path: str
    expected: Any
    received: Any
    detail: str


def envelope(body: Any) -> tuple[str, dict[str, Any]] | None:
    """("v2", the body) or ("v1", meta.pagination), or None when it is not a list page."""
    if not isinstance(body, dict):
        return None
    if body.get("object") == "paginated_list":
        return "v2", body
    pagination = (body.get("meta") or {}).get("pagination") if isinstance(
        body.get("meta"), dict) else None
    return ("v1", pagination) if isinstance(pagination, dict) else None


def page_items(body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else []


def page_problems(body: Any, query: Mapping[str, Any],
                  path: str | None = None) -> list[PageProblem]:
    """What is wrong with one page, judged on that page alone and the query that asked.

    `path`: the request's path (e.g. /api/v2/webhooks); links must resolve to it.
    """
    found = envelope(body)
    if found is None:
        return [PageProblem("$", "a v1 or v2 paginated list", body, "not a list page")]
    version, meta = found
    at = "$" if version == "v2" else "$.meta.pagination"
    size_key = "limit" if version == "v2" else "per_page"
    items = page_items(body)
    problems: list[PageProblem] = []

    def expect(key: str, expected: Any, detail: str) -> None:
        if meta.get(key) != expected:
            problems.append(PageProblem(f"{at}.{key}", expected, meta.get(key), detail))

    expect("count", len(items), "count must equal the number of items on the page")
    if size_key in query:
        expect(size_key, int(query[size_key]), f"{size_key} must echo the requested page size")
    expect("current_page", int(query.get("page", 1)), "current_page must be the requested page")
    size, total = meta.get(size_key), meta.get("total")
    if isinstance(size, int) and size > 0 and isinstance(total, int):
        expect("total_pages", max(1, math.ceil(total / size)),
               f"total_pages must be ceil(total / {size_key}), at least 1")
        if len(items) > size:
            problems.append(PageProblem(f"{at}.data", f"at most {size} items", len(items),
                                        f"more items than {size_key}"))
    current, pages = meta.get("current_page"), meta.get("total_pages")
    if isinstance(current, int) and isinstance(pages, int):
        if current > pages and items:
            problems.append(PageProblem("$.data", [], f"{len(items)} items", "page past the end"))
        problems += _link_problems(version, at, meta.get("links"), current, pages, query, path)
    return problems


def _link_problems(version: str, at: str, links: Any, current: int, pages: int,
                   query: Mapping[str, Any], path: str | None) -> list[PageProblem]:
    where = f"{at}.links"
    single = {"v2": None, "v1": []}[version]
    if pages == 1:
        return [] if links == single else [
            PageProblem(where, single, links, "links must be empty on a single page")]
    if not isinstance(links, dict):
        return [PageProblem(where, "an object with next/previous", links,
                            "links must be an object when there are several pages")]
    problems = []
    expected_next = current + 1 if current < pages else None
    expected_previous = current - 1 if 1 < current <= pages else None
    for key, page in (("next", expected_next), ("previous", expected_previous)):
        if current > pages and key == "previous":
            continue  # past the end: where "previous" points is not pinned
        url = links.get(key)
        if page is None:
            if url is not None:
                problems.append(PageProblem(f"{where}.{key}", None, url, f"no {key} page"))
            continue
        # Unknown parameters are ignored by the server, so links need not keep them.
        wanted = {**{k: v for k, v in query.items() if k in LIST_PARAMETERS}, "page": page}
        if not link_points_at(url, wanted, path):
            shown = {k: str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in wanted.items()}
            expected = f"a URL with query {shown}" + (f" (path {path})" if path else "")
            problems.append(PageProblem(f"{where}.{key}", expected, url,
                                        f"{key} must point at page {page}, keeping the query"))
    return problems


def link_points_at(url: Any, wanted: Mapping[str, Any], path: str | None = None) -> bool:
    """Whether a pagination link asks for the `wanted` query (and `path`), in any form.

    Absolute on any host or relative (resolved against `path`); parameters in any order;
    parameters beyond `wanted` allowed; booleans as true/false or 1/0, integers by value.
    """
    if not isinstance(url, str) or not url:
        return False
    base = f"http://request.invalid{path or '/'}"
    resolved = urlsplit(urljoin(base, url))
    if path is not None and resolved.path.rstrip("/") != path.rstrip("/"):
        return False
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(resolved.query, keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return all(len(params.get(name, [])) == 1 and _same_param(params[name][0], value)
               for name, value in wanted.items())


def _same_param(given: str, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return given.lower() in (("true", "1") if wanted else ("false", "0"))
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        return given.isdigit() and int(given) == int(wanted)
    return given == str(wanted)


@dataclass
class Walk:
    """One walk through every page."""

    pages: int = 0
    ids: list[Any] = field(default_factory=list)
    where: dict[Any, list[int]] = field(default_factory=dict)  # id -> pages it was seen on


def walk(fetch: Callable[[int], Any], max_pages: int) -> Walk:
    """Fetch page 1, 2, … until the last one, at most `max_pages` (fetch checks each page)."""
    result = Walk()
    page = 1
    while True:
        body = fetch(page)
        result.pages = page
        for item in page_items(body):
            item_id = item.get("id") if isinstance(item, dict) else None
            result.ids.append(item_id)
            result.where.setdefault(item_id, []).append(page)
        found = envelope(body)
        total_pages = found[1].get("total_pages") if found else None
        if not page_items(body) or not isinstance(total_pages, int) or page >= total_pages:
            return result
        if page >= max_pages:
            raise OverflowError(f"more than max_pages={max_pages} pages")
        page += 1


def order_problem(ids: list[Any]) -> PageProblem | None:
    """The brief promises ascending ids across the whole walk: no repeat, no step back."""
    for before, after in zip(ids, ids[1:], strict=False):
        if not (isinstance(before, int) and isinstance(after, int) and after > before):
            return PageProblem("$.data[*].id", "strictly ascending ids across pages",
                               f"{before} then {after}", "ids out of order or repeated")
    return None
