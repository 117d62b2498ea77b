"""Pages: the query (page, limit/per_page) and the v1 and v2 list envelopes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.responses import invalid, route_not_found, settings_of
from reference_server.validation import query_int

MAX_PAGE_SIZE = 100
V1_DEFAULT_PER_PAGE = 25
V2_DEFAULT_LIMIT = 25  # not part of the contract (the `default-page-size-7` variant varies it)
MAX_INT32 = 2**31 - 1  # room "page-range": a page beyond it may be refused or be past the end
OTHER_HOST = "https://api.internal.invalid"  # `other-host-links`: reserved, never resolves


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int
    overlap: int = 0  # 1 only for the pagination-off-by-one fault

    @property
    def offset(self) -> int:
        return max(0, (self.page - 1) * self.size - self.overlap)


def page_request(request: Request, size_param: str, default_size: int) -> PageRequest:
    settings = settings_of(request)
    page = query_int(request, "page", 1, 1)
    if page > MAX_INT32 and settings.has_variant("page-beyond-int32-refused"):
        raise invalid({"page": [f"The page must not be greater than {MAX_INT32}."]})
    low, high = 1, MAX_PAGE_SIZE
    if size_param == "limit" and settings.has_fault("v2-limit-out-of-range-accepted"):
        low, high = 0, None
    size = min(max(query_int(request, size_param, default_size, low, high), 1), MAX_PAGE_SIZE)
    return PageRequest(page, size, overlap=int(settings.has_fault("pagination-off-by-one")))


def v2_default_limit(settings: Settings) -> int:
    return 7 if settings.has_variant("default-page-size-7") else V2_DEFAULT_LIMIT


def _total_pages(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def _neighbours(request: Request, page: int, total_pages: int,
                keep_query: bool = True) -> tuple[str | None, str | None]:
    """URLs of the next and previous pages, keeping the rest of the query."""
    step = 0 if settings_of(request).has_fault("links-next-same-page") else 1

    def url(number: int) -> str:
        if not keep_query:  # the v2-links-drop-query fault
            return str(request.url.replace(query=f"page={number}"))
        return _link_form(request, str(request.url.include_query_params(page=number)))

    following = url(page + step) if page < total_pages else None
    previous = url(min(page - 1, total_pages)) if page > 1 else None
    return following, previous


def _link_form(request: Request, absolute: str) -> str:
    """Room "links-form": links may be relative or on another host name, their query in any
    order. Clean: absolute on the request's own origin, the query as the client sent it."""
    settings = settings_of(request)
    relative, other_host = (settings.has_variant("relative-links"),
                            settings.has_variant("other-host-links"))
    if not (relative or other_host):
        return absolute
    link = urlsplit(absolute)
    query = urlencode(sorted(parse_qsl(link.query, keep_blank_values=True), reverse=True))
    path_and_query = f"{link.path}?{query}"
    return path_and_query if relative else OTHER_HOST + path_and_query


def v2_list(request: Request, settings: Settings, data: list[Any], total: int,
            req: PageRequest) -> dict[str, Any]:
    pages = _total_pages(total, req.size)
    if req.page > pages and settings.has_fault("v2-page-past-end-404"):
        raise route_not_found()
    links: dict[str, str | None] | None = None
    if pages > 1:
        following, previous = _neighbours(request, req.page, pages,
                                          not settings.has_fault("v2-links-drop-query"))
        links = {"next": following, "previous": previous}
    elif settings.has_fault("v2-links-not-null-on-single-page"):
        links = {"next": None, "previous": None}
    count = total if settings.has_fault("v2-count-is-total") else len(data)
    return {"object": "paginated_list", "data": data, "total": total, "count": count,
            "limit": req.size, "current_page": req.page, "total_pages": pages, "links": links}


def v1_list(request: Request, settings: Settings, data: list[Any], total: int,
            req: PageRequest) -> dict[str, Any]:
    pages = _total_pages(total, req.size)
    links: dict[str, str] | list[Any] = []
    if pages > 1:
        following, previous = _neighbours(request, req.page, pages)
        links = {k: v for k, v in (("next", following), ("previous", previous)) if v}
    elif settings.has_fault("v1-links-object-on-single-page"):
        links = {}
    if settings.has_fault("v1-total-pages-off-by-one"):
        pages += 1
    pagination = {"total": total, "count": len(data), "per_page": req.size,
                  "current_page": req.page, "total_pages": pages, "links": links}
    return {"data": data, "meta": {"pagination": pagination}}
